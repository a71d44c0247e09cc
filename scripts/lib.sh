# Shared by scripts/run-tests.sh and scripts/run-demo.sh (sourced, not run).
# Expects the current directory to be the repository root.

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
