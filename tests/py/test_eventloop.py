"""Event-loop integration: the adapter follows every socket libpq opens and
never leaves a registration behind (docs/design.md, Event loop integration),
and the interpreter exits cleanly with pools still open.

Runs on the loop chosen for the session (PSQLPY_TEST_LOOP=uvloop or asyncio);
the exit scripts run in subprocesses on both loops, so a crash is a failure
and not the end of the test run.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from urllib.parse import urlsplit, urlunsplit

import pytest

import pgcluster
from psqlpy import PSQLPool

# generous guard: the call must succeed long before connect_timeout
HANG_GUARD = 10.0


def _with_dead_first_host(dsn: str, connect_timeout: int = 20) -> str:
    """`dsn` with a host whose port nobody listens on put before the real one."""
    u = urlsplit(dsn)
    dead = pgcluster.free_port()
    userinfo, _, hostport = u.netloc.rpartition("@")
    netloc = f"{userinfo}@127.0.0.1:{dead},{hostport}"
    sep = "&" if u.query else ""
    query = f"{u.query}{sep}connect_timeout={connect_timeout}"
    return urlunsplit((u.scheme, netloc, u.path, query, u.fragment))


async def test_multi_host_first_host_down_connects_at_once(dsn: str) -> None:
    """libpq gives up on the closed port and opens a new socket for the next
    host, often under the same descriptor number: the adapter must register
    the new socket rather than keep the registration the kernel dropped when
    the first one closed (which left the connect waiting for its timeout)."""
    multi = _with_dead_first_host(dsn)
    for _ in range(3):
        pool = PSQLPool(dsn=multi, max_db_pool_size=3)
        try:
            await asyncio.wait_for(pool.startup(), HANG_GUARD)
            # several connections opened at the same time, each through the dead host
            res = await asyncio.wait_for(asyncio.gather(
                *(pool.execute("SELECT $1::int8 AS v, pg_sleep(0.05)", [i]) for i in range(3))),
                HANG_GUARD)
            assert [r.result()[0]["v"] for r in res] == [0, 1, 2]
            assert pool.status()["size"] == 3
        finally:
            await pool.close()


EXIT_SCRIPT = r'''
import asyncio, os, sys
from psqlpy import PSQLPool

LOOP, DSN, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
keep = []

async def main():
    pool = PSQLPool(dsn=DSN, max_db_pool_size=4)
    await pool.startup()
    keep.append(pool)
    await pool.execute("SELECT 1")
    if MODE == "busy":
        # statements still running when the interpreter goes away
        for i in range(8):
            keep.append(asyncio.ensure_future(pool.execute("SELECT pg_sleep(30)")))
        await asyncio.sleep(0.2)
    elif MODE == "lent":
        conn = await pool.connection()
        keep.append(conn)
        tx = conn.transaction()
        await tx.begin()
        keep.append(tx)
        await conn.execute("SELECT 1")
        keep.append(conn.execute("SELECT pg_sleep(30)"))
        await asyncio.sleep(0.1)
    elif MODE == "orphan":
        # the pool reachable only through the loop (its tasks and callbacks),
        # so it dies in the last collection together with the module
        for i in range(2):
            asyncio.ensure_future(pool.execute("SELECT pg_sleep(30)"))
        conn = await pool.connection()
        asyncio.ensure_future(conn.execute("SELECT pg_sleep(30)"))
        keep.clear()
        await asyncio.sleep(0.2)
    elif MODE == "cycle":
        # the pool only reachable through a reference cycle
        class Holder: pass
        h = Holder(); h.me = h; h.pool = pool
        keep.clear()
    print("ready", flush=True)

if LOOP == "uvloop":
    import uvloop
    loop = uvloop.new_event_loop()
else:
    loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
loop.run_until_complete(main())
if MODE == "closed-loop":
    loop.close()
# exit with the pool open: module teardown runs while it is alive
'''


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
@pytest.mark.parametrize("mode", ["idle", "busy", "lent", "orphan", "cycle", "closed-loop"])
def test_exit_with_open_pool(dsn: str, tmp_path, loop: str, mode: str) -> None:
    """Exiting with a pool still open (idle, busy or lent connections, the
    loop open or closed) ends the process normally: exit code 0, no crash."""
    script = tmp_path / "exit_open_pool.py"
    script.write_text(EXIT_SCRIPT)
    for attempt in range(3):   # the crash depended on teardown order: try a few times
        res = subprocess.run([sys.executable, str(script), loop, dsn, mode],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode == 0 and "ready" in res.stdout, (
            f"exit code {res.returncode}\nstdout: {res.stdout}\nstderr: {res.stderr}")
        assert "Fatal Python error" not in res.stderr, res.stderr
        assert "Traceback" not in res.stderr, res.stderr
