#!/usr/bin/env bash
# The load-test stack's CI job: a short end-to-end comparison of all four
# drivers, with and without added latency, including the Grafana dashboard
# checks against that run (--require-all: fails unless every driver served
# every endpoint), then the unit tests of the runner and the checks.
#
#   bash loadtest/ci.sh            (OUT=DIR keeps the report somewhere known)
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
out=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/psqlpy-loadtest-ci.XXXXXX")}
t0=$(date +%s)
bash "$here/run.sh" --short --netem-ms 5 --require-all --out "$out"
run_rc=$?
t1=$(date +%s)
echo "loadtest ci: end-to-end run took $((t1 - t0)) s (exit $run_rc); report in $out/report.md"
cd "$repo"
"$here/.venv-tools/bin/python" -m pytest -q -p no:cacheprovider loadtest/tests grafana/tests
test_rc=$?
echo "loadtest ci: total $(( $(date +%s) - t0 )) s"
(( run_rc == 0 && test_rc == 0 ))
