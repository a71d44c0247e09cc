# Shell helpers shared by the project's scripts (sourced, not run).
# The cluster helpers expect the current directory to be the repository root.

# apt_ensure PKG...: install the Debian packages among PKG that are missing,
# non-interactively; runs apt-get update only when something is missing.
# Waits for other apt/dpkg runs (lock timeout) instead of failing on them.
apt_ensure() {
    local p missing=() try
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    local apt=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null || { echo "need root to install: ${missing[*]}" >&2; return 1; }
        apt=(sudo -n "${apt[@]}")
    fi
    echo "installing ${missing[*]}"
    # apt's list lock has no timeout option on every apt version: retry instead
    for try in 1 2 3; do
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" update -q </dev/null && break
        ((try == 3)) && return 1
        sleep 20
    done
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -q --no-install-recommends \
        "${missing[@]}" </dev/null
}

# A throwaway PostgreSQL cluster for this run, unless PSQLPY_TEST_DSN names
# a server already.  Exports PSQLPY_TEST_DSN; cluster_stop undoes it.
PGCLUSTER_DIR=
cluster_start() {
    if [[ -n "${PSQLPY_TEST_DSN:-}" ]]; then
        echo "using the server in PSQLPY_TEST_DSN"
        return 0
    fi
    # under the temp root: the server's unprivileged account must reach it
    PGCLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/psqlpy-run-pg.XXXXXX")
    local dsn
    dsn=$(python3 tests/py/pgcluster.py start --dir "$PGCLUSTER_DIR") || {
        rmdir "$PGCLUSTER_DIR" 2>/dev/null; PGCLUSTER_DIR=; return 1; }
    export PSQLPY_TEST_DSN=$dsn
    echo "throwaway cluster in $PGCLUSTER_DIR (${dsn##*@})"
}

cluster_stop() {
    [[ -n "$PGCLUSTER_DIR" ]] || return 0
    python3 tests/py/pgcluster.py stop --dir "$PGCLUSTER_DIR" || true
    rm -rf "$PGCLUSTER_DIR"
    PGCLUSTER_DIR=
    unset PSQLPY_TEST_DSN
}

# Wall-clock seconds since the epoch, for phase timings.
now() { date +%s; }
