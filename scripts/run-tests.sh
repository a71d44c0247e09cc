#!/usr/bin/env bash
# psqlpy's test command: everything CI runs, from a fresh Debian 12 machine.
#
#   setup        scripts/setup.sh (Debian packages, .venv, pip install .[test])
#   cluster      one throwaway PostgreSQL for the whole run (tests/py/pgcluster.py),
#                unless PSQLPY_TEST_DSN is set; exported as PSQLPY_TEST_DSN
#   c-build      CMake build with the C tests in build/, then ctest
#   asan-build   the same with -DPGD_SANITIZE=ON (ASan + UBSan) in build-asan/, then ctest
#   fuzz         tests/fuzz/run.sh: libFuzzer (clang, ASan + UBSan) on every codec decoder
#   dist-wheel, dist-sdist   the sdist and a release wheel, installed into fresh
#                venvs (see the "wheels and sdist" block)
#   pytest       tests/py on the default asyncio loop, then again on uvloop
#   bench/load   benchmarks/run_micro.sh --short, benchmarks/run_compare.sh --short
#                --require-all, loadtest/ci.sh (run.sh --short and
#                its unit tests), when present
#
# Every phase runs even after an earlier one failed (except when set-up or
# the cluster fails); a summary with timings closes the output, and the exit
# status is non-zero when anything failed.  Test reports (JUnit XML) are
# written to build/reports/.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

JOBS=${PSQLPY_JOBS:-2}
REPORTS=$PWD/build/reports
VPY=$PWD/.venv/bin/python
T_START=$(now)

results=()   # "phase|status|seconds"
failures=0

# run_phase NAME CMD...: run CMD, record its status and duration.
run_phase() {
    local name=$1 t0 rc=0
    shift
    t0=$(now)
    printf '\n==== %s\n' "$name"
    "$@" || rc=$?
    if ((rc == 0)); then
        results+=("$name|ok|$(($(now) - t0))")
    else
        results+=("$name|FAILED (exit $rc)|$(($(now) - t0))")
        failures=$((failures + 1))
    fi
    return $rc
}

# not_run NAME WHY: a phase whose part is not in this tree.
not_run() {
    printf '\n==== %s: not run: %s\n' "$1" "$2"
    results+=("$1|not run: $2|0")
}

summary() {
    printf '\n==== summary (%ss in all)\n' "$(($(now) - T_START))"
    local r
    for r in "${results[@]}"; do
        IFS='|' read -r name status secs <<<"$r"
        printf '  %-16s %5ss  %s\n' "$name" "$secs" "$status"
    done
    if ((failures)); then echo "run-tests: $failures phase(s) FAILED"
    else echo "run-tests: no phase failed"; fi
    # test counts from the JUnit reports of this run
    python3 - "$REPORTS" <<'EOF'
import glob, os, sys
import xml.etree.ElementTree as ET
passed = failed = skipped = 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.xml"))):
    p = f = s = 0
    for case in ET.parse(path).iter("testcase"):
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            f += 1
        elif "skipped" in tags or case.get("status") in ("notrun", "disabled"):
            s += 1
        else:
            p += 1
    print(f"  {os.path.basename(path):<28} {p} passed, {f} failed, {s} skipped")
    passed, failed, skipped = passed + p, failed + f, skipped + s
print(f"tests: {passed} passed, {failed} failed, {skipped} skipped")
EOF
}

finish() {
    local rc=$?
    cluster_stop >/dev/null 2>&1
    summary
    ((failures)) && exit 1
    exit $rc
}
trap finish EXIT
trap 'exit 130' INT TERM

# ---- set-up and the server --------------------------------------------------
rm -rf "$REPORTS"
run_phase setup bash scripts/setup.sh || exit 1
mkdir -p "$REPORTS"
run_phase cluster cluster_start || exit 1

# ---- C: plain build and sanitizer build -------------------------------------------
c_build() {   # DIR CMAKE-ARGS...
    local dir=$1
    shift
    cmake -S . -B "$dir" -DPGD_BUILD_TESTS=ON -DPGD_BUILD_PYEXT=OFF \
          -DPGD_BUILD_BENCHMARKS=OFF "$@" &&
        cmake --build "$dir" -j "$JOBS"
}
c_test() {    # DIR REPORT-NAME
    ctest --test-dir "$1" --output-on-failure --no-tests=error -j "$JOBS" --timeout 300 \
          --output-junit "$REPORTS/$2.xml"
}

if run_phase c-build c_build build; then
    run_phase ctest c_test build ctest
fi
if run_phase asan-build c_build build-asan -DPGD_SANITIZE=ON; then
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        run_phase ctest-asan c_test build-asan ctest-asan
fi
run_phase fuzz bash tests/fuzz/run.sh

# ==== wheels and sdist ===============================================================
#   dist-wheel   scripts/build-wheels.sh --python 3.11 --out build/dist: the sdist and,
#                from it alone, one manylinux wheel (private jemalloc linked in, libpq
#                and its libraries inside, auditwheel), checked in a fresh venv.
#                PSQLPY_TEST_WHEEL then names build/dist, and tests/py/test_dist.py
#                (in the pytest phases below) installs the wheel into a fresh venv and
#                runs a query with the system libpq hidden; under CI it fails without.
#   dist-sdist   the sdist alone into a fresh venv, as a user without the private
#                jemalloc gets it: the build must say it uses the system allocator and
#                must not need jemalloc's headers (hidden in a mount namespace); then
#                a query (tests/py/tools/dist_smoke.py).
DIST=$PWD/build/dist
dist_wheel() {
    rm -rf "$DIST" && bash scripts/build-wheels.sh --python 3.11 --out "$DIST"
}
dist_sdist() {
    local venv=$DIST/sdist-venv log=$DIST/logs/sdist-install.log sdist empty rc=0
    sdist=$(ls "$DIST"/psqlpy-*.tar.gz) || return 1
    python3 -m venv --clear "$venv" || return 1
    empty=$(mktemp -d)
    echo "pip install $(basename "$sdist") (log: $log)"
    env -u PGD_JEMALLOC_ROOT CMAKE_BUILD_PARALLEL_LEVEL="$JOBS" \
        unshare -m --propagation private sh -c \
        'if [ -d /usr/include/jemalloc ]; then mount --bind "$0" /usr/include/jemalloc || exit 97; fi
         exec "$@"' "$empty" \
        "$venv/bin/python" -m pip install -v --no-cache-dir "$sdist" </dev/null >"$log" 2>&1 || rc=$?
    rmdir "$empty"
    if ((rc)); then tail -n 30 "$log"; return $rc; fi
    grep -F 'psqlpy: allocator:' "$log" | sed 's/^ *//'
    grep -q 'psqlpy: allocator: system malloc' "$log" || {
        echo "the sdist build did not say it uses the system allocator"; return 1; }
    (cd "$DIST" && "$venv/bin/python" "$OLDPWD/tests/py/tools/dist_smoke.py" \
                       --dsn "$PSQLPY_TEST_DSN" --allocator system)
}
if run_phase dist-wheel dist_wheel; then
    export PSQLPY_TEST_WHEEL=$DIST
fi
run_phase dist-sdist dist_sdist
# ==== end of wheels and sdist ========================================================

# ---- Python: the installed package, on asyncio and on uvloop ------------------------
# pytest's exit status 5 (no tests collected) counts as a failure like any other.
py_test() {   # LOOP
    PSQLPY_EXPECT_ALLOCATOR=jemalloc PSQLPY_TEST_LOOP=$1 "$VPY" -m pytest tests/py -q --junitxml="$REPORTS/pytest-$1.xml"
}
run_phase pytest-asyncio py_test asyncio
run_phase pytest-uvloop py_test uvloop

# ---- the other parts' short runs, where they exist ---------------------------------
if [[ -f benchmarks/run_micro.sh ]]; then
    run_phase bench-micro bash benchmarks/run_micro.sh --short
else
    not_run bench-micro "no benchmarks/run_micro.sh"
fi
if [[ -f benchmarks/run_compare.sh ]]; then
    run_phase bench-short bash benchmarks/run_compare.sh --short --require-all
else
    not_run bench-short "no benchmarks/run_compare.sh"
fi
# loadtest/ci.sh is that part's CI job: run.sh --short plus its unit tests
# and the Grafana checks; plain run.sh --short where there is no ci.sh.
if [[ -f loadtest/ci.sh ]]; then
    run_phase loadtest-short bash loadtest/ci.sh
elif [[ -f loadtest/run.sh ]]; then
    run_phase loadtest-short bash loadtest/run.sh --short
else
    not_run loadtest-short "no loadtest/run.sh"
fi
