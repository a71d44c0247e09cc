"""Timeouts: ``timeout=`` on every statement method and on
``pool.connection()``, and the pool's default ``command_timeout``.

An expired timeout raises QueryTimeoutError (a psqlpy Error and a builtin
TimeoutError, i.e. asyncio.TimeoutError) and follows the cancellation rules
of docs/design.md: the server is asked to cancel, a timed-out batch outside
a transaction block committed nothing, a transaction is left failed.  The
frozen-backend case (a connection that does not answer its cancel is
closed) needs a server the test may signal: tests/py/test_faults.py.

Assertions are on outcomes and order; the only clock is a generous guard.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from helpers import activity, assert_pool_answers, backend_pid, observer, open_pool, wait_until  # noqa: F401
from psqlpy import PSQLPool
from psqlpy.exceptions import (
    DatabaseError,
    Error,
    InterfaceError,
    PoolConfigurationError,
    QueryTimeoutError,
)

GUARD = 10.0   # nothing here should come near this


async def not_running(observer, pid: int) -> bool:
    async def idle() -> bool:
        row = await activity(observer, pid)
        return row is None or row["state"] == "idle"
    return await wait_until(idle, GUARD)


def test_exception_is_a_timeout_error() -> None:
    assert issubclass(QueryTimeoutError, Error)
    assert issubclass(QueryTimeoutError, TimeoutError)
    assert issubclass(QueryTimeoutError, asyncio.TimeoutError)


async def test_pool_execute_timeout(dsn, observer) -> None:
    async with open_pool(dsn, max_db_pool_size=1) as pool:
        pid = await backend_pid(pool)
        with pytest.raises(QueryTimeoutError) as ei:
            await asyncio.wait_for(pool.execute("SELECT pg_sleep(30)", timeout=0.2), GUARD)
        assert "timeout" in str(ei.value)
        # the server was asked to cancel: the backend is free again, the slot too
        assert await not_running(observer, pid)
        await assert_pool_answers(pool)
        assert pool.status()["size"] == 1


async def test_fetch_row_timeout_and_fast_calls_unaffected(dsn) -> None:
    async with open_pool(dsn, max_db_pool_size=1) as pool:
        with pytest.raises(QueryTimeoutError):
            await asyncio.wait_for(pool.fetch_row("SELECT pg_sleep(30)", [], 0.2), GUARD)
        row = await pool.fetch_row("SELECT $1::int AS v", [7], timeout=5)
        assert row.result() == {"v": 7}


async def test_command_timeout_is_the_default(dsn) -> None:
    async with open_pool(dsn, max_db_pool_size=1, command_timeout=0.2) as pool:
        with pytest.raises(QueryTimeoutError):
            await asyncio.wait_for(pool.execute("SELECT pg_sleep(30)"), GUARD)
        # a call's own timeout wins over the default
        res = await pool.execute("SELECT 1 AS one FROM pg_sleep(0.4)", timeout=GUARD)
        assert res.result() == [{"one": 1}]
        conn = await pool.connection()
        try:
            with pytest.raises(QueryTimeoutError):
                await asyncio.wait_for(conn.execute("SELECT pg_sleep(30)"), GUARD)
            assert (await conn.execute("SELECT 2 AS two")).result() == [{"two": 2}]
        finally:
            conn.close()


async def test_waiting_for_a_connection_times_out(dsn) -> None:
    async with open_pool(dsn, max_db_pool_size=1) as pool:
        held = await pool.connection()
        with pytest.raises(QueryTimeoutError):
            await asyncio.wait_for(pool.connection(timeout=0.2), GUARD)
        # a statement waiting for a connection times out as well, withdrawn
        with pytest.raises(QueryTimeoutError):
            await asyncio.wait_for(pool.execute("SELECT 1", timeout=0.2), GUARD)
        assert pool.status()["waiting"] == 0
        held.close()
        conn = await asyncio.wait_for(pool.connection(timeout=1), GUARD)
        conn.close()
        await assert_pool_answers(pool)


async def test_connection_methods_take_timeout(dsn) -> None:
    async with open_pool(dsn, max_db_pool_size=1) as pool:
        async with await pool.connection() as conn:
            with pytest.raises(QueryTimeoutError):
                await asyncio.wait_for(conn.fetch_row("SELECT pg_sleep(30)", timeout=0.2), GUARD)
            with pytest.raises(QueryTimeoutError):
                await asyncio.wait_for(conn.pipeline(
                    [("SELECT 1", None), ("SELECT pg_sleep(30)", None)], timeout=0.2), GUARD)
            with pytest.raises(QueryTimeoutError):
                await asyncio.wait_for(conn.execute_many(
                    "SELECT pg_sleep($1::float8)", [[0.0], [30.0]], timeout=0.2), GUARD)
            assert (await conn.execute("SELECT 3 AS v", timeout=1)).result() == [{"v": 3}]


async def test_timed_out_batch_commits_nothing(dsn) -> None:
    """Outside a transaction block, QueryTimeoutError from execute_many()
    means what CancelledError means: nothing of the batch was committed."""
    table = f"t_{uuid.uuid4().hex[:12]}"
    async with open_pool(dsn, max_db_pool_size=1) as pool:
        await pool.execute(f"CREATE TABLE {table} (v int)")
        try:
            async with await pool.connection() as conn:
                rows = [[i] for i in range(200)]
                with pytest.raises(QueryTimeoutError) as ei:
                    await asyncio.wait_for(conn.execute_many(
                        f"INSERT INTO {table} SELECT $1::int FROM pg_sleep(0.01)", rows,
                        timeout=0.3), GUARD)
                # the server's own answer to the cancel is the context
                assert isinstance(ei.value.__context__, DatabaseError)
                assert ei.value.__context__.sqlstate == "57014"
                assert conn.transaction_status == "idle"
            res = await pool.execute(f"SELECT count(*) AS n FROM {table}")
            assert res.result() == [{"n": 0}]
        finally:
            await pool.execute(f"DROP TABLE {table}")


async def test_timeout_in_transaction_leaves_it_failed(dsn) -> None:
    table = f"t_{uuid.uuid4().hex[:12]}"
    async with open_pool(dsn, max_db_pool_size=1) as pool:
        await pool.execute(f"CREATE TABLE {table} (v int)")
        try:
            async with await pool.connection() as conn:
                tx = conn.transaction()
                await tx.begin()
                await tx.execute(f"INSERT INTO {table} VALUES (1)")
                with pytest.raises(QueryTimeoutError):
                    await asyncio.wait_for(tx.execute("SELECT pg_sleep(30)", timeout=0.2), GUARD)
                with pytest.raises(DatabaseError) as ei:
                    await tx.execute("SELECT 1")
                assert ei.value.sqlstate == "25P02"
                await tx.rollback()
                # cursor fetches take a timeout too
                tx = conn.transaction()
                await tx.begin()
                cur = await tx.cursor("SELECT pg_sleep(30) FROM generate_series(1, 2)")
                with pytest.raises(QueryTimeoutError):
                    await asyncio.wait_for(cur.fetch(1, timeout=0.2), GUARD)
                await tx.rollback()
            res = await pool.execute(f"SELECT count(*) AS n FROM {table}")
            assert res.result() == [{"n": 0}]
        finally:
            await pool.execute(f"DROP TABLE {table}")


async def test_many_timeouts_keep_the_pool_whole(dsn) -> None:
    async with open_pool(dsn, max_db_pool_size=3) as pool:
        calls = [pool.execute("SELECT pg_sleep($1::float8)", [0.0 if i % 2 else 30.0],
                              timeout=0.3) for i in range(20)]
        out = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), GUARD)
        timeouts = [o for o in out if isinstance(o, QueryTimeoutError)]
        others = [o for o in out if isinstance(o, BaseException) and o not in timeouts]
        assert timeouts and not others, others
        await assert_pool_answers(pool)
        assert pool.status()["waiting"] == 0


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "1", True])
async def test_bad_timeout_values(dsn, bad) -> None:
    async with open_pool(dsn, max_db_pool_size=1) as pool:
        with pytest.raises(InterfaceError):
            await pool.execute("SELECT 1", timeout=bad)
        with pytest.raises(InterfaceError):
            await pool.connection(timeout=bad)
    with pytest.raises(PoolConfigurationError):
        PSQLPool(dsn=dsn, command_timeout=bad)
