#!/usr/bin/env bash
# Coverage-guided fuzzing of every codec decoder: libFuzzer with ASan and
# UBSan (clang), one target per family listed in tests/fuzz/families.
#
#   tests/fuzz/run.sh [--seconds-per-target N]
#
# For each family, in turn (one fuzzer at a time): write its seed corpus
# (fuzz_seeds), replay every input in tests/fuzz/regressions/<family>/
# once, then fuzz for N seconds from the seeds and the corpus kept in
# build-fuzz/corpus/<family>/.  Without --seconds-per-target, N is 20,
# less when there are more than seven families so that the fuzzing stays
# within 150 s in all (at least 5 s a target); with the build and the
# seeds the phase then takes about three minutes on two cores.
#
# A target fails on any crash, over-read, leak, undefined behaviour,
# timeout or codec contract violation (fuzz_host.h); the input is saved
# in build-fuzz/artifacts/<family>/ and named in the output.  Keep it as
# tests/fuzz/regressions/<family>/<what-it-is> once the codec is fixed.
# The last line is "N passed, N failed" (targets); the exit status is
# non-zero when any target failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
source scripts/lib.sh

usage() { sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

SECS=
while (($#)); do
    case $1 in
    --seconds-per-target) SECS=${2:-}; shift 2 || { usage >&2; exit 2; } ;;
    --seconds-per-target=*) SECS=${1#*=}; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
if [[ -n $SECS && ! $SECS =~ ^[1-9][0-9]*$ ]]; then
    echo "run.sh: --seconds-per-target wants a whole number of seconds > 0" >&2
    exit 2
fi

B=$PWD/build-fuzz
FUZZ=tests/fuzz
mapfile -t families < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' -e '/^$/d' "$FUZZ/families")
if ((${#families[@]} == 0)); then
    echo "run.sh: no families in $FUZZ/families" >&2
    exit 2
fi
unlisted=()
for d in codecs/*/; do
    n=$(basename "$d")
    [[ -f $d/$n.c && " ${families[*]} " != *" $n "* ]] && unlisted+=("$n")
done
if ((${#unlisted[@]})); then
    echo "fuzz: not fuzzed (not in $FUZZ/families): ${unlisted[*]}"
fi
if [[ -z $SECS ]]; then
    SECS=$((150 / ${#families[@]}))
    ((SECS > 20)) && SECS=20
    ((SECS < 5)) && SECS=5
fi

apt_ensure clang-14 libclang-rt-14-dev llvm-14 make || exit 1
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-14/bin/llvm-symbolizer}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "fuzz: building in $B"
mkdir -p "$B/logs"
if ! make -C "$FUZZ" -s -j "${PSQLPY_JOBS:-2}" B="$B" >"$B/logs/build.log" 2>&1; then
    cat "$B/logs/build.log"
    echo "run.sh: the fuzz build failed"
    echo "0 passed, ${#families[@]} failed"
    exit 1
fi

# fuzz_one FAMILY: seeds, regressions, then N seconds of fuzzing.
fuzz_one() {
    local f=$1 log=$B/logs/$1.log bin=$B/fuzz_$1 regs=()
    rm -rf "$B/seeds/$f" "$B/artifacts/$f"
    mkdir -p "$B/seeds" "$B/corpus/$f" "$B/artifacts/$f"
    "$B/fuzz_seeds" "$f" "$B/seeds/$f" >"$log" 2>&1 || return 1
    if [[ -d $FUZZ/regressions/$f ]]; then
        mapfile -t regs < <(find "$FUZZ/regressions/$f" -type f | sort)
    fi
    if ((${#regs[@]})); then
        "$bin" -artifact_prefix="$B/artifacts/$f/" "${regs[@]}" >>"$log" 2>&1 || return 1
    fi
    "$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$B/artifacts/$f/" "$B/corpus/$f" "$B/seeds/$f" >>"$log" 2>&1
}

passed=0 failed=0
for f in "${families[@]}"; do
    t0=$(now)
    if fuzz_one "$f"; then
        passed=$((passed + 1))
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/logs/$f.log")
        cov=$(grep -o 'DONE *cov: [0-9]*' "$B/logs/$f.log" | grep -o '[0-9]*$')
        printf 'fuzz_%-12s ok      %4ss  %s runs, %s edges\n' "$f" "$(($(now) - t0))" \
            "${execs:-?}" "${cov:-?}"
    else
        failed=$((failed + 1))
        printf 'fuzz_%-12s FAILED  %4ss  (log: %s)\n' "$f" "$(($(now) - t0))" "$B/logs/$f.log"
        grep -E -A 30 '^fuzz(_seeds)?: |ERROR: |runtime error' "$B/logs/$f.log" | head -60
        for a in "$B/artifacts/$f"/*; do
            [[ -f $a ]] || continue
            echo "  input: $a"
            echo "  replay: $B/fuzz_$f $a"
            echo "  keep it (after the fix): cp $a $FUZZ/regressions/$f/<what-it-is>"
        done
    fi
done
echo "$passed passed, $failed failed"
((failed == 0))
