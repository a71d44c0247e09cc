"""A pool's life cycle against the real server: min_size, max_idle,
max_lifetime, resize(), status() and close(timeout=).  Connections are
counted in pg_stat_activity by an application_name of their own; waits
poll for the event, with generous guards."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from psqlpy import PSQLPool
from psqlpy.exceptions import ConnectionFailedError, PoolConfigurationError

_names = itertools.count()


def _app() -> str:
    return f"psqlpy-lifecycle-{next(_names)}"


async def _until(cond, what: str, limit: float = 15.0) -> None:
    for _ in range(int(limit / 0.02)):
        if await cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def observer(dsn):
    async with PSQLPool(dsn=dsn, max_db_pool_size=1) as pool:
        yield pool


async def _backends(observer: PSQLPool, app: str) -> list[int]:
    res = await observer.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 ORDER BY pid", [app])
    return [r["pid"] for r in res.result()]


def _pool(dsn: str, app: str, **kw) -> PSQLPool:
    return PSQLPool(dsn=dsn, server_settings={"application_name": app}, **kw)


async def test_min_size_opens_at_startup_and_refills(dsn, observer):
    app = _app()
    async with _pool(dsn, app, max_db_pool_size=5, min_size=3) as pool:
        await _until(lambda: _count_is(observer, app, 3), "3 warm connections")
        st = pool.status()
        assert st["min_size"] == 3 and st["max_size"] == 5
        await _until(lambda: _status_is(pool, opened=3, idle=3, size=3), "status")
        # a backend goes away: the pool notices and opens another
        victim = (await _backends(observer, app))[0]
        await observer.execute("SELECT pg_terminate_backend($1)", [victim])
        await _until(lambda: _count_is(observer, app, 3, without=victim), "the refill")
        await _until(lambda: _status_is(pool, opened=4, closed=1, size=3), "counts")
        # it never goes above min_size by itself
        await asyncio.sleep(0.3)
        assert len(await _backends(observer, app)) == 3


async def _count_is(observer, app, n, without=None):
    pids = await _backends(observer, app)
    return len(pids) == n and without not in pids


async def _status_is(pool, **want):
    st = pool.status()
    return all(st[k] == v for k, v in want.items())


async def test_max_idle_closes_idle_connections_above_min_size(dsn, observer):
    app = _app()
    async with _pool(dsn, app, max_db_pool_size=4, min_size=1, max_idle=0.2) as pool:
        conns = [await pool.connection() for _ in range(4)]
        assert len(await _backends(observer, app)) == 4
        assert pool.status()["lent"] == 4
        await asyncio.sleep(0.5)  # lent: never closed however long
        assert len(await _backends(observer, app)) == 4
        for c in conns:
            c.close()
        await _until(lambda: _count_is(observer, app, 1), "idle ones closed down to 1")
        st = pool.status()
        assert st["closed"] == 3 and st["size"] == 1 and st["lent"] == 0
        assert (await pool.fetch_row("SELECT 1 AS x")).result()["x"] == 1


async def test_max_lifetime_recycles_idle_connections_but_never_a_lent_one(dsn, observer):
    app = _app()
    async with _pool(dsn, app, max_db_pool_size=2, min_size=1, max_lifetime=0.4) as pool:
        first = await _backends(observer, app)
        assert len(first) == 1
        # the idle one is replaced once it is old (and min_size refills)
        await _until(lambda: _count_is(observer, app, 1, without=first[0]), "a new backend")
        # a lent connection lives past its lifetime, and closes when given back
        conn = await pool.connection()
        pid = (await conn.fetch_row("SELECT pg_backend_pid() AS p")).result()["p"]
        await asyncio.sleep(0.8)
        again = (await conn.fetch_row("SELECT pg_backend_pid() AS p")).result()["p"]
        assert again == pid
        conn.close()

        async def gone():
            return pid not in await _backends(observer, app)

        await _until(gone, "the old lent connection closed after its return")
        assert pool.status()["closed"] >= 2


async def test_resize_up_lets_a_waiter_in_and_down_closes_the_surplus(dsn, observer):
    app = _app()
    async with _pool(dsn, app, max_db_pool_size=1) as pool:
        held = await pool.connection()
        waiter = asyncio.ensure_future(pool.connection())

        async def waiting():
            return pool.status()["waiting"] == 1

        await _until(waiting, "the waiter")
        assert not waiter.done()
        pool.resize(3)
        second = await asyncio.wait_for(waiter, 10)
        third = await pool.connection()
        assert pool.status()["max_size"] == 3
        assert len(await _backends(observer, app)) == 3
        # down: idle ones beyond the size close now, lent ones when returned
        third.close()
        pool.resize(1)
        await _until(lambda: _count_is(observer, app, 2), "the idle surplus closed")
        second.close()
        held.close()
        await _until(lambda: _count_is(observer, app, 1), "down to the new size")
        st = pool.status()
        assert st["max_size"] == 1 and st["size"] == 1
        with pytest.raises(ValueError):
            pool.resize(0)
        assert (await pool.fetch_row("SELECT 2 AS x")).result()["x"] == 2


async def test_resize_below_min_size_is_refused(dsn):
    async with PSQLPool(dsn=dsn, max_db_pool_size=3, min_size=2) as pool:
        with pytest.raises(PoolConfigurationError):
            pool.resize(1)


async def test_close_timeout_waits_for_a_returning_connection(dsn, observer):
    app = _app()
    pool = _pool(dsn, app, max_db_pool_size=2)
    await pool.startup()
    conn = await pool.connection()

    async def finish():
        await asyncio.sleep(0.2)
        res = await conn.fetch_row("SELECT 5 AS x")
        conn.close()
        return res.result()["x"]

    task = asyncio.ensure_future(finish())
    await asyncio.wait_for(pool.close(timeout=30), 20)
    assert task.done() and task.result() == 5
    assert await _backends(observer, app) == []
    assert pool.closed


async def test_close_timeout_closes_a_lent_connection_when_it_runs_out(dsn, observer):
    app = _app()
    pool = _pool(dsn, app, max_db_pool_size=2)
    await pool.startup()
    conn = await pool.connection()
    await conn.execute("SELECT 1")
    await asyncio.wait_for(pool.close(timeout=0.2), 20)
    with pytest.raises(ConnectionFailedError):
        await conn.execute("SELECT 1")
    await _until(lambda: _count_is(observer, app, 0), "the backend gone")
    st = pool.status()
    assert st["size"] == 0 and st["lent"] == 0


@pytest.mark.parametrize("kw", [{"min_size": -1}, {"min_size": 3, "max_db_pool_size": 2},
                                {"min_size": "1"}, {"max_idle": 0}, {"max_idle": -1},
                                {"max_lifetime": "x"}, {"max_lifetime": True}])
def test_life_cycle_options_are_checked(kw):
    with pytest.raises(PoolConfigurationError):
        PSQLPool(dsn="postgresql://localhost/x", **kw)


async def test_status_before_startup_and_close_without_timeout(dsn):
    pool = PSQLPool(dsn=dsn, max_db_pool_size=2, min_size=1)
    st = pool.status()
    assert st == {"max_size": 2, "min_size": 1, "size": 0, "idle": 0, "lent": 0,
                  "connecting": 0, "waiting": 0, "opened": 0, "closed": 0, "failed": 0,
                  "bursts": 0, "pipelined": 0}
    await pool.startup()
    await pool.close()
    assert pool.status()["size"] == 0


async def test_failed_connects_are_counted(dsn):
    pool = PSQLPool(dsn=dsn, server_settings={"no_such_setting_here": "1"}, min_size=1)
    with pytest.raises(Exception, match="no_such_setting_here"):
        await pool.startup()
    assert pool.status()["failed"] >= 1 and pool.status()["opened"] == 0
    await pool.close()


async def test_a_closed_pool_with_a_background_check_is_freed(dsn):
    import gc
    import weakref

    events: list[object] = []

    async def init(conn):
        await conn.execute("SELECT 1")

    pool = PSQLPool(dsn=dsn, max_db_pool_size=3, min_size=2, max_idle=0.1, max_lifetime=5,
                    init=init, on_notice=events.append)
    pool.add_query_hook(events.append)
    await pool.startup()
    await pool.execute("DO $$BEGIN RAISE NOTICE 'x'; END$$")
    await _until(lambda: _status_is(pool, opened=2), "min_size open")
    await pool.close(timeout=5)
    ref = weakref.ref(pool)
    del pool
    for _ in range(50):
        gc.collect()
        if ref() is None:
            break
        await asyncio.sleep(0.02)
    assert ref() is None
