#!/usr/bin/env bash
# Driver comparison benchmark: this project's psqlpy vs asyncpg, psycopg 3 (C)
# and the Rust psqlpy from PyPI, with pgbench as the C-client limit.
#
#   bash benchmarks/run_compare.sh [--short] [--out DIR] [--concurrency N]
#        [--duration S] [--warmup S] [--rounds R] [--drivers a,b] [--workloads x,y]
#        [--loops uvloop,asyncio] [--require-all] [--no-pgbench]
#
# Prepares the interpreters, then runs benchmarks/compare/run.py (all options
# are its options; `--help` lists them). Virtual environments are cached
# outside the repository, keyed by their requirements file and the Python
# version:
#   $PSQLPY_BENCH_CACHE (default ~/.cache/psqlpy-bench)/peers-<key>  asyncpg, psycopg, uvloop, matplotlib
#   $PSQLPY_BENCH_CACHE/rust-<key>                                   the Rust psqlpy, uvloop
# Our psqlpy runs under the repository's .venv (scripts/setup.sh installs it
# there); override with PSQLPY_BENCH_OURS_PYTHON. Uses its own throwaway
# PostgreSQL unless PSQLPY_BENCH_DSN is set. With CI=true, --require-all is
# implied.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/benchmarks/compare"
CACHE=${PSQLPY_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/psqlpy-bench}
BASE_PY=${PSQLPY_BENCH_BASE_PYTHON:-python3}

log() { printf 'run_compare: %s\n' "$*" >&2; }

if ! "$BASE_PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    log "$BASE_PY must be Python 3.11 or newer (set PSQLPY_BENCH_BASE_PYTHON)"
    exit 2
fi
PYVER=$("$BASE_PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# ensure_venv NAME REQUIREMENTS -> prints the venv's python
ensure_venv() {
    local name=$1 req=$2 key dir
    key=$( { cat "$req"; echo "$PYVER"; } | sha256sum | cut -c1-12)
    dir="$CACHE/$name-py$PYVER-$key"
    if [[ ! -f "$dir/.complete" ]]; then
        # .complete is written last: an interrupted build is redone next time.
        log "creating $dir (once; later runs reuse it)"
        mkdir -p "$CACHE"
        rm -rf "$dir"
        "$BASE_PY" -m venv "$dir"
        if ! "$dir/bin/python" -m pip install -q --disable-pip-version-check -r "$req" \
                >"$dir/pip.log" 2>&1; then
            cat "$dir/pip.log" >&2
            log "pip install -r $req failed"
            return 1
        fi
        touch "$dir/.complete"
    fi
    echo "$dir/bin/python"
}

PEERS_PY=$(ensure_venv peers "$HERE/requirements-peers.txt")
RUST_PY=$(ensure_venv rust "$HERE/requirements-rust.txt")

OURS_PY=${PSQLPY_BENCH_OURS_PYTHON:-$ROOT/.venv/bin/python}
extra=()
if [[ ! -x "$OURS_PY" ]]; then
    extra+=(--unavailable "psqlpy=no interpreter at $OURS_PY (run scripts/setup.sh)")
elif ! "$OURS_PY" -c 'import uvloop' 2>/dev/null; then
    # Our driver must be measured on uvloop too; add the peers' pinned uvloop.
    pin=$(grep -E '^uvloop==' "$HERE/requirements-peers.txt")
    log "installing $pin into $(dirname "$(dirname "$OURS_PY")") for the uvloop runs"
    "$OURS_PY" -m pip install -q --disable-pip-version-check "$pin" >/dev/null 2>&1 \
        || log "could not install $pin there; the uvloop runs of psqlpy will fail"
fi

# The short mode (CI's) first checks the runner's own arithmetic and parsing.
for arg in "$@"; do
    if [[ $arg == --short ]]; then
        (cd "$HERE" && "$PEERS_PY" -m unittest -q test_compare) || {
            log "unit tests of benchmarks/compare failed"
            exit 1
        }
        break
    fi
done

# In CI (CI=true) a missing or failing driver fails the run: a benchmark that
# silently drops a driver is not honest.
if [[ ${CI:-} == true ]]; then
    extra+=(--require-all)
fi

exec "$PEERS_PY" "$HERE/run.py" \
    --python-psqlpy "$OURS_PY" \
    --python-asyncpg "$PEERS_PY" \
    --python-psycopg "$PEERS_PY" \
    --python-psqlpy-rust "$RUST_PY" \
    "${extra[@]}" "$@"
