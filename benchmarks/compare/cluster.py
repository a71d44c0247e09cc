"""The benchmark's PostgreSQL and its client tools.

The server is the project's throwaway cluster (tests/py/pgcluster.py: temp
dir, free 127.0.0.1 port, SCRAM password, durability off, run as an
unprivileged user when we are root), unless the caller passes a DSN.
psql sets up the tables, so setup does not depend on any driver under test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "py"))
import pgcluster  # noqa: E402  (the project's harness, stdlib only)


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL program (psql, pgbench): the harness's bindir
    ($PSQLPY_PG_BINDIR, pg_config, newest /usr/lib/postgresql/*/bin), else PATH."""
    try:
        path = os.path.join(pgcluster.find_bindir(), name)
        if os.access(path, os.X_OK):
            return path
    except pgcluster.ClusterError:
        pass
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found (install postgresql, or set PSQLPY_PG_BINDIR)")
    return found


def psql(dsn: str, sql: str) -> str:
    """Run SQL through psql, stop at the first error; returns unaligned output."""
    proc = subprocess.run(
        [pg_bin("psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", dsn],
        input=sql, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"psql failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def start_server() -> "pgcluster.PgCluster":
    """A new throwaway cluster, already started (its .dsn); call .stop().
    pg_stat_statements is preloaded so the server can count executions."""
    srv = pgcluster.PgCluster(stop_at_exit=True, settings={
        "shared_preload_libraries": "pg_stat_statements"})
    srv.start()
    return srv


def enable_statement_counts(dsn: str) -> str | None:
    """Make pg_stat_statements usable; None when it is, else why not."""
    try:
        psql(dsn, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"
                  "SELECT pg_stat_statements_reset();")
        return None
    except RuntimeError as exc:
        return str(exc)


def reset_statement_counts(dsn: str) -> None:
    psql(dsn, "SELECT pg_stat_statements_reset();")


def statement_calls(dsn: str, marker: str) -> int:
    """Executions, since the last reset, of statements whose text contains
    marker (as pg_stat_statements normalises it)."""
    return int(psql(dsn, "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                         f"WHERE strpos(query, $m${marker}$m$) > 0 "
                         "AND strpos(query, 'pg_stat_statements') = 0;"))
