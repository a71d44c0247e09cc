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
#   py3.13       a venv of Python 3.13 (.venv-3.13, with the test extras) and
#                tests/py in it on the asyncio loop
#   py3.12       a venv of Python 3.12 (.venv-3.12, psqlpy alone) and
#                tests/py/smoke.py in it (import, queries on the cluster)
#                Their interpreters come from pyenv (`pyenv root`), else from
#                python3.13 / python3.12 on PATH; a missing one fails its phase.
#   diff-013     tests/differential/run.py: the same psqlpy 0.13 API calls through
#                psqlpy 0.13.1 from PyPI (its own cached venv) and through ours,
#                compared step by step (see the "differential check" block)
#   bench/load   benchmarks/run_micro.sh --short, benchmarks/run_compare.sh --short
#                --require-all, loadtest/ci.sh (run.sh --short and
#                its unit tests), when present
#   docs         mkdocs build --strict: the documentation site and API reference
#
# Every phase runs even after an earlier one failed (except when set-up or
# the cluster fails); a summary with timings closes the output, and the exit
# status is non-zero when anything failed.  Test reports are written to
# build/reports/: JUnit XML (ctest, pytest, the load-test tools' tests), the
# output of the phases that print their own counts (NAME.log) and the
# benchmarks' results (micro/, compare/); the summary counts them all.
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
    # test counts: every suite that ran and left its report in build/reports
    python3 - "$REPORTS" <<'EOF'
import glob, json, os, re, sys
reports = sys.argv[1]
total = [0, 0, 0]        # passed, failed, skipped


def line(what, p, f, s=0):
    print(f"  {what:<34} {p} passed, {f} failed, {s} skipped")
    total[0] += p
    total[1] += f
    total[2] += s


def read(name):
    try:
        with open(os.path.join(reports, name), encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


# JUnit XML: ctest, pytest, the load-test tools' and dashboard checks' tests
import xml.etree.ElementTree as ET
for path in sorted(glob.glob(os.path.join(reports, "*.xml"))):
    p = f = s = 0
    try:
        cases = list(ET.parse(path).iter("testcase"))
    except ET.ParseError:             # a run killed while writing its report
        line(os.path.basename(path) + " (unreadable)", 0, 1)
        continue
    for case in cases:
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            f += 1
        elif "skipped" in tags or case.get("status") in ("notrun", "disabled"):
            s += 1
        else:
            p += 1
    line(os.path.basename(path), p, f, s)

# tests/fuzz/run.sh: its last line is "N passed, N failed" (one per target)
text = read("fuzz.log")
if text is not None:
    m = re.findall(r"^(\d+) passed, (\d+) failed$", text, re.M)
    if m:
        line("fuzz targets", int(m[-1][0]), int(m[-1][1]))
    else:
        line("fuzz targets (no count printed)", 0, 1)

# loadtest/ci.sh: the dashboard checks against the run ("grafana checks: ...")
text = read("loadtest-short.log")
if text is not None:
    m = re.findall(r"grafana checks: (\d+) passed, (\d+) failed", text)
    if m:
        line("dashboard checks (grafana/check)", sum(int(a) for a, _ in m),
             sum(int(b) for _, b in m))

# benchmarks/run_compare.sh --short: the runner's unit tests (unittest), then
# every measured round of every driver and of pgbench
text = read("bench-short.log")
if text is not None:
    ran = re.findall(r"^Ran (\d+) tests? in ", text, re.M)
    if ran:
        bad = re.search(r"^FAILED \((.*)\)$", text, re.M)
        f = sum(int(n) for n in re.findall(r"(?:failures|errors)=(\d+)", bad.group(1))) if bad else 0
        line("compare unit tests", int(ran[-1]) - f, f)
text = read("compare/results.json")
if text is not None:
    doc = json.loads(text)
    rounds = [r for res in doc.get("results", []) + doc.get("pgbench", [])
              for r in res.get("rounds", [])]
    ok = sum(r.get("status") == "ok" for r in rounds)
    line("compare runs (measured rounds)", ok, len(rounds) - ok)

# benchmarks/run_micro.sh --short: every Google Benchmark case
text = read("micro/micro.json")
if text is not None:
    rows = json.loads(text).get("benchmarks", [])
    bad = sum(bool(b.get("error_occurred")) for b in rows)
    line("micro-benchmark cases", len(rows) - bad, bad)

print(f"tests: {total[0]} passed, {total[1]} failed, {total[2]} skipped")
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
# logged NAME CMD...: run CMD with its output also kept in build/reports/NAME.log,
# where the summary finds the counts the command prints.
logged() {
    local name=$1
    shift
    "$@" 2>&1 | tee "$REPORTS/$name.log"
}
run_phase fuzz logged fuzz bash tests/fuzz/run.sh

# ==== wheels and sdist ===============================================================
#   dist-wheel   scripts/build-wheels.sh --python 3.11,3.13 --out build/dist: the sdist
#                and, from it alone, a manylinux wheel for each Python whose whole
#                suite runs below (private jemalloc linked in, libpq
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
    rm -rf "$DIST" && bash scripts/build-wheels.sh --python 3.11,3.13 --out "$DIST"
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
py_test() {   # LOOP [PYTHON REPORT-SUFFIX]
    local py=${2:-$VPY} report=pytest-$1${3:+-$3}
    PSQLPY_EXPECT_ALLOCATOR=jemalloc PSQLPY_TEST_LOOP=$1 "$py" -m pytest tests/py -q \
        --junitxml="$REPORTS/$report.xml"
}
run_phase pytest-asyncio py_test asyncio
run_phase pytest-uvloop py_test uvloop

# ---- Python: the other supported versions ------------------------------------------
# find_python X.Y: print the newest pyenv interpreter of version X.Y (not a
# free-threaded "t" build), else pythonX.Y from PATH; fail when there is none.
find_python() {
    local root py=
    if root=$(pyenv root 2>/dev/null) && [[ -d "$root/versions" ]]; then
        py=$(find "$root/versions" -mindepth 3 -maxdepth 3 -path "*/versions/$1.*/bin/python" |
             grep -E "/versions/${1//./\\.}\.[0-9]+/bin/python\$" | sort -V | tail -n 1)
    fi
    [[ -n "$py" ]] || py=$(command -v "python$1") || py=
    if [[ -z "$py" ]]; then
        echo "no Python $1: neither \$(pyenv root)/versions/$1.*/bin/python nor python$1 on PATH" >&2
        return 1
    fi
    echo "$py"
}
# setup_python X.Y EXTRAS: its own venv, .venv-X.Y, by scripts/setup.sh
setup_python() {
    local py
    py=$(find_python "$1") || return 1
    PSQLPY_PYTHON=$py PSQLPY_VENV=.venv-$1 PSQLPY_EXTRAS=$2 bash scripts/setup.sh
}
if run_phase setup-py3.13 setup_python 3.13 test; then
    run_phase pytest-py3.13 py_test asyncio "$PWD/.venv-3.13/bin/python" py3.13
fi
if run_phase setup-py3.12 setup_python 3.12 ""; then
    run_phase smoke-py3.12 "$PWD/.venv-3.12/bin/python" tests/py/smoke.py
fi

# ==== differential check against psqlpy 0.13.1 =======================================
#   diff-013     tests/differential/run.py runs tests/differential/scenario.py under
#                psqlpy 0.13.1 (a venv of its own in ~/.cache/psqlpy-diff, created once
#                with pip; $PSQLPY_DIFF_CACHE moves it) and under ours (.venv) on this
#                run's cluster, and compares the outcomes step by step.  It fails on a
#                difference not listed as expected in run.py, and on an expected one
#                that no longer occurs.  One JUnit testcase per step.
diff_013() {
    "$VPY" tests/differential/run.py --dsn "$PSQLPY_TEST_DSN" \
        --ours-python "$VPY" --junit "$REPORTS/diff-013.xml"
}
run_phase diff-013 diff_013
# ==== end of differential check ======================================================

# ---- the other parts' short runs, where they exist ---------------------------------
if [[ -f benchmarks/run_micro.sh ]]; then
    run_phase bench-micro bash benchmarks/run_micro.sh --short --out "$REPORTS/micro"
else
    not_run bench-micro "no benchmarks/run_micro.sh"
fi
if [[ -f benchmarks/run_compare.sh ]]; then
    run_phase bench-short logged bench-short \
        bash benchmarks/run_compare.sh --short --require-all --out "$REPORTS/compare"
else
    not_run bench-short "no benchmarks/run_compare.sh"
fi
# loadtest/ci.sh is that part's CI job: run.sh --short plus its unit tests
# and the Grafana checks; plain run.sh --short where there is no ci.sh.
if [[ -f loadtest/ci.sh ]]; then
    # its pytest run (the tools' and the dashboard checks' unit tests) writes JUnit XML
    PYTEST_ADDOPTS="--junitxml=$REPORTS/loadtest-and-grafana-tests.xml" \
        run_phase loadtest-short logged loadtest-short bash loadtest/ci.sh
elif [[ -f loadtest/run.sh ]]; then
    run_phase loadtest-short bash loadtest/run.sh --short
else
    not_run loadtest-short "no loadtest/run.sh"
fi

# ---- docs: the documentation site, warnings as errors ------------------------------
# mkdocs.yml; the tools come with `pip install .[docs]` (scripts/setup.sh).
# The API reference is read from pyext/psqlpy and its stubs, not imported.
docs_build() {
    "$PWD/.venv/bin/mkdocs" build --strict --site-dir "$PWD/build/site"
}
run_phase docs docs_build
# ---- end of docs ----------------------------------------------------------------------
