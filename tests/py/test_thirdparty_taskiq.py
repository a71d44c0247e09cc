"""taskiq-psqlpy (the taskiq result backend written for psqlpy) on this
package: tasks run through taskiq's in-memory broker, their results stored
in and fetched from the test server by ``PSQLPyResultBackend``.

The backend uses the 0.13 API: ``ConnectionPool(dsn=..., **kwargs)``,
``pool.acquire()``, ``execute(querystring=, parameters=)``, ``fetch_val``
(its "no row" error caught as ``DatabaseError``/``InterfaceError``), a
sync ``pool.close()``, and ``pool.connection()`` whose connection it never
closes (each readiness poll): the pool must get it back when it is
dropped.  The package is installed ``--no-deps`` by scripts/setup.sh (see
tests/py/requirements-thirdparty.txt); a missing one fails the import.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, AsyncIterator

import pytest
from taskiq import InMemoryBroker, TaskiqResult
from taskiq_psqlpy import PSQLPyResultBackend
from taskiq_psqlpy.exceptions import ResultIsMissingError

from psqlpy import ConnectionPool

WAIT = 60      # a guard against a hang, not a timing claim


@pytest.fixture
async def table(dsn: str) -> AsyncIterator[str]:
    name = f"tp_taskiq_{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        pool = ConnectionPool(dsn=dsn)
        async with pool.acquire() as conn:
            await conn.execute(f"DROP TABLE IF EXISTS {name}")
        pool.close()


async def rows_of(dsn: str, table: str) -> list[str]:
    pool = ConnectionPool(dsn=dsn)
    try:
        async with pool.acquire() as conn:
            res = await conn.execute(f"SELECT task_id FROM {table} ORDER BY task_id")
            return [r["task_id"] for r in res.result()]
    finally:
        pool.close()


async def result_of(task: Any) -> TaskiqResult[Any]:
    """The task's result, bounded: a pool that never gets its connections
    back makes the readiness polls wait for ever."""
    return await asyncio.wait_for(task.wait_result(), WAIT)


def make_broker(backend: PSQLPyResultBackend[Any]) -> InMemoryBroker:
    broker = InMemoryBroker().with_result_backend(backend)

    @broker.task(task_name="add")
    async def add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    @broker.task(task_name="shout")
    def shout(words: list[str]) -> dict[str, Any]:
        return {"text": " ".join(words).upper(), "n": len(words)}

    @broker.task(task_name="fails")
    async def fails() -> None:
        raise ValueError("this task fails")

    return broker


async def test_results_stored_and_fetched(dsn, table):
    # a pool of 2 and many readiness polls: each poll takes a connection it
    # never closes, so this hangs unless the pool gets those back
    backend: PSQLPyResultBackend[Any] = PSQLPyResultBackend(
        dsn=dsn, table_name=table, max_db_pool_size=2)
    broker = make_broker(backend)
    await broker.startup()
    await backend.startup()        # the in-memory broker leaves that to us
    try:
        t1 = await broker.find_task("add").kiq(2, 40)
        t2 = await broker.find_task("shout").kiq(["hello", "postgres"])
        r1 = await result_of(t1)
        r2 = await result_of(t2)
        assert not r1.is_err and r1.return_value == 42
        assert r2.return_value == {"text": "HELLO POSTGRES", "n": 2}
        assert sorted(await rows_of(dsn, table)) == sorted([t1.task_id, t2.task_id])
        for _ in range(10):
            assert await asyncio.wait_for(backend.is_result_ready(t1.task_id), WAIT) is True
        assert await backend.is_result_ready("no-such-task") is False
        # read again: kept (keep_results=True), and with its logs
        again = await backend.get_result(t1.task_id, with_logs=True)
        assert isinstance(again, TaskiqResult) and again.return_value == 42

        failed = await result_of(await broker.find_task("fails").kiq())
        assert failed.is_err and "this task fails" in str(failed.error)

        many = [await broker.find_task("add").kiq(i, i) for i in range(20)]
        results = await asyncio.gather(*(result_of(t) for t in many))
        assert [r.return_value for r in results] == [2 * i for i in range(20)]

        with pytest.raises(ResultIsMissingError):
            await backend.get_result("no-such-task")
        # the pool still serves after the missing-row error
        assert await backend.is_result_ready(t2.task_id) is True
    finally:
        await broker.shutdown()
        await backend.shutdown()


async def test_result_overwritten_and_dropped_after_reading(dsn, table):
    backend: PSQLPyResultBackend[Any] = PSQLPyResultBackend(
        dsn=dsn, table_name=table, keep_results=False, field_for_task_id="Text")
    await backend.startup()
    try:
        await backend.startup()     # CREATE ... IF NOT EXISTS: a second start is harmless
        task_id = str(uuid.uuid4())
        first: TaskiqResult[int] = TaskiqResult(is_err=False, return_value=1, execution_time=0.1)
        second: TaskiqResult[int] = TaskiqResult(is_err=False, return_value=2, execution_time=0.2)
        await backend.set_result(task_id, first)
        await backend.set_result(task_id, second)      # ON CONFLICT ... DO UPDATE
        assert await rows_of(dsn, table) == [task_id]
        got = await backend.get_result(task_id)
        assert got.return_value == 2 and got.log is None
        assert await rows_of(dsn, table) == []          # keep_results=False
        assert await backend.is_result_ready(task_id) is False
        with pytest.raises(ResultIsMissingError):
            await backend.get_result(task_id)
    finally:
        await backend.shutdown()
