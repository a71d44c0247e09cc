#!/usr/bin/env bash
# The whole driver comparison in one command, from a fresh Debian 12 machine:
#
#   bash loadtest/run.sh [--short] [--netem-ms N] [--keep-influx] [--out DIR]
#                        [--require-all] [other options of loadtest/lt/runner.py]
#
#   --short        seconds per driver instead of minutes (what CI runs)
#   --netem-ms N   also run with N ms added to every trip from the apps to
#                  PostgreSQL (the delay proxy; see lt/delayproxy.py for why
#                  not tc netem), and report both; --delay-ms is the same
#   --keep-influx  keep the run's InfluxDB data directory in OUT/influxdb
#   --out DIR      where the report goes (default loadtest/results/<time>)
#   --require-all  fail unless all five drivers served every endpoint
#
# Installs what it needs: Debian packages (jmeter, jmeter-http, a JDK for the
# JMeter launcher, influxdb, wrk, postgresql) when missing, the Python tools
# into loadtest/.venv-tools, the Rust psqlpy into loadtest/.venv-rust (both
# gitignored), and this project's psqlpy into .venv through scripts/setup.sh.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
cd "$repo"
say() { printf 'loadtest: %s\n' "$*"; }

args=()
out=
while (($#)); do
    case $1 in
        --netem-ms|--delay-ms) args+=(--delay-ms "$2"); shift 2 ;;
        --netem-ms=*|--delay-ms=*) args+=(--delay-ms "${1#*=}"); shift ;;
        --out) out=$2; shift 2 ;;
        --out=*) out=${1#*=}; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) args+=("$1"); shift ;;
    esac
done
out=${out:-$here/results/$(date +%Y%m%dT%H%M%S)}

# ---- Debian packages ---------------------------------------------------------
APT_PACKAGES=(jmeter jmeter-http default-jdk-headless influxdb wrk postgresql python3-venv)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
    APT=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { say "need root to install: ${missing[*]}"; exit 1; }
        APT=(sudo -n "${APT[@]}")
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    for try in 1 2 3; do
        "${APT[@]}" update -q </dev/null && break
        [[ $try -eq 3 ]] && exit 1
        sleep 20
    done
    "${APT[@]}" install -y -q --no-install-recommends "${missing[@]}" </dev/null
fi

# ---- Python environments -------------------------------------------------------
PY=${PSQLPY_PYTHON:-python3}
# venv DIR REQUIREMENTS: create/refresh DIR when REQUIREMENTS changed.
venv() {
    local dir=$1 req=$2 stamp
    stamp=$(cat "$req" | sha256sum | cut -d' ' -f1)
    if [[ -x $dir/bin/python && "$(cat "$dir/.stamp" 2>/dev/null)" == "$stamp" ]]; then
        return 0
    fi
    say "preparing $dir"
    [[ -x $dir/bin/python ]] || "$PY" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --progress-bar off -r "$req" </dev/null
    echo "$stamp" >"$dir/.stamp"
}
venv "$here/.venv-tools" "$here/requirements-tools.txt"
venv "$here/.venv-rust" "$here/requirements-rust.txt"

# This project's psqlpy lives in .venv (scripts/setup.sh builds it); its app
# also needs aiohttp and uvloop there.  A psqlpy that does not build or import
# is not fatal here: the runner reports that driver as failed.
if [[ -x scripts/setup.sh || -f scripts/setup.sh ]]; then
    bash scripts/setup.sh || say "scripts/setup.sh failed: this project's psqlpy may be missing"
fi
if [[ -x .venv/bin/python ]]; then
    .venv/bin/python -c 'import aiohttp, uvloop' 2>/dev/null ||
        .venv/bin/python -m pip install -q --progress-bar off -r "$here/requirements-app.txt" </dev/null
    .venv/bin/python -c 'import psqlpy' 2>/dev/null || say "this project's psqlpy does not import from .venv"
else
    say "no .venv: this project's psqlpy cannot run"
fi

mkdir -p "$out"
cd "$here"
exec "$here/.venv-tools/bin/python" -m lt.runner --out "$out" \
    --python-tools "$here/.venv-tools/bin/python" \
    --python-rust "$here/.venv-rust/bin/python" \
    --python-psqlpy "$repo/.venv/bin/python" "${args[@]}"
