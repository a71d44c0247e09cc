"""What the profile scripts share: where the repository is, the arguments
every one of them takes, and the server they run against."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def arg_parser(doc: str, peers_help: str) -> argparse.ArgumentParser:
    """--ours (our interpreter, the repository's .venv), --peers, --dsn."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--ours", default=os.path.join(ROOT, ".venv", "bin", "python"))
    ap.add_argument("--peers", help=peers_help)
    ap.add_argument("--dsn", help="use this server instead of a throwaway one")
    return ap


@contextlib.contextmanager
def server(dsn: str | None):
    """Yields `dsn`, or the DSN of a throwaway cluster (tests/py/pgcluster.py)
    started for the block and stopped after it."""
    if dsn is not None:
        yield dsn
        return
    sys.path.insert(0, os.path.join(ROOT, "tests", "py"))
    from pgcluster import PgCluster
    cluster = PgCluster()
    cluster.start()
    try:
        yield cluster.dsn
    finally:
        cluster.stop()


async def held_connection(dsn: str):
    """For a profile's child process: our pool of one connection, started,
    and that connection borrowed for good (the comparison's held view).
    Returns (pool, connection)."""
    import psqlpy
    pool = psqlpy.PSQLPool(dsn=dsn, max_db_pool_size=1)
    await pool.startup()
    return pool, await pool.connection()
