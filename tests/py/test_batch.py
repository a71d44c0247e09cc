"""execute_many(), fetch_row() and pipeline(), on a connection and in a transaction.

What the server ends up holding is checked from another pool connection;
that execute_many/pipeline are pipelined is checked on the wire through
helpers3.WireProxy (counting Syncs, Binds and client turns), never by
timing.
"""

from __future__ import annotations

import psqlpy
import pytest
from psqlpy import exceptions as exc

from helpers3 import (  # noqa: F401  (fixtures)
    column,
    conn,
    count_rows,
    open_pool,
    pool,
    scratch_table,
    table,
    wire_proxy,
)


# --------------------------------------------------------------------------
# execute_many


async def test_execute_many_inserts_every_row(pool, conn, table):
    rows = [[i, f"value {i}"] for i in range(500)]
    ret = await conn.execute_many(f"INSERT INTO {table} (id, v) VALUES ($1, $2)", rows)
    assert ret is None
    res = await pool.execute(f"SELECT id, v FROM {table} ORDER BY id")
    assert res.result() == [{"id": i, "v": f"value {i}"} for i in range(500)]


async def test_execute_many_accepts_tuples_and_keywords(pool, conn, table):
    await conn.execute_many(querystring=f"INSERT INTO {table} (id, v) VALUES ($1, $2)",
                            parameters=[(1, "a"), (2, "b")])
    res = await pool.execute(f"SELECT id, v FROM {table} ORDER BY id")
    assert res.result() == [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]


async def test_execute_many_in_transaction_commit_and_rollback(pool, conn, table):
    tx = conn.transaction()
    await tx.begin()
    await tx.execute_many(f"INSERT INTO {table} (id) VALUES ($1)", [[i] for i in range(10)])
    assert (await tx.fetch_row(f"SELECT count(*)::int AS n FROM {table}")).result() == {"n": 10}
    assert await count_rows(pool, table) == 0        # not visible before commit
    await tx.rollback()
    assert await count_rows(pool, table) == 0

    async with conn.transaction() as tx:
        await tx.execute_many(f"INSERT INTO {table} (id) VALUES ($1)", [[i] for i in range(10)])
    assert await count_rows(pool, table) == 10


async def test_execute_many_is_all_or_nothing_on_a_connection(pool, conn, table):
    rows = [[i] for i in range(1000)]
    rows[700] = [3]                                   # duplicate key in the middle
    with pytest.raises(exc.IntegrityError) as ei:
        await conn.execute_many(f"INSERT INTO {table} (id) VALUES ($1)", rows)
    assert ei.value.sqlstate == "23505"
    assert await count_rows(pool, table) == 0
    # the connection is usable afterwards and not left in a transaction
    assert conn.transaction_status == "idle"
    await conn.execute_many(f"INSERT INTO {table} (id) VALUES ($1)", [[1], [2]])
    assert await count_rows(pool, table) == 2


async def test_execute_many_failure_rolls_back_the_whole_transaction(pool, conn, table):
    tx = conn.transaction()
    await tx.begin()
    await tx.execute(f"INSERT INTO {table} (id) VALUES (-1)")
    with pytest.raises(exc.IntegrityError):
        await tx.execute_many(f"INSERT INTO {table} (id) VALUES ($1)", [[1], [2], [-1], [4]])
    assert conn.transaction_status == "inerror"
    await tx.rollback()
    assert await count_rows(pool, table) == 0
    assert conn.transaction_status == "idle"


async def test_execute_many_failure_inside_async_with_rolls_back(pool, conn, table):
    with pytest.raises(exc.IntegrityError):
        async with conn.transaction() as tx:
            await tx.execute(f"INSERT INTO {table} (id) VALUES (100)")
            await tx.execute_many(f"INSERT INTO {table} (id) VALUES ($1)", [[1], [1]])
    assert await count_rows(pool, table) == 0
    assert conn.transaction_status == "idle"


@pytest.mark.parametrize("bad_row", [["not a number"], [1, 2], None, [object()]],
                         ids=["wrong-type", "too-many-values", "not-a-list", "unconvertible"])
async def test_execute_many_bad_parameters_insert_nothing(pool, conn, table, bad_row):
    rows = [[1], [2], bad_row, [4]]
    with pytest.raises(exc.Error):
        await conn.execute_many(f"INSERT INTO {table} (id) VALUES ($1)", rows)
    assert await count_rows(pool, table) == 0
    assert conn.transaction_status == "idle"
    res = await conn.execute("SELECT 1 AS one")
    assert res.result() == [{"one": 1}]


async def test_execute_many_10000_rows_is_one_pipeline(dsn_parts, wire_proxy):
    """10,000 rows: one Bind/Execute each, but a single Sync and no waiting
    for the server between rows, where a statement per row waits per row."""
    async with open_pool(wire_proxy.dsn(dsn_parts), 1) as pool, scratch_table(pool) as table:
        async with await pool.transaction() as tx:
            assert len(wire_proxy.connections) == 1
            wire = wire_proxy.connections[0]

            # control: the instrument sees per-row round trips when there are some
            before = wire.snapshot()
            for i in range(50):
                await tx.execute(f"INSERT INTO {table} (id) VALUES ($1)", [-1 - i])
            control = wire.snapshot() - before
            assert control.sent["S"] >= 50
            assert control.waits >= 50 and control.turns >= 50

            before = wire.snapshot()
            await tx.execute_many(f"INSERT INTO {table} (id, v) VALUES ($1, $2)",
                                  [[i, str(i)] for i in range(10_000)])
            batch = wire.snapshot() - before
        assert batch.sent["B"] == 10_000
        assert batch.sent["E"] == 10_000
        assert batch.sent["Q"] == 0
        assert batch.sent["S"] <= 2      # at most a prepare, then the one pipeline Sync
        assert batch.waits <= 2          # the same: at most two complete round trips
        # byte-level interleaving grows with the bytes sent (~700 kB here), never per row
        assert batch.turns <= 100
        res = await pool.fetch_row(
            f"SELECT count(*)::int AS n, sum(id)::bigint AS s FROM {table} WHERE id >= 0")
        assert res.result() == {"n": 10_000, "s": sum(range(10_000))}


# --------------------------------------------------------------------------
# fetch_row


async def test_fetch_row_returns_first_row_as_dict(conn):
    tx = conn.transaction()
    await tx.begin()
    row = await tx.fetch_row(
        "SELECT n, 'v' || n AS v FROM generate_series($1::int, $2::int) n ORDER BY n DESC",
        [3, 7])
    assert isinstance(row, psqlpy.SingleQueryResult)
    assert row.result() == {"n": 7, "v": "v7"}
    await tx.commit()


async def test_fetch_row_keywords_and_no_parameters(conn):
    tx = conn.transaction()
    await tx.begin()
    row = await tx.fetch_row(querystring="SELECT $1::text AS s", parameters=["hello"])
    assert row.result() == {"s": "hello"}
    row = await tx.fetch_row("SELECT 42 AS answer")
    assert row.result() == {"answer": 42}
    await tx.commit()


async def test_fetch_row_as_class(conn):
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    tx = conn.transaction()
    await tx.begin()
    p = (await tx.fetch_row("SELECT 1 AS x, 2 AS y")).as_class(Point)
    assert isinstance(p, Point) and (p.x, p.y) == (1, 2)
    await tx.commit()


async def test_fetch_row_without_rows_raises_no_rows_error(pool, conn, table):
    tx = conn.transaction()
    await tx.begin()
    await tx.execute(f"INSERT INTO {table} (id) VALUES (1)")
    with pytest.raises(exc.NoRowsError) as ei:
        await tx.fetch_row(f"SELECT id FROM {table} WHERE id = $1", [2])
    assert isinstance(ei.value, exc.DBPoolError)
    # not a server error: the transaction goes on and commits
    assert conn.transaction_status == "intrans"
    assert (await tx.fetch_row(f"SELECT id FROM {table} WHERE id = $1", [1])).result() == {"id": 1}
    await tx.commit()
    assert await count_rows(pool, table) == 1


async def test_fetch_row_server_error_is_not_no_rows(conn):
    tx = conn.transaction()
    await tx.begin()
    with pytest.raises(exc.DatabaseError) as ei:
        await tx.fetch_row("SELECT 1 / 0 AS x")
    assert not isinstance(ei.value, exc.NoRowsError)
    assert ei.value.sqlstate == "22012"
    await tx.rollback()


# --------------------------------------------------------------------------
# pipeline


async def test_pipeline_returns_results_in_order(pool, table):
    tx = await pool.transaction()
    results = await tx.pipeline([
        (f"INSERT INTO {table} (id, v) VALUES ($1, $2) RETURNING id", [1, "one"]),
        (f"INSERT INTO {table} (id, v) VALUES (2, 'two') RETURNING v", None),
        (f"SELECT id, v FROM {table} ORDER BY id", None),
        ("SELECT $1::int + $2::int AS sum", [20, 22]),
    ])
    assert isinstance(results, list) and len(results) == 4
    assert all(isinstance(r, psqlpy.QueryResult) for r in results)
    assert results[0].result() == [{"id": 1}]
    assert results[1].result() == [{"v": "two"}]
    assert results[2].result() == [{"id": 1, "v": "one"}, {"id": 2, "v": "two"}]
    assert results[3].result() == [{"sum": 42}]
    await tx.commit()
    assert await count_rows(pool, table) == 2


async def test_pipeline_keyword_and_empty(conn):
    tx = conn.transaction()
    await tx.begin()
    results = await tx.pipeline(queries=[("SELECT 1 AS a", None)])
    assert [r.result() for r in results] == [[{"a": 1}]]
    assert await tx.pipeline([]) == []
    await tx.commit()


async def test_pipeline_is_one_sync(dsn_parts, wire_proxy):
    async with open_pool(wire_proxy.dsn(dsn_parts), 1) as pool:
        tx = await pool.transaction()
        wire = wire_proxy.connections[0]
        before = wire.snapshot()
        results = await tx.pipeline([("SELECT $1::int AS i", [i]) for i in range(200)])
        batch = wire.snapshot() - before
        await tx.commit()
    assert [r.result() for r in results] == [[{"i": i}] for i in range(200)]
    assert batch.sent["B"] == 200 and batch.sent["E"] == 200
    assert batch.sent["S"] <= 2
    assert batch.waits <= 2


@pytest.mark.parametrize("bad", [0, 2, 4])
async def test_pipeline_error_index_and_rollback_on_connection(pool, conn, table, bad):
    queries = [(f"INSERT INTO {table} (id) VALUES ($1)", [i]) for i in range(5)]
    queries[bad] = ("SELECT 1 / 0", None)
    with pytest.raises(exc.DataError) as ei:
        await conn.pipeline(queries)
    assert ei.value.index == bad
    assert ei.value.sqlstate == "22012"
    # one implicit transaction: the inserts before the failing query are gone too
    assert await count_rows(pool, table) == 0
    assert conn.transaction_status == "idle"
    res = await conn.pipeline([("SELECT 7 AS seven", None)])
    assert res[0].result() == [{"seven": 7}]


async def test_pipeline_error_in_transaction_rolls_everything_back(pool, conn, table):
    tx = conn.transaction()
    await tx.begin()
    await tx.execute(f"INSERT INTO {table} (id) VALUES (100)")
    with pytest.raises(exc.ProgrammingError) as ei:
        await tx.pipeline([
            (f"INSERT INTO {table} (id) VALUES (1)", None),
            (f"INSERT INTO {table} (id) VALUES (2)", None),
            ("SELECT no_such_column FROM pg_class", None),
            (f"INSERT INTO {table} (id) VALUES (3)", None),
        ])
    assert ei.value.index == 2
    assert ei.value.sqlstate == "42703"
    await tx.rollback()
    assert await count_rows(pool, table) == 0
    # the connection is usable again
    async with conn.transaction() as tx2:
        await tx2.pipeline([(f"INSERT INTO {table} (id) VALUES (5)", None)])
    assert await count_rows(pool, table) == 1


async def test_pipeline_parameter_error_has_index(pool, conn, table):
    with pytest.raises(exc.ParameterError) as ei:
        await conn.pipeline([
            (f"INSERT INTO {table} (id) VALUES ($1)", [1]),
            (f"INSERT INTO {table} (id) VALUES ($1)", ["not a number"]),
        ])
    assert ei.value.index == 1
    assert await count_rows(pool, table) == 0
    assert conn.transaction_status == "idle"


async def test_pipeline_from_pool_transaction_reference_example(pool, table):
    """The reference README's pattern: transaction = await pool.transaction()."""
    transaction = await pool.transaction()
    results = await transaction.pipeline(queries=[
        (f"INSERT INTO {table} (id, v) VALUES ($1, $2)", [1, "x"]),
        (f"SELECT v FROM {table} WHERE id = $1", [1]),
    ])
    assert results[1].result() == [{"v": "x"}]
    await transaction.commit()
    assert await count_rows(pool, table) == 1
