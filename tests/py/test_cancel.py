"""Cancellation: a cancelled await returns promptly, the server really stops
the statement, and the connection (max_db_pool_size=1, so the same one)
answers the next query with that query's own result."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from helpers import (activity, assert_pool_answers, backend_pid, observer, open_pool,  # noqa: F401
                     wait_until)

SLEEP = "SELECT pg_sleep(10) AS slept"


async def _wait_active(observer, pid: int, needle: str = "pg_sleep") -> None:
    async def running():
        a = await activity(observer, pid)
        return a is not None and a["state"] == "active" and needle in a["query"]
    assert await wait_until(running, timeout=5), "the statement never started on the server"


async def _wait_not_running(observer, pid: int, needle: str = "pg_sleep") -> None:
    async def stopped():
        a = await activity(observer, pid)
        return a is None or not (a["state"] == "active" and needle in a["query"])
    assert await wait_until(stopped, timeout=3), "the server is still running the statement"


async def _after_cancel_same_connection_answers(p, pid: int) -> None:
    marker = uuid.uuid4().hex
    res = await asyncio.wait_for(
        p.execute("SELECT pg_backend_pid() AS pid, $1::text AS marker", [marker]), 5)
    assert res.result() == [{"pid": pid, "marker": marker}]
    await assert_pool_answers(p)


@pytest.fixture
async def single(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        yield p


async def test_task_cancel_mid_flight(single, observer):
    pid = await backend_pid(single)
    task = asyncio.create_task(single.execute(SLEEP))
    await _wait_active(observer, pid)
    t0 = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - t0 < 2
    assert task.cancelled()
    await _wait_not_running(observer, pid)
    await _after_cancel_same_connection_answers(single, pid)
    assert time.monotonic() - t0 < 5


async def test_wait_for_timeout_mid_flight(single, observer):
    pid = await backend_pid(single)
    t0 = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(single.execute(SLEEP), 0.3)
    assert time.monotonic() - t0 < 2
    await _wait_not_running(observer, pid)
    await _after_cancel_same_connection_answers(single, pid)
    assert time.monotonic() - t0 < 5


async def test_repeated_cancels_on_one_connection(single, observer):
    pid = await backend_pid(single)
    for i in range(5):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(single.execute(f"SELECT pg_sleep(10), {i} AS i"), 0.1)
        res = await single.execute("SELECT $1::int4 AS i, pg_backend_pid() AS pid", [i])
        assert res.result() == [{"i": i, "pid": pid}]
    await _wait_not_running(observer, pid)


async def test_cancel_on_a_lent_connection(single, observer):
    conn = await single.connection()
    try:
        pid = await backend_pid(conn)
        task = asyncio.create_task(conn.execute(SLEEP))
        await _wait_active(observer, pid)
        task.cancel()
        t0 = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - t0 < 2
        await _wait_not_running(observer, pid)
        res = await conn.execute("SELECT $1::text AS s, pg_backend_pid() AS pid", ["after"])
        assert res.result() == [{"s": "after", "pid": pid}]
        assert conn.transaction_status == "idle"
    finally:
        conn.close()
    await _after_cancel_same_connection_answers(single, pid)


async def test_cancel_while_waiting_for_a_connection(single, observer):
    """A statement still queued for a connection is withdrawn: it never
    reaches the server."""
    table = f"cancel_probe_{uuid.uuid4().hex[:12]}"
    await single.execute(f"CREATE TABLE {table} (a int)")
    try:
        conn = await single.connection()
        pid = await backend_pid(conn)
        queued = asyncio.create_task(single.execute(f"INSERT INTO {table} VALUES (1)"))
        await asyncio.sleep(0.05)
        assert single.status()["waiting"] == 1
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        assert single.status()["waiting"] == 0
        conn.close()
        await _after_cancel_same_connection_answers(single, pid)
        res = await observer.execute(f"SELECT count(*) AS n FROM {table}")
        assert res.result() == [{"n": 0}]
    finally:
        await single.execute(f"DROP TABLE {table}")


async def test_cancelled_connection_request_leaks_no_lease(single):
    conn = await single.connection()
    pid = await backend_pid(conn)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(single.connection(), 0.1)
    conn.close()
    st = single.status()
    assert st["waiting"] == 0 and st["idle"] == st["size"] == 1
    await _after_cancel_same_connection_answers(single, pid)


async def test_cancel_many_in_flight(dsn, observer):
    async with open_pool(dsn, max_db_pool_size=2) as p:
        tasks = [asyncio.create_task(p.execute(f"SELECT pg_sleep(10), {i} AS i"))
                 for i in range(6)]
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        for t in tasks:
            t.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert time.monotonic() - t0 < 3
        assert all(isinstance(r, asyncio.CancelledError) for r in results)

        async def none_sleeping():
            res = await observer.execute(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE 'SELECT pg_sleep(10), %'")
            return res.result()[0]["n"] == 0
        assert await wait_until(none_sleeping, timeout=3)
        res = await asyncio.wait_for(
            asyncio.gather(*[p.execute("SELECT $1::int4 AS i", [i]) for i in range(8)]), 5)
        assert [r.result() for r in res] == [[{"i": i}] for i in range(8)]
        st = p.status()
        assert st["waiting"] == 0 and st["idle"] == st["size"]


async def test_cancel_before_first_await(single):
    """A task cancelled before it ever ran its awaitable leaves nothing
    behind on the connection."""
    task = asyncio.create_task(single.execute(SLEEP))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = await asyncio.wait_for(backend_pid(single), 5)
    await _after_cancel_same_connection_answers(single, pid)
