#!/usr/bin/env bash
# Set up this machine (Debian 12) to build and test psqlpy:
#   1. the Debian packages below, installed only if one is missing
#      (apt-get update runs only then); PostGIS is for the example
#      geometry plugin's tests (codecs/examples/postgis);
#   2. a private jemalloc build for the extension (scripts/build-jemalloc.sh);
#   3. a virtual environment in .venv with psqlpy installed from this tree
#      (`pip install .[test,docs]`, a real wheel build, not an editable install);
#   4. with the test extra, the packages written for psqlpy 0.13 that the
#      tests run on ours (tests/py/requirements-thirdparty.txt, --no-deps).
# Idempotent and non-interactive; a second run with nothing changed only
# checks and returns.  The wheel is rebuilt when any of its inputs changed.
#
# Environment: PSQLPY_PYTHON  interpreter for the venv (default python3)
#              PSQLPY_VENV    the venv's directory (default .venv); e.g.
#                             PSQLPY_PYTHON=.../3.13.0/bin/python
#                             PSQLPY_VENV=.venv-3.13 for a second Python.
#                             A venv made by another interpreter is rebuilt.
#              PSQLPY_EXTRAS  the extras installed with psqlpy (default test,docs;
#                             empty for the package alone)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib.sh

say() { printf 'setup: %s\n' "$*"; }

apt_ensure build-essential cmake pkg-config libpq-dev libjemalloc-dev libbenchmark-dev \
           postgresql postgresql-contrib python3-dev python3-venv valgrind \
           postgresql-15-postgis-3 pgbouncer

# ---- virtual environment ------------------------------------------------------
PY=${PSQLPY_PYTHON:-python3}
VENV=${PSQLPY_VENV:-.venv}
EXTRAS=${PSQLPY_EXTRAS-test,docs}
VPY=$VENV/bin/python
# the venv must be a venv, and of the interpreter asked for (same version)
want=$("$PY" -c 'import sys; print(sys.version)') || { say "no Python at $PY"; exit 1; }
have=$("$VPY" -c 'import sys; print(sys.version if sys.prefix != sys.base_prefix else "")' \
       2>/dev/null || true)
if [[ "$have" != "$want" ]]; then
    say "creating $VENV with $("$PY" -V 2>&1)"
    "$PY" -m venv --clear "$VENV"
    "$VPY" -m pip install -q --progress-bar off -U pip </dev/null
fi

# ---- a private jemalloc for the extension ------------------------------------------
# Debian's shared libjemalloc cannot be loaded into a running Python process;
# scripts/build-jemalloc.sh builds Debian's jemalloc source as a static,
# prefixed library (once, cached) and CMake links it into the extension.
PGD_JEMALLOC_ROOT=$(bash scripts/build-jemalloc.sh)
export PGD_JEMALLOC_ROOT
say "private jemalloc in $PGD_JEMALLOC_ROOT"

# ---- psqlpy into the venv ---------------------------------------------------------
# What the wheel is built from; a change in any of it means a rebuild.
inputs=(pyproject.toml CMakeLists.txt README.md driver codecs pyext)
stamp=$VENV/.psqlpy-install-stamp
sum=$( { "$VPY" -VV
         echo "$PGD_JEMALLOC_ROOT $EXTRAS"
         find "${inputs[@]}" -type f ! -path '*/__pycache__/*' ! -name '*.py[co]' \
              -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; } |
       sha256sum | cut -d' ' -f1)
if [[ "$(cat "$stamp" 2>/dev/null)" == "$sum" ]] && "$VPY" -c 'import psqlpy' 2>/dev/null; then
    say "psqlpy in $VENV is up to date"
else
    target=.${EXTRAS:+[$EXTRAS]}
    say "building and installing psqlpy (pip install $target)"
    rm -f "$stamp"
    CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
        "$VPY" -m pip install -q --progress-bar off "$target" </dev/null
    "$VPY" -c 'import psqlpy'
    echo "$sum" >"$stamp"
fi

# ---- packages written for psqlpy 0.13 ------------------------------------------------
# Their metadata asks for the Rust psqlpy, which must not replace ours:
# they go in without dependencies (theirs are in the test extra).  A later
# rebuild of ours makes pip report that requirement as a conflict; expected.
if [[ ",$EXTRAS," == *",test,"* ]]; then
    req=tests/py/requirements-thirdparty.txt
    tstamp=$VENV/.psqlpy-thirdparty-stamp
    tsum=$(sha256sum "$req" | cut -d' ' -f1)
    if [[ "$(cat "$tstamp" 2>/dev/null)" != "$tsum" ]]; then
        say "installing the psqlpy 0.13 packages of $req (pip install --no-deps)"
        rm -f "$tstamp"
        "$VPY" -m pip install -q --progress-bar off --no-deps -r "$req" </dev/null
        echo "$tsum" >"$tstamp"
    fi
fi

# ---- a PostgreSQL with pgvector, for tests/py/test_pgvector.py -----------------------
# Debian 12 has no pgvector for PostgreSQL 15: the server binaries come from
# PyPI's pgserver wheel, unpacked once (tests/py/pgvector_server.py).
if [[ ",$EXTRAS," == *,test,* ]]; then
    say "pgvector server in $("$VPY" tests/py/pgvector_server.py --fetch 2>/dev/null)"
fi
say "ok"
