"""Transactions: options, context manager, manual control, finished state,
savepoints, pool transactions and concurrency.

Every effect is checked on the server: SHOW for the options, row counts
from another pool connection for commit/rollback, pg_backend_pid() for
which connection runs what.
"""

from __future__ import annotations

import asyncio

import psqlpy
import pytest
from psqlpy import IsolationLevel, ReadVariant
from psqlpy import exceptions as exc

from helpers3 import (  # noqa: F401  (fixtures)
    conn,
    count_rows,
    open_pool,
    pool,
    scratch_table,
    table,
)


async def show(tx, setting: str) -> str:
    return (await tx.fetch_row(f"SHOW {setting}")).result()[setting]


async def backend_pid(runner) -> int:
    return (await runner.fetch_row("SELECT pg_backend_pid() AS pid")).result()["pid"]


# --------------------------------------------------------------------------
# options


async def test_transaction_is_returned_without_await(conn):
    tx = conn.transaction()
    assert isinstance(tx, psqlpy.Transaction)
    assert conn.transaction_status == "idle"       # nothing sent yet
    await tx.begin()
    assert conn.transaction_status == "intrans"
    await tx.rollback()


@pytest.mark.parametrize("level, shown", [
    (IsolationLevel.ReadUncommitted, "read uncommitted"),
    (IsolationLevel.ReadCommitted, "read committed"),
    (IsolationLevel.RepeatableRead, "repeatable read"),
    (IsolationLevel.Serializable, "serializable"),
])
async def test_isolation_level_is_applied(conn, level, shown):
    tx = conn.transaction(isolation_level=level)
    await tx.begin()
    assert await show(tx, "transaction_isolation") == shown
    await tx.commit()


async def test_default_options_are_the_servers(conn):
    await conn.execute("SET default_transaction_isolation = 'repeatable read'")
    try:
        async with conn.transaction() as tx:
            assert await show(tx, "transaction_isolation") == "repeatable read"
            assert await show(tx, "transaction_read_only") == "off"
            assert await show(tx, "transaction_deferrable") == "off"
    finally:
        await conn.execute("RESET default_transaction_isolation")


async def test_read_only_rejects_writes(pool, conn, table):
    tx = conn.transaction(read_variant=ReadVariant.ReadOnly)
    await tx.begin()
    assert await show(tx, "transaction_read_only") == "on"
    with pytest.raises(exc.DatabaseError) as ei:
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
    assert ei.value.sqlstate == "25006"            # read_only_sql_transaction
    await tx.rollback()
    assert await count_rows(pool, table) == 0


async def test_read_write_allows_writes(pool, conn, table):
    await conn.execute("SET default_transaction_read_only = on")
    try:
        async with conn.transaction(read_variant=ReadVariant.ReadWrite) as tx:
            assert await show(tx, "transaction_read_only") == "off"
            await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
    finally:
        await conn.execute("RESET default_transaction_read_only")
    assert await count_rows(pool, table) == 1


@pytest.mark.parametrize("deferrable, shown", [(True, "on"), (False, "off")])
async def test_deferrable_is_applied(conn, deferrable, shown):
    tx = conn.transaction(isolation_level=IsolationLevel.Serializable,
                          read_variant=ReadVariant.ReadOnly, deferrable=deferrable)
    await tx.begin()
    assert await show(tx, "transaction_isolation") == "serializable"
    assert await show(tx, "transaction_read_only") == "on"
    assert await show(tx, "transaction_deferrable") == shown
    await tx.commit()


async def test_options_by_keyword_on_pool_transaction(pool):
    tx = await pool.transaction(isolation_level=IsolationLevel.RepeatableRead,
                                read_variant=ReadVariant.ReadOnly, deferrable=False)
    assert await show(tx, "transaction_isolation") == "repeatable read"
    assert await show(tx, "transaction_read_only") == "on"
    await tx.commit()


@pytest.mark.parametrize("kwargs", [
    {"isolation_level": "serializable"},
    {"read_variant": 1},
    {"deferrable": "yes"},
])
async def test_invalid_options_are_rejected(conn, kwargs):
    with pytest.raises((exc.Error, TypeError, ValueError)):
        tx = conn.transaction(**kwargs)
        await tx.begin()
    assert conn.transaction_status == "idle"


async def test_repeatable_read_keeps_its_snapshot(pool, table):
    c1 = await pool.connection()
    c2 = await pool.connection()
    try:
        rr = c1.transaction(isolation_level=IsolationLevel.RepeatableRead)
        await rr.begin()
        assert (await rr.fetch_row(f"SELECT count(*)::int AS n FROM {table}")).result()["n"] == 0
        await c2.execute(f"INSERT INTO {table} (id) VALUES (1)")   # autocommitted
        assert (await rr.fetch_row(f"SELECT count(*)::int AS n FROM {table}")).result()["n"] == 0
        await rr.commit()

        rc = c1.transaction(isolation_level=IsolationLevel.ReadCommitted)
        await rc.begin()
        assert (await rc.fetch_row(f"SELECT count(*)::int AS n FROM {table}")).result()["n"] == 1
        await c2.execute(f"INSERT INTO {table} (id) VALUES (2)")
        assert (await rc.fetch_row(f"SELECT count(*)::int AS n FROM {table}")).result()["n"] == 2
        await rc.commit()
    finally:
        c1.close()
        c2.close()


async def test_serializable_detects_write_skew(pool, table):
    """Each transaction reads what the other writes: one of them must fail."""
    c1 = await pool.connection()
    c2 = await pool.connection()
    try:
        t1 = c1.transaction(isolation_level=IsolationLevel.Serializable)
        t2 = c2.transaction(isolation_level=IsolationLevel.Serializable)
        await t1.begin()
        await t2.begin()
        await t1.execute(f"SELECT count(*) FROM {table} WHERE v = 'b'")
        await t2.execute(f"SELECT count(*) FROM {table} WHERE v = 'a'")
        await t1.execute(f"INSERT INTO {table} (id, v) VALUES (1, 'a')")
        await t2.execute(f"INSERT INTO {table} (id, v) VALUES (2, 'b')")
        await t1.commit()
        with pytest.raises(exc.TransactionRollbackError) as ei:
            await t2.commit()
        assert ei.value.sqlstate == "40001"
    finally:
        c1.close()
        c2.close()
    assert (await pool.execute(f"SELECT id FROM {table}")).result() == [{"id": 1}]


# --------------------------------------------------------------------------
# async with


async def test_async_with_commits_on_normal_exit(pool, conn, table):
    async with conn.transaction() as tx:
        assert isinstance(tx, psqlpy.Transaction)
        assert conn.transaction_status == "intrans"
        await tx.execute(f"INSERT INTO {table} (id) VALUES ($1)", [1])
        assert await count_rows(pool, table) == 0    # other connection: not yet
    assert conn.transaction_status == "idle"
    assert await count_rows(pool, table) == 1
    with pytest.raises(exc.DBTransactionError, match="finished"):
        await tx.execute("SELECT 1")


async def test_async_with_rolls_back_and_reraises(pool, conn, table):
    class Boom(Exception):
        pass

    boom = Boom()
    with pytest.raises(Boom) as ei:
        async with conn.transaction() as tx:
            await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
            raise boom
    assert ei.value is boom
    assert conn.transaction_status == "idle"
    assert await count_rows(pool, table) == 0
    with pytest.raises(exc.DBTransactionError, match="finished"):
        await tx.commit()


async def test_async_with_rolls_back_on_server_error(pool, conn, table):
    with pytest.raises(exc.IntegrityError):
        async with conn.transaction() as tx:
            await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
            await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
    assert conn.transaction_status == "idle"
    assert await count_rows(pool, table) == 0
    # the connection goes on working
    assert (await conn.execute("SELECT 1 AS one")).result() == [{"one": 1}]


# --------------------------------------------------------------------------
# manual control and the finished state


async def test_begin_commit(pool, conn, table):
    tx = conn.transaction()
    await tx.begin()
    await tx.execute(f"INSERT INTO {table} (id, v) VALUES ($1, $2)", [1, "a"])
    assert await count_rows(pool, table) == 0
    await tx.commit()
    assert conn.transaction_status == "idle"
    assert (await pool.execute(f"SELECT id, v FROM {table}")).result() == [{"id": 1, "v": "a"}]


async def test_begin_rollback(pool, conn, table):
    tx = conn.transaction()
    await tx.begin()
    await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
    await tx.rollback()
    assert conn.transaction_status == "idle"
    assert await count_rows(pool, table) == 0


_CALLS = {
    "begin": lambda tx: tx.begin(),
    "commit": lambda tx: tx.commit(),
    "rollback": lambda tx: tx.rollback(),
    "execute": lambda tx: tx.execute("SELECT 1"),
    "execute_many": lambda tx: tx.execute_many("SELECT $1::int", [[1]]),
    "fetch_row": lambda tx: tx.fetch_row("SELECT 1"),
    "pipeline": lambda tx: tx.pipeline([("SELECT 1", None)]),
    "savepoint": lambda tx: tx.savepoint("sp"),
    "rollback_to": lambda tx: tx.rollback_to("sp"),
    "release_savepoint": lambda tx: tx.release_savepoint("sp"),
    "cursor": lambda tx: tx.cursor("SELECT 1"),
}


async def _call(name, tx):
    return await _CALLS[name](tx)


@pytest.mark.parametrize("ending", ["commit", "rollback"])
@pytest.mark.parametrize("call", sorted(_CALLS))
async def test_finished_transaction_refuses_everything(pool, conn, table, ending, call):
    tx = conn.transaction()
    await tx.begin()
    await tx.savepoint("sp")
    await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
    await getattr(tx, ending)()
    with pytest.raises(exc.DBTransactionError, match="finished"):
        await _call(call, tx)
    # nothing reached the server: no transaction was opened, the data stands
    assert conn.transaction_status == "idle"
    assert await count_rows(pool, table) == (1 if ending == "commit" else 0)


async def test_begin_twice_raises_and_transaction_stays_usable(pool, conn, table):
    tx = conn.transaction()
    await tx.begin()
    await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
    with pytest.raises(exc.DBTransactionError):
        await tx.begin()
    assert conn.transaction_status == "intrans"
    await tx.execute(f"INSERT INTO {table} (id) VALUES (2)")
    await tx.commit()
    assert await count_rows(pool, table) == 2


@pytest.mark.parametrize("call", sorted(set(_CALLS) - {"begin"}))
async def test_calls_before_begin_raise(conn, call):
    tx = conn.transaction()
    with pytest.raises(exc.DBTransactionError):
        await _call(call, tx)
    assert conn.transaction_status == "idle"
    # the transaction can still begin normally afterwards
    await tx.begin()
    assert conn.transaction_status == "intrans"
    await tx.rollback()


async def test_transaction_error_alias():
    assert exc.DBTransactionError is exc.TransactionError
    assert issubclass(exc.DBTransactionError, exc.RustPSQLDriverPyBaseError)


async def test_execute_in_transaction_is_like_the_pools(pool, conn, table):
    query = "SELECT $1::int AS a, $2::text AS b, $3::int[] AS c"
    params = [7, "seven", [1, 2]]
    tx = conn.transaction()
    await tx.begin()
    got = await tx.execute(querystring=query, parameters=params)
    assert isinstance(got, psqlpy.QueryResult)
    assert got.result() == (await pool.execute(query, params)).result() == [
        {"a": 7, "b": "seven", "c": [1, 2]}]
    ins = await tx.execute(f"INSERT INTO {table} (id) SELECT generate_series(1, 3)")
    assert ins.rows_affected == 3
    assert (await tx.execute(f"SELECT id FROM {table} ORDER BY id")).result() == [
        {"id": 1}, {"id": 2}, {"id": 3}]
    await tx.commit()


# --------------------------------------------------------------------------
# savepoints


async def ids(runner, table) -> list[int]:
    return [r["id"] for r in (await runner.execute(f"SELECT id FROM {table} ORDER BY id")).result()]


async def test_rollback_to_savepoint_undoes_later_work(pool, conn, table):
    async with conn.transaction() as tx:
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        await tx.savepoint("sp1")
        await tx.execute(f"INSERT INTO {table} (id) VALUES (2)")
        await tx.rollback_to("sp1")
        assert await ids(tx, table) == [1]
        # the savepoint survives rollback_to: it can be used again
        await tx.execute(f"INSERT INTO {table} (id) VALUES (3)")
        await tx.rollback_to(savepoint_name="sp1")
        await tx.execute(f"INSERT INTO {table} (id) VALUES (4)")
    assert await ids(pool, table) == [1, 4]


async def test_release_savepoint_keeps_work_and_forgets_name(pool, conn, table):
    async with conn.transaction() as tx:
        await tx.savepoint(savepoint_name="sp1")
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        await tx.release_savepoint(savepoint_name="sp1")
        with pytest.raises(exc.DBTransactionError):
            await tx.rollback_to("sp1")
        with pytest.raises(exc.DBTransactionError):
            await tx.release_savepoint("sp1")
        assert conn.transaction_status == "intrans"
        # the name is free again
        await tx.savepoint("sp1")
        await tx.execute(f"INSERT INTO {table} (id) VALUES (2)")
        await tx.rollback_to("sp1")
    assert await ids(pool, table) == [1]


async def test_duplicate_savepoint_name_raises(pool, conn, table):
    async with conn.transaction() as tx:
        await tx.savepoint("sp")
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        with pytest.raises(exc.DBTransactionError):
            await tx.savepoint("sp")
        assert conn.transaction_status == "intrans"
        # the original savepoint is still the one rolled back to
        await tx.execute(f"INSERT INTO {table} (id) VALUES (2)")
        await tx.rollback_to("sp")
        assert await ids(tx, table) == []


@pytest.mark.parametrize("method", ["rollback_to", "release_savepoint"])
async def test_unknown_savepoint_raises(pool, conn, table, method):
    async with conn.transaction() as tx:
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        await tx.savepoint("known")
        with pytest.raises(exc.DBTransactionError):
            await getattr(tx, method)("unknown")
        assert conn.transaction_status == "intrans"   # not aborted
    assert await ids(pool, table) == [1]


async def test_rollback_to_earlier_savepoint_drops_later_ones(conn, table):
    async with conn.transaction() as tx:
        await tx.savepoint("a")
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        await tx.savepoint("b")
        await tx.execute(f"INSERT INTO {table} (id) VALUES (2)")
        await tx.savepoint("c")
        await tx.rollback_to("a")
        assert await ids(tx, table) == []
        for gone in ("b", "c"):
            with pytest.raises(exc.DBTransactionError):
                await tx.rollback_to(gone)
        await tx.savepoint("b")                      # free again
        await tx.release_savepoint("a")              # releases b too
        for gone in ("a", "b"):
            with pytest.raises(exc.DBTransactionError):
                await tx.release_savepoint(gone)
        await tx.rollback()


async def test_rollback_to_recovers_a_failed_transaction(pool, conn, table):
    async with conn.transaction() as tx:
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        await tx.savepoint("before_error")
        with pytest.raises(exc.IntegrityError):
            await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        assert conn.transaction_status == "inerror"
        await tx.rollback_to("before_error")
        assert conn.transaction_status == "intrans"
        await tx.execute(f"INSERT INTO {table} (id) VALUES (2)")
    assert await ids(pool, table) == [1, 2]


@pytest.mark.parametrize("name", [
    'x"; DROP TABLE {table}; --',
    "x'; DROP TABLE {table}; --",
    "with space",
    "MixedCase",
    'quote""d',
    "ünïcødé ✓",
])
async def test_savepoint_names_are_quoted(pool, conn, table, name):
    name = name.format(table=table)
    async with conn.transaction() as tx:
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        await tx.savepoint(name)
        await tx.execute(f"INSERT INTO {table} (id) VALUES (2)")
        await tx.rollback_to(name)
        assert await ids(tx, table) == [1]
        await tx.release_savepoint(name)
        assert conn.transaction_status == "intrans"
    assert await ids(pool, table) == [1]                 # the table is still there


async def test_savepoint_names_are_case_sensitive(conn, table):
    async with conn.transaction() as tx:
        await tx.savepoint("sp")
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        await tx.savepoint("SP")
        await tx.execute(f"INSERT INTO {table} (id) VALUES (2)")
        await tx.rollback_to("SP")
        assert await ids(tx, table) == [1]
        await tx.rollback_to("sp")
        assert await ids(tx, table) == []
        await tx.rollback()


# --------------------------------------------------------------------------
# pool transactions and connection hand-out


async def test_pool_transaction_is_begun_on_its_own_connection(pool, table):
    other = await pool.connection()
    try:
        tx = await pool.transaction()
        assert isinstance(tx, psqlpy.Transaction)
        assert pool.status()["idle"] == 0            # both connections are out
        assert await backend_pid(tx) != await backend_pid(other)
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        # already begun: invisible to the other connection until commit
        assert (await other.fetch_row(f"SELECT count(*)::int AS n FROM {table}")).result()["n"] == 0
        with pytest.raises(exc.DBTransactionError):
            await tx.begin()
        await tx.commit()
        assert (await other.fetch_row(f"SELECT count(*)::int AS n FROM {table}")).result()["n"] == 1
    finally:
        other.close()


@pytest.mark.parametrize("ending", ["commit", "rollback"])
async def test_pool_transaction_connection_is_held_until_it_ends(dsn, ending):
    async with open_pool(dsn, 1) as pool:
        tx = await pool.transaction()
        pid = await backend_pid(tx)
        waiter = asyncio.ensure_future(pool.execute(
            "SELECT pg_backend_pid() AS pid, current_setting('transaction_isolation') AS iso"))
        for _ in range(20):
            await asyncio.sleep(0.005)
        assert not waiter.done()                    # the only connection is in the transaction
        assert pool.status()["waiting"] == 1
        await getattr(tx, ending)()
        res = await asyncio.wait_for(waiter, 10)
        assert res.result()[0]["pid"] == pid        # the same connection, given back
        conn = await pool.connection()
        try:
            assert conn.transaction_status == "idle"
        finally:
            conn.close()


async def test_pool_transaction_async_with(dsn):
    async with open_pool(dsn, 1) as pool, scratch_table(pool) as table:
        async with await pool.transaction() as tx:
            assert pool.status()["idle"] == 0
            await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        assert pool.status()["idle"] == 1
        assert await count_rows(pool, table) == 1
        with pytest.raises(ZeroDivisionError):
            async with await pool.transaction() as tx:
                await tx.execute(f"INSERT INTO {table} (id) VALUES (2)")
                1 / 0
        assert pool.status()["idle"] == 1
        assert await count_rows(pool, table) == 1


async def test_connection_given_back_mid_transaction_is_not_reused_in_it(dsn):
    """A connection closed while its transaction is open must not reach the
    next borrower still inside that transaction."""
    async with open_pool(dsn, 1) as pool, scratch_table(pool) as table:
        conn = await pool.connection()
        tx = conn.transaction()
        await tx.begin()
        await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
        conn.close()
        nxt = await pool.connection()
        try:
            assert nxt.transaction_status == "idle"
            assert (await nxt.fetch_row(f"SELECT count(*)::int AS n FROM {table}")).result()["n"] == 0
        finally:
            nxt.close()


# --------------------------------------------------------------------------
# concurrency


async def test_many_tasks_never_share_a_connection_between_live_transactions(dsn):
    tasks_n, rounds, size = 12, 4, 3
    live: dict[int, int] = {}                       # backend pid -> task id
    overlaps: list[tuple[int, int, int]] = []
    async with open_pool(dsn, size) as pool, scratch_table(pool, "task int, round int, pid int") as table:

        async def body(tx, task: int, rnd: int) -> None:
            pid = await backend_pid(tx)
            if pid in live:
                overlaps.append((pid, live[pid], task))
            live[pid] = task
            xid = (await tx.fetch_row("SELECT pg_current_xact_id()::text AS x")).result()["x"]
            await asyncio.sleep(0)
            await tx.execute(f"INSERT INTO {table} VALUES ($1, $2, $3)", [task, rnd, pid])
            await asyncio.sleep(0.001)
            # still the same backend and the same server transaction
            again = (await tx.fetch_row(
                "SELECT pg_backend_pid() AS pid, pg_current_xact_id()::text AS x")).result()
            assert again == {"pid": pid, "x": xid}
            assert pool.status()["size"] <= size
            del live[pid]

        async def worker(task: int) -> None:
            for rnd in range(rounds):
                if (task + rnd) % 2:
                    async with await pool.transaction() as tx:
                        await body(tx, task, rnd)
                else:
                    conn = await pool.connection()
                    try:
                        async with conn.transaction(
                                isolation_level=IsolationLevel.RepeatableRead) as tx:
                            await body(tx, task, rnd)
                    finally:
                        conn.close()

        await asyncio.wait_for(asyncio.gather(*(worker(t) for t in range(tasks_n))), 30)
        assert overlaps == []
        res = await pool.fetch_row(
            f"SELECT count(*)::int AS n, count(DISTINCT (task, round))::int AS d, "
            f"count(DISTINCT pid)::int AS p FROM {table}")
        assert res.result()["n"] == tasks_n * rounds
        assert res.result()["d"] == tasks_n * rounds
        assert res.result()["p"] <= size
        assert pool.status()["size"] <= size
