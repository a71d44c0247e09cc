"""Cancellation: a cancelled await ends without waiting for the statement,
the server really stops the statement, and the connection
(max_db_pool_size=1, so the same one) answers the next query with that
query's own result.

The statements sleep far longer than HANG, the hang guard: a call that
waited for its statement instead of stopping it fails the guard."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from helpers import (activity, assert_pool_answers, backend_pid, observer, open_pool,  # noqa: F401
                     wait_until)

SLEEP = "SELECT pg_sleep(600) AS slept"
HANG = 30


async def _wait_active(observer, pid: int, needle: str = "pg_sleep") -> None:
    async def running():
        a = await activity(observer, pid)
        return a is not None and a["state"] == "active" and needle in a["query"]
    assert await wait_until(running, timeout=HANG), "the statement never started on the server"


async def _wait_not_running(observer, pid: int, needle: str = "pg_sleep") -> None:
    async def stopped():
        a = await activity(observer, pid)
        return a is None or not (a["state"] == "active" and needle in a["query"])
    assert await wait_until(stopped, timeout=HANG), "the server is still running the statement"


async def _after_cancel_same_connection_answers(p, pid: int) -> None:
    marker = uuid.uuid4().hex
    res = await asyncio.wait_for(
        p.execute("SELECT pg_backend_pid() AS pid, $1::text AS marker", [marker]), HANG)
    assert res.result() == [{"pid": pid, "marker": marker}]
    await assert_pool_answers(p)


async def _finished(task: asyncio.Future) -> None:
    """Wait for `task` to end, no longer than the hang guard."""
    await asyncio.wait({task}, timeout=HANG)
    assert task.done(), "the cancelled call did not end"


@pytest.fixture
async def single(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        yield p


async def test_task_cancel_mid_flight(single, observer):
    pid = await backend_pid(single)
    task = asyncio.create_task(single.execute(SLEEP))
    await _wait_active(observer, pid)
    task.cancel()
    await _finished(task)
    assert task.cancelled()
    await _wait_not_running(observer, pid)
    await _after_cancel_same_connection_answers(single, pid)


async def test_wait_for_timeout_mid_flight(single, observer):
    pid = await backend_pid(single)
    task = asyncio.ensure_future(asyncio.wait_for(single.execute(SLEEP), 0.3))
    await _finished(task)
    with pytest.raises(asyncio.TimeoutError):
        task.result()
    await _wait_not_running(observer, pid)
    await _after_cancel_same_connection_answers(single, pid)


async def test_repeated_cancels_on_one_connection(single, observer):
    pid = await backend_pid(single)
    for i in range(5):
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(single.execute(f"SELECT pg_sleep(600), {i} AS i"), 0.1)
        res = await asyncio.wait_for(
            single.execute("SELECT $1::int4 AS i, pg_backend_pid() AS pid", [i]), HANG)
        assert res.result() == [{"i": i, "pid": pid}]
    await _wait_not_running(observer, pid)


async def test_cancel_on_a_lent_connection(single, observer):
    conn = await single.connection()
    try:
        pid = await backend_pid(conn)
        task = asyncio.create_task(conn.execute(SLEEP))
        await _wait_active(observer, pid)
        task.cancel()
        await _finished(task)
        assert task.cancelled()
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

        async def waiting():
            return single.status()["waiting"] == 1
        assert await wait_until(waiting, timeout=HANG)
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
        tasks = [asyncio.create_task(p.execute(f"SELECT pg_sleep(600), {i} AS i"))
                 for i in range(6)]

        async def sleeping(n: int):
            res = await observer.execute(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' "
                "AND query LIKE 'SELECT pg_sleep(600), %'")
            return res.result()[0]["n"] == n
        # both connections busy, four calls waiting for one
        assert await wait_until(lambda: sleeping(2), timeout=HANG)
        assert p.status()["waiting"] == 4
        for t in tasks:
            t.cancel()
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), HANG)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        assert await wait_until(lambda: sleeping(0), timeout=HANG)
        res = await asyncio.wait_for(
            asyncio.gather(*[p.execute("SELECT $1::int4 AS i", [i]) for i in range(8)]), HANG)
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
    pid = await asyncio.wait_for(backend_pid(single), HANG)
    await _after_cancel_same_connection_answers(single, pid)
