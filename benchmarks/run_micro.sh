#!/usr/bin/env bash
# Build and run the Google Benchmark micro-benchmarks (benchmarks/micro/),
# write one JSON file and print a compact table.  No server, no Python
# package needed (python3 only formats the table).
#
#   bash benchmarks/run_micro.sh [--short] [--build DIR] [--out DIR] [--filter REGEX]
#
#   --short         tiny --benchmark_min_time, one repetition (CI; < 1 min)
#                   default: 0.5 s per benchmark, 3 repetitions, medians
#   --build DIR     CMake build directory (default build-bench/, git-ignored)
#   --out DIR       where micro.json goes (default <build>/micro/)
#   --filter REGEX  passed to --benchmark_filter (e.g. 'codec/decode')
#
# Exit status non-zero when the build, a benchmark program or a benchmark
# fails.  PSQLPY_JOBS sets the build parallelism (default 2).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

short=0
build=build-bench
out=
filter=
while (($#)); do
    case $1 in
    --short) short=1 ;;
    --build) build=${2:?--build needs a directory}; shift ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --filter) filter=${2:?--filter needs a regex}; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "run_micro.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
out=${out:-$build/micro}

t0=$SECONDS
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPGD_BUILD_BENCHMARKS=ON \
      -DPGD_BUILD_TESTS=OFF -DPGD_BUILD_PYEXT=OFF >/dev/null
cmake --build "$build" -j "${PSQLPY_JOBS:-2}" >/dev/null

if ((short)); then
    args=(--benchmark_min_time=0.01)
else
    args=(--benchmark_min_time=0.5 --benchmark_repetitions=3
          --benchmark_report_aggregates_only=true)
fi
report_args=()
if [[ -n $filter ]]; then
    args+=("--benchmark_filter=$filter")
    report_args+=(--allow-empty)   # programs with no matching case
fi

rm -rf "$out/parts"
mkdir -p "$out/parts"
progs=()
while IFS= read -r p; do
    [[ -n $p ]] && progs+=("$p")
done <"$build/benchmarks/micro-programs.txt"
if ((${#progs[@]} == 0)); then
    echo "run_micro.sh: no benchmark programs listed in $build/benchmarks" >&2
    exit 1
fi

rc=0
parts=()
for p in "${progs[@]}"; do
    name=$(basename "$p")
    echo "running $name" >&2
    # the console report goes to a side file; the table below sums it up
    if ! "$p" "${args[@]}" --benchmark_out="$out/parts/$name.json" \
            --benchmark_out_format=json >"$out/parts/$name.txt" 2>&1; then
        echo "run_micro.sh: $name failed:" >&2
        tail -n 20 "$out/parts/$name.txt" >&2
        rc=1
    fi
    parts+=("$out/parts/$name.json")
done

python3 benchmarks/micro/report.py "${report_args[@]}" "$out/micro.json" "${parts[@]}" || rc=1
echo "micro-benchmarks: $((SECONDS - t0)) s" >&2
exit $rc
