"""psqlpy behind PgBouncer 1.18 (tests/py/pgbouncer.py starts one on loopback).

In transaction-pooling mode every exchange that ends outside a transaction
block (a Sync answered by ReadyForQuery 'I') may run on another server
session, and PgBouncer 1.18 knows nothing of prepared statements.  With
``statement_cache_size=0`` the driver keeps no named statement and runs
each statement, batch and pipeline with the unnamed statement inside one
exchange, so the workload below must see no failure at all:

- 40 tasks x 30 calls through a PSQLPool of 10 client connections over 3
  server connections; a third of the tasks run their calls inside
  transactions (three of 10 calls each);
- calls: fetch_row, execute, execute_many, pipeline; parameters and
  results of type int8, text, numeric, timestamptz, uuid, jsonb, int4[],
  text[] and an enum (a per-database type, learnt through the pg_type
  query inside the exchange); every value read back is checked, and the
  rows each task wrote are counted at the end on the server itself.

The same workload runs in session mode with the default cache.  With the
default cache in transaction mode, statements fail with the server's own
error about the prepared statement (42P05 "already exists" or 26000 "does
not exist"), promptly; ``prepared=False`` per call avoids it there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, AsyncIterator, Iterator, List, Set, Tuple

import pytest
import pytest_asyncio

from helpers import open_pool
from pgbouncer import PgBouncer
from psqlpy import PSQLPool
from psqlpy.exceptions import DatabaseError

TASKS = 40
CALLS = 30
POOL_SIZE = 10
SERVER_POOL = 3
# a guard against a hang, never a measure: the whole workload takes seconds
HANG_GUARD = 300

T0 = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def bouncer_tx(dsn: str) -> Iterator[PgBouncer]:
    with PgBouncer(dsn, pool_mode="transaction", server_pool_size=SERVER_POOL) as b:
        yield b


@pytest.fixture(scope="module")
def bouncer_session(dsn: str) -> Iterator[PgBouncer]:
    # a session holds its server connection: one per client connection
    with PgBouncer(dsn, pool_mode="session", server_pool_size=POOL_SIZE + 2) as b:
        yield b


@pytest_asyncio.fixture
async def direct(dsn: str) -> AsyncIterator[PSQLPool]:
    """A pool on the server itself, for set-up and for counting."""
    async with open_pool(dsn, max_db_pool_size=1) as p:
        yield p


async def make_table(direct: PSQLPool, name: str) -> None:
    await direct.execute(f"DROP TABLE IF EXISTS {name}")
    await direct.execute(
        "DO $$ BEGIN CREATE TYPE pgb_mood AS ENUM ('calm', 'glad', 'wary');"
        " EXCEPTION WHEN duplicate_object THEN NULL; END $$")
    await direct.execute(
        f"CREATE TABLE {name} (id bigserial PRIMARY KEY, task int4 NOT NULL,"
        " step int4 NOT NULL, amount numeric NOT NULL, at timestamptz NOT NULL,"
        " uid uuid NOT NULL, payload jsonb NOT NULL, tags text[] NOT NULL,"
        " mood pgb_mood NOT NULL)")


def values(task: int, step: int, k: int = 0) -> List[Any]:
    """The typed values of one row: task, step, amount, at, uid, payload, tags, mood."""
    return [
        task,
        step,
        Decimal(f"{task}.{step:02d}{k}") * Decimal("1000.0001"),
        T0 + dt.timedelta(days=task, seconds=step, microseconds=k),
        uuid.UUID(int=(task << 64) | (step << 8) | k),
        {"task": task, "step": step, "k": k, "nested": [1, "two", None, {"x": 1.5}]},
        [f"t{task}", f"s{step}", "with space", "quote\"d", ""],
        ("calm", "glad", "wary")[(task + step + k) % 3],
    ]


ROW_COLUMNS = ("task", "step", "amount", "at", "uid", "payload", "tags", "mood")


async def workload(pool: PSQLPool, table: str, prepared: bool = True
                   ) -> Tuple[int, List[Tuple[int, int, str]], Set[int]]:
    """TASKS tasks x CALLS calls; returns (calls made, failures, server
    process ids seen)."""
    failures: List[Tuple[int, int, str]] = []
    pids: Set[int] = set()
    calls = 0
    insert = (f"INSERT INTO {table} (task, step, amount, at, uid, payload, tags, mood)"
              " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")

    async def one(executor: Any, task: int, step: int, written: List[dt.datetime]) -> None:
        """One call on the pool, a connection or a transaction, checked."""
        v = values(task, step)
        kind = step % 5
        if kind == 0:
            row = (await executor.fetch_row(
                "SELECT $1::int8 * 3 AS i, $2::text || '!' AS t, $3::numeric + 1 AS n,"
                " pg_backend_pid() AS pid",
                [task * 10 ** 12 + step, f"task {task} é", v[2]], prepared=prepared)).result()
            pids.add(row.pop("pid"))
            assert row == {"i": 3 * (task * 10 ** 12 + step), "t": f"task {task} é!",
                           "n": v[2] + 1}
        elif kind == 1:
            res = (await executor.execute(
                "SELECT $1::timestamptz + interval '1 hour' AS at, $2::uuid AS uid,"
                " $3::jsonb || '{\"seen\": true}'::jsonb AS payload",
                [v[3], v[4], v[5]], prepared=prepared)).result()
            assert res == [{"at": v[3] + dt.timedelta(hours=1), "uid": v[4],
                            "payload": {**v[5], "seen": True}}]
        elif kind == 2:
            res = (await executor.execute(
                "SELECT $1::int4[] AS a, array_append($2::text[], 'x') AS tags,"
                " $3::pgb_mood AS mood, ARRAY[$3::pgb_mood] AS moods",
                [[task, None, step], v[6], v[7]], prepared=prepared)).result()
            assert res == [{"a": [task, None, step], "tags": v[6] + ["x"], "mood": v[7],
                            "moods": [v[7]]}]
        elif kind == 3:
            res = (await executor.execute(
                insert + " RETURNING task, step, amount, at, uid, payload, tags, mood", v,
                prepared=prepared)).result()
            assert res == [dict(zip(ROW_COLUMNS, v))]
            written.append(v[3])
        elif (step // 5) % 2 == 0:
            rows = [values(task, step, 1), values(task, step, 2)]
            assert await executor.execute_many(insert, rows, prepared=prepared) is None
            written.extend(r[3] for r in rows)
        else:
            results = await executor.pipeline([
                (insert + " RETURNING uid", values(task, step, 3)),
                (f"SELECT count(*)::int4 AS n, max(at) AS last FROM {table} WHERE task = $1",
                 [task]),
                ("SELECT $1::jsonb AS payload, $2::numeric[] AS amounts",
                 [v[5], [v[2], Decimal("-0.5")]]),
            ], prepared=prepared)
            written.append(values(task, step, 3)[3])
            # the INSERT before it in the same pipeline is visible
            assert [r.result() for r in results] == [
                [{"uid": values(task, step, 3)[4]}],
                [{"n": len(written), "last": max(written)}],
                [{"payload": v[5], "amounts": [v[2], Decimal("-0.5")]}],
            ]

    async def run_call(executor: Any, task: int, step: int,
                       written: List[dt.datetime]) -> None:
        nonlocal calls
        calls += 1
        try:
            await one(executor, task, step, written)
        except Exception as e:  # counted, reported below
            failures.append((task, step, f"{type(e).__name__}: {e}"))

    async def task_fn(task: int) -> None:
        written: List[dt.datetime] = []   # timestamps of the rows this task wrote
        if task % 3 == 0:   # inside transactions: three of CALLS // 3 calls each
            for part in range(3):
                conn = await pool.connection()
                try:
                    async with conn.transaction() as tx:
                        for step in range(part * CALLS // 3, (part + 1) * CALLS // 3):
                            await run_call(tx, task, step, written)
                finally:
                    conn.close()
            return
        for step in range(CALLS):
            if step % 5 == 4:   # batches and pipelines: on a borrowed connection
                conn = await pool.connection()
                try:
                    await run_call(conn, task, step, written)
                finally:
                    conn.close()
            else:
                await run_call(pool, task, step, written)

    await asyncio.wait_for(asyncio.gather(*(task_fn(t) for t in range(TASKS))), HANG_GUARD)
    return calls, failures, pids


async def check_rows(direct: PSQLPool, table: str) -> None:
    """Every task wrote its 15 rows (committed), with the values it sent."""
    per_task = (await direct.execute(
        f"SELECT task, count(*)::int4 AS n FROM {table} GROUP BY task ORDER BY task")).result()
    assert per_task == [{"task": t, "n": 15} for t in range(TASKS)]
    rows = (await direct.execute(
        f"SELECT task, step, amount, at, uid, payload, tags, mood FROM {table}"
        " WHERE task = $1 ORDER BY id", [TASKS - 1])).result()
    want = []
    for step in range(CALLS):
        if step % 5 == 3:
            want.append(values(TASKS - 1, step))
        elif step % 5 == 4:
            ks = (1, 2) if (step // 5) % 2 == 0 else (3,)
            want.extend(values(TASKS - 1, step, k) for k in ks)
    assert rows == [dict(zip(ROW_COLUMNS, v)) for v in want]


def report(mode: str, cache: str, calls: int, failures: List[Tuple[int, int, str]]) -> None:
    print(f"\npgbouncer {mode} mode, {cache}: {calls} calls, {len(failures)} failures")


async def test_transaction_mode_without_statement_cache(
        bouncer_tx: PgBouncer, direct: PSQLPool) -> None:
    await make_table(direct, "pgb_tx_items")
    async with open_pool(bouncer_tx.dsn, max_db_pool_size=POOL_SIZE,
                         statement_cache_size=0) as pool:
        calls, failures, pids = await workload(pool, "pgb_tx_items")
        report("transaction", "statement_cache_size=0", calls, failures)
        assert calls == TASKS * CALLS
        assert failures == []
        # the 10 client connections really shared the 3 server connections
        assert pool.status()["size"] == POOL_SIZE
        assert 1 <= len(pids) <= SERVER_POOL
    await check_rows(direct, "pgb_tx_items")
    await direct.execute("DROP TABLE pgb_tx_items")


async def test_session_mode_with_the_default_cache(
        bouncer_session: PgBouncer, direct: PSQLPool) -> None:
    await make_table(direct, "pgb_session_items")
    async with open_pool(bouncer_session.dsn, max_db_pool_size=POOL_SIZE) as pool:
        calls, failures, pids = await workload(pool, "pgb_session_items")
        report("session", "default cache", calls, failures)
        assert calls == TASKS * CALLS
        assert failures == []
        assert 1 <= len(pids) <= POOL_SIZE
        # the statements stayed prepared on the server sessions
        conn = await pool.connection()
        try:
            named = (await conn.execute(
                "SELECT count(*)::int4 AS n FROM pg_prepared_statements"
                " WHERE name LIKE 'pgd\\_%'")).result()[0]["n"]
        finally:
            conn.close()
        assert named > 0
    await check_rows(direct, "pgb_session_items")
    await direct.execute("DROP TABLE pgb_session_items")


async def test_transaction_mode_with_the_default_cache_fails_clearly(
        bouncer_tx: PgBouncer) -> None:
    """Named statements behind transaction pooling: the server's own error
    about the prepared statement, returned promptly, the pool still usable."""
    errors: List[DatabaseError] = []
    answers = 0

    async def task_fn(task: int) -> None:
        nonlocal answers
        for step in range(CALLS):
            try:
                res = await pool.fetch_row("SELECT $1::int4 + 1 AS v", [task * 100 + step])
            except DatabaseError as e:
                errors.append(e)
            else:
                assert res.result() == {"v": task * 100 + step + 1}
                answers += 1

    async with open_pool(bouncer_tx.dsn, max_db_pool_size=POOL_SIZE) as pool:
        await asyncio.wait_for(asyncio.gather(*(task_fn(t) for t in range(TASKS))),
                               HANG_GUARD)
        report("transaction", "default cache", TASKS * CALLS, [(0, 0, str(e)) for e in errors])
        assert errors, "named statements behind transaction pooling did not collide"
        assert answers + len(errors) == TASKS * CALLS
        for e in errors:
            assert e.sqlstate in ("42P05", "26000"), (e.sqlstate, str(e))
            assert 'prepared statement "pgd_' in str(e)
            assert ("already exists" in str(e)) == (e.sqlstate == "42P05")

        # prepared=False per call: the same pool, no failure
        async def unprepared(task: int) -> None:
            for step in range(CALLS):
                res = await pool.fetch_row("SELECT $1::int4 + 1 AS v, $2::text AS t",
                                           [step, f"u{task}"], prepared=False)
                assert res.result() == {"v": step + 1, "t": f"u{task}"}
                res = await pool.execute("SELECT $1::int8[] AS a", [[task, step]],
                                         prepared=False)
                assert res.result() == [{"a": [task, step]}]

        await asyncio.wait_for(asyncio.gather(*(unprepared(t) for t in range(TASKS))),
                               HANG_GUARD)


async def test_prepared_false_everywhere_in_transaction_mode(
        bouncer_tx: PgBouncer, direct: PSQLPool) -> None:
    """The default cache, every call with prepared=False: the full workload."""
    await make_table(direct, "pgb_unprep_items")
    async with open_pool(bouncer_tx.dsn, max_db_pool_size=POOL_SIZE) as pool:
        calls, failures, _ = await workload(pool, "pgb_unprep_items", prepared=False)
        report("transaction", "default cache, prepared=False", calls, failures)
        assert calls == TASKS * CALLS
        assert failures == []
    await check_rows(direct, "pgb_unprep_items")
    await direct.execute("DROP TABLE pgb_unprep_items")


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True])
def test_statement_cache_size_is_checked(bad: Any) -> None:
    from psqlpy.exceptions import PoolConfigurationError
    with pytest.raises(PoolConfigurationError, match="statement_cache_size"):
        PSQLPool(dsn="postgresql://u@127.0.0.1/db", statement_cache_size=bad)


async def test_no_statement_stays_prepared_without_the_cache(dsn: str) -> None:
    """Directly on the server: statement_cache_size=0, and prepared=False
    with the cache, leave nothing in pg_prepared_statements."""
    async with open_pool(dsn, max_db_pool_size=1, statement_cache_size=0) as pool:
        conn = await pool.connection()
        try:
            await conn.execute("SELECT $1::int4", [1])
            await conn.execute_many("SELECT $1::text", [["a"], ["b"]])
            await conn.pipeline([("SELECT 1", None), ("SELECT $1::int8", [2])])
            res = await conn.execute("SELECT count(*)::int4 AS n FROM pg_prepared_statements")
            assert res.result() == [{"n": 0}]
        finally:
            conn.close()
    async with open_pool(dsn, max_db_pool_size=1) as pool:
        await pool.execute("SELECT $1::int4 AS f", [1], prepared=False)
        conn = await pool.connection()   # the same connection: the pool has one
        try:
            await conn.execute("SELECT $1::int4 AS a", [1], prepared=False)
            await conn.fetch_row("SELECT $1::int4 AS b", [1], prepared=False)
            await conn.execute_many("SELECT $1::text AS c", [["a"]], prepared=False)
            await conn.pipeline([("SELECT $1::int8 AS d", [2])], prepared=False)
            async with conn.transaction() as tx:
                await tx.execute("SELECT $1::int4 AS e", [1], prepared=False)
            res = await conn.execute("SELECT count(*)::int4 AS n FROM pg_prepared_statements",
                                     prepared=False)
            assert res.result() == [{"n": 0}]
            await conn.execute("SELECT $1::int4 AS g", [1])
            res = await conn.execute("SELECT name FROM pg_prepared_statements")
            assert len(res.result()) == 2   # the two prepared=True statements
        finally:
            conn.close()
