"""COPY: copy_records_to_table, binary_copy_to_table, copy_from_query and
copy_from_table, on PSQLPool's Connection/Transaction and the 0.13 API.

What the server holds afterwards is checked from another pool connection;
COPY out is compared with the server's own output of the same COPY (read
through a text-mode query of the same data).  Memory boundedness is
checked with tracemalloc's peak, backpressure by counting what the server
managed to send while the consumer held back (pg_stat_activity's state),
never by timing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import io
import json
import tracemalloc
import uuid

import psqlpy
import pytest
from psqlpy import exceptions as exc

from helpers3 import (  # noqa: F401  (fixtures)
    conn,
    count_rows,
    open_pool,
    pool,
    scratch_table,
    table,
)

MANY_COLS = (
    "i int, b bigint, t text, n numeric, ts timestamptz, u uuid, j jsonb, "
    "y bytea, a int[], ta text[], f float8, d date, ok boolean"
)


def many_rows(n: int) -> list[tuple]:
    tz = dt.timezone.utc
    rows = []
    for k in range(n):
        rows.append((
            k, 2**40 + k, f"text {k} ünï", decimal.Decimal(f"{k}.25"),
            dt.datetime(2024, 1, 1, 12, 0, k % 60, tzinfo=tz),
            uuid.UUID(int=k), {"k": k, "l": [1, 2]}, bytes([k % 256, 0, 255]),
            [k, k + 1], ["a", None, "c"], k / 4, dt.date(2020, 2, 29), k % 2 == 0,
        ))
    rows.append((None,) * 13)
    return rows


async def test_records_of_many_types_round_trip(pool, conn):
    async with scratch_table(pool, MANY_COLS) as t:
        rows = many_rows(50)
        n = await conn.copy_records_to_table(t, rows)
        assert n == len(rows)
        res = await pool.execute(f"SELECT * FROM {t} ORDER BY i NULLS LAST")
        got = res.result(as_tuple=True)
        assert len(got) == len(rows)
        for want, have in zip(rows, got):
            assert have[0] == want[0] and have[2] == want[2] and have[3] == want[3]
            assert have[4] == want[4] and have[8] == want[8] and have[9] == want[9]
            assert have[1:2] == want[1:2] and have[10:] == want[10:]
            if want[5] is not None:
                assert str(have[5]) == str(want[5])
                assert (json.loads(have[6]) if isinstance(have[6], str) else have[6]) == want[6]
                assert bytes(have[7]) == want[7]
            else:
                assert have == (None,) * 13


async def test_columns_subset_and_returns_count(pool, conn, table):
    assert await conn.copy_records_to_table(table, [(1,), (2,)], columns=["id"]) == 2
    res = await pool.execute(f"SELECT id, v FROM {table} ORDER BY id")
    assert res.result(as_tuple=True) == [(1, None), (2, None)]


async def test_no_rows(pool, conn, table):
    assert await conn.copy_records_to_table(table, []) == 0
    assert await conn.copy_records_to_table(table, iter(())) == 0
    assert await conn.binary_copy_to_table(
        await _server_binary(pool, f"SELECT * FROM {table}"), table) == 0
    assert await count_rows(pool, table) == 0


async def test_generator_of_100000_rows_keeps_memory_bounded(pool, conn):
    async with scratch_table(pool, "id int, t text, f float8") as t:
        def gen():
            for i in range(100_000):
                yield (i, f"row number {i} with some padding text", i * 0.5)

        tracemalloc.start()
        try:
            n = await conn.copy_records_to_table(t, gen())
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert n == 100_000
        assert await count_rows(pool, t) == 100_000
        # the rows alone are several MB as Python objects; a streamed COPY
        # holds one batch of rows at a time
        assert peak < 2_000_000, peak


class _Pair(tuple):
    """A tuple subclass as a row (not an exact tuple)."""


async def test_iterator_over_many_chunks_with_every_kind_of_value(pool, conn):
    # a plain iterable is encoded in C, a buffer (CHUNK_SIZE) per call: the
    # rows span several buffers and mix the values taken without a
    # conversion (None, bool, int, float, str) with the others, in tuples,
    # lists and tuple subclasses
    cols = "i int8, n numeric, t text, f float8, ok boolean, d numeric, y bytea"
    async with scratch_table(pool, cols) as t:
        total = 40_000

        def gen():
            for k in range(total):
                row = (k, 2**70 + k if k % 7 == 0 else k, f"zeile {k} ünï" if k % 5 else None,
                       k / 8, k % 3 == 0, decimal.Decimal(f"{k}.5"), bytes([k % 256]))
                yield list(row) if k % 4 == 1 else _Pair(row) if k % 4 == 2 else row

        assert await conn.copy_records_to_table(t, gen()) == total
        res = await pool.fetch_row(
            f"SELECT count(*)::int AS c, sum(i)::int8 AS si, sum(n)::text AS sn, "
            f"count(t)::int AS ct, sum(length(t))::int8 AS lt, sum(f) AS sf, "
            f"count(*) FILTER (WHERE ok)::int AS cok, sum(d)::text AS sd, "
            f"sum(get_byte(y, 0))::int8 AS sy FROM {t}")
        got = res.result()
        ks = range(total)
        assert got == {
            "c": total,
            "si": sum(ks),
            "sn": str(sum(2**70 + k if k % 7 == 0 else k for k in ks)),
            "ct": sum(1 for k in ks if k % 5),
            "lt": sum(len(f"zeile {k} ünï") for k in ks if k % 5),
            "sf": sum(k / 8 for k in ks),
            "cok": sum(1 for k in ks if k % 3 == 0),
            "sd": str(sum(decimal.Decimal(f"{k}.5") for k in ks)),
            "sy": sum(k % 256 for k in ks),
        }
        last = (await pool.fetch_row(f"SELECT * FROM {t} WHERE i = {total - 1}")).result(
            as_tuple=True)
        k = total - 1
        assert last[:6] == (k, k, f"zeile {k} ünï", k / 8, k % 3 == 0, decimal.Decimal(f"{k}.5"))


async def test_bad_value_in_a_later_buffer_names_its_row(pool, conn, table):
    # the row index counts across the encoder's calls
    def gen(bad_at, bad):
        for k in range(50_000):
            yield bad if k == bad_at else (k, "v")

    with pytest.raises(exc.ParameterError, match=r'row 41234, column "id"'):
        await conn.copy_records_to_table(table, gen(41_234, ("x", "v")))
    assert await count_rows(pool, table) == 0
    with pytest.raises(exc.ParameterError, match=r'row 30000, column "v"'):
        await conn.copy_records_to_table(table, gen(30_000, (1, "lone \udc80 surrogate")))
    with pytest.raises(exc.ParameterError, match=r"row 20000 is not a sequence"):
        await conn.copy_records_to_table(table, gen(20_000, 17))
    with pytest.raises(exc.ParameterError, match=r'row 3, column "id".*out of range'):
        await conn.copy_records_to_table(table, gen(3, (2**40, "v")))
    assert await count_rows(pool, table) == 0
    assert await conn.copy_records_to_table(table, gen(-1, None)) == 50_000
    assert await count_rows(pool, table) == 50_000


async def test_connection_given_back_by_the_iterator(pool, table):
    # the iterator runs inside the encoder: a connection it gives back to
    # the pool is noticed at the next row, nothing is committed and the
    # pool's connections work
    conn = await pool.connection()

    def gen():
        for k in range(30_000):
            if k == 20_000:
                conn.close()
            yield (k, "v")

    with pytest.raises(exc.InterfaceError, match="released to the pool"):
        await conn.copy_records_to_table(table, gen())
    assert await count_rows(pool, table) == 0
    for _ in range(3):
        c = await pool.connection()
        assert (await c.fetch_row("SELECT 4 AS x")).result() == {"x": 4}
        c.close()


async def test_encoder_refuses_bad_arguments(conn):
    with pytest.raises(ValueError, match="limit"):
        conn._copy_encode_iter(iter(()), 0, (), 0)
    with pytest.raises(TypeError, match="iterator"):
        conn._copy_encode_iter([(1,)], 0, ("a",), 1024)
    assert (await conn.fetch_row("SELECT 5 AS x")).result() == {"x": 5}


async def test_async_iterable_of_rows(pool, conn, table):
    async def agen():
        for i in range(1500):
            if i % 500 == 0:
                await asyncio.sleep(0)
            yield [i, str(i)]

    assert await conn.copy_records_to_table(table, agen()) == 1500
    assert await count_rows(pool, table) == 1500


async def test_schema_and_quoted_names(pool, conn):
    await pool.execute('DROP SCHEMA IF EXISTS "Copy Schema" CASCADE')
    await pool.execute('CREATE SCHEMA "Copy Schema"')
    try:
        await pool.execute('CREATE TABLE "Copy Schema"."Odd ""Table""" '
                           '("Id" int, "the value" text)')
        n = await conn.copy_records_to_table('Odd "Table"', [(1, "x"), (2, None)],
                                             columns=["Id", "the value"],
                                             schema_name="Copy Schema")
        assert n == 2
        res = await pool.execute('SELECT "Id", "the value" FROM "Copy Schema"."Odd ""Table""" '
                                 'ORDER BY 1')
        assert res.result(as_tuple=True) == [(1, "x"), (2, None)]
        # a name is never spliced raw
        with pytest.raises(exc.Error):
            await conn.copy_records_to_table('x"; DROP TABLE t; --', [(1,)])
    finally:
        await pool.execute('DROP SCHEMA IF EXISTS "Copy Schema" CASCADE')


async def test_arity_error_names_row_and_commits_nothing(pool, conn, table):
    rows = [(i, "v") for i in range(2000)]
    rows[1234] = (1234,)
    with pytest.raises(exc.ParameterError, match=r"row 1234 has 1 value"):
        await conn.copy_records_to_table(table, rows)
    assert await count_rows(pool, table) == 0
    # the connection is usable
    assert (await conn.fetch_row("SELECT 1 AS x")).result() == {"x": 1}
    assert await conn.copy_records_to_table(table, [(1, "a")]) == 1


async def test_type_error_names_row_and_column(pool, conn, table):
    rows = [(i, "v") for i in range(300)] + [("not an int", "v")] + [(999, "w")]
    with pytest.raises(exc.ParameterError, match=r'row 300, column "id"'):
        await conn.copy_records_to_table(table, rows)
    assert await count_rows(pool, table) == 0
    assert await conn.copy_records_to_table(table, [(5, "x")]) == 1
    assert await count_rows(pool, table) == 1


async def test_server_side_error_rolls_back(pool, conn, table):
    # duplicate primary key: the server refuses at the end
    with pytest.raises(exc.Error) as info:
        await conn.copy_records_to_table(table, [(1, "a"), (1, "b")])
    assert getattr(info.value, "sqlstate", None) == "23505"
    assert await count_rows(pool, table) == 0
    assert await conn.copy_records_to_table(table, [(1, "a")]) == 1


async def test_error_from_the_iterable_aborts(pool, conn, table):
    def gen():
        yield (1, "a")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await conn.copy_records_to_table(table, gen())
    assert await count_rows(pool, table) == 0
    assert (await conn.fetch_row("SELECT 2 AS x")).result() == {"x": 2}


async def test_missing_table_and_column(conn, table):
    with pytest.raises(exc.Error):
        await conn.copy_records_to_table("no_such_table_xyz", [(1,)])
    with pytest.raises(exc.InterfaceError, match="no column"):
        await conn.copy_records_to_table(table, [(1,)], columns=["nope"])
    assert (await conn.fetch_row("SELECT 3 AS x")).result() == {"x": 3}


async def test_in_a_transaction_rollback_discards(pool, conn, table):
    tx = conn.transaction()
    await tx.begin()
    assert await tx.copy_records_to_table(table, [(1, "a"), (2, "b")]) == 2
    assert (await tx.fetch_row(f"SELECT count(*)::int AS n FROM {table}")).result()["n"] == 2
    await tx.rollback()
    assert await count_rows(pool, table) == 0
    async with conn.transaction() as tx2:
        await tx2.copy_records_to_table(table, [(3, "c")])
    assert await count_rows(pool, table) == 1


async def _server_binary(pool, sql: str) -> bytes:
    """The server's own COPY output for sql, through a second connection."""
    c = await pool.connection()
    try:
        out = io.BytesIO()
        await c.copy_from_query(sql, output=out, format="binary")
        return out.getvalue()
    finally:
        c.close()


async def test_binary_copy_from_bytes_bytesio_and_async_reader(pool, conn):
    async with scratch_table(pool, MANY_COLS) as src, scratch_table(pool, MANY_COLS) as dst:
        rows = many_rows(40)
        await conn.copy_records_to_table(src, rows)
        data = await _server_binary(pool, f"SELECT * FROM {src}")
        assert data.startswith(b"PGCOPY\n\xff\r\n\x00")

        assert await conn.binary_copy_to_table(data, dst) == len(rows)
        assert await conn.binary_copy_to_table(bytearray(data), dst) == len(rows)
        assert await conn.binary_copy_to_table(memoryview(data), dst) == len(rows)
        assert await conn.binary_copy_to_table(io.BytesIO(data), dst) == len(rows)

        class AsyncReader:
            def __init__(self, b: bytes) -> None:
                self.f = io.BytesIO(b)
                self.reads = 0

            async def read(self, n: int) -> bytes:
                self.reads += 1
                await asyncio.sleep(0)
                return self.f.read(min(n, 1000))

        reader = AsyncReader(data)
        assert await conn.binary_copy_to_table(reader, dst) == len(rows)
        assert reader.reads > 2
        assert await count_rows(pool, dst) == 5 * len(rows)
        same = await pool.fetch_row(
            f"SELECT (SELECT count(*) FROM (SELECT * FROM {dst} EXCEPT SELECT * FROM {src}) x)"
            "::int AS n")
        assert same.result()["n"] == 0


async def test_binary_copy_with_columns_and_bad_data(pool, conn, table):
    good = await _server_binary(pool, "SELECT g AS id FROM generate_series(1, 10) g")
    assert await conn.binary_copy_to_table(good, table, columns=["id"]) == 10
    with pytest.raises(exc.Error):
        await conn.binary_copy_to_table(b"not a binary copy", table)
    assert await count_rows(pool, table) == 10
    assert (await conn.fetch_row("SELECT 4 AS x")).result() == {"x": 4}


@pytest.mark.parametrize("fmt", ["text", "csv", "binary"])
async def test_copy_out_formats_match_the_server(pool, conn, fmt):
    async with scratch_table(pool, MANY_COLS) as t:
        await conn.copy_records_to_table(t, many_rows(300))
        out = io.BytesIO()
        n = await conn.copy_from_table(t, output=out, format=fmt)
        assert n == 301
        chunks = [c async for c in conn.copy_from_query(f"SELECT * FROM {t}", format=fmt)]
        assert all(isinstance(c, bytes) for c in chunks)
        assert b"".join(chunks) == out.getvalue()
        if fmt != "binary":
            # the server's own text form of the same rows
            sep = "\t" if fmt == "text" else ","
            first = out.getvalue().split(b"\n")[0].decode()
            want = await pool.fetch_row(f"SELECT i::text AS i, t FROM {t} ORDER BY ctid LIMIT 1")
            assert first.split(sep)[0] == want.result()["i"]
        cols = io.BytesIO()
        assert await conn.copy_from_table(t, columns=["i"], output=cols, format=fmt) == 301


async def test_copy_out_async_writer_and_rows_attribute(pool, conn):
    written = []

    class Writer:
        async def write(self, b: bytes) -> None:
            await asyncio.sleep(0)
            written.append(b)

    n = await conn.copy_from_query("SELECT g, 'x' FROM generate_series(1, 5000) g",
                                   output=Writer())
    assert n == 5000
    assert b"".join(written).count(b"\n") == 5000
    it = conn.copy_from_query("SELECT 1 UNION ALL SELECT 2")
    assert b"".join([c async for c in it]) == b"1\n2\n"
    assert it.rows == 2


async def test_copy_from_query_with_parameters(conn):
    when = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.timezone.utc)
    out = io.BytesIO()
    n = await conn.copy_from_query(
        "SELECT g, $2::text || g, $3::timestamptz FROM generate_series(1, $1) g "
        "WHERE $4::text IS NULL",
        [3, "it's ", when, None], output=out, format="csv")
    assert n == 3
    assert out.getvalue() == (b"1,it's 1,2024-05-06 07:08:09+00\n"
                              b"2,it's 2,2024-05-06 07:08:09+00\n"
                              b"3,it's 3,2024-05-06 07:08:09+00\n")
    chunks = [c async for c in conn.copy_from_query("SELECT $1::int + 1", [41])]
    assert b"".join(chunks) == b"42\n"
    with pytest.raises(exc.InterfaceError, match="takes 1 parameter"):
        await conn.copy_from_query("SELECT $1::int", [1, 2], output=io.BytesIO())


async def test_copy_out_leaving_the_loop_early_keeps_the_connection(conn):
    async for chunk in conn.copy_from_query(
            "SELECT repeat('x', 1000) FROM generate_series(1, 2000)"):
        assert chunk
        break
    await asyncio.sleep(0)
    # the rest was read and dropped (also when the generator is closed later)
    for _ in range(100):
        try:
            res = await conn.fetch_row("SELECT 5 AS x")
            break
        except exc.Error:
            await asyncio.sleep(0.01)
    assert res.result() == {"x": 5}


async def test_copy_out_slow_consumer_backpressure(pool, conn):
    """While the consumer holds a chunk, the driver reads nothing more: the
    server's send buffer fills and its backend waits on the client."""
    pid = (await conn.fetch_row("SELECT pg_backend_pid() AS p")).result()["p"]
    it = conn.copy_from_query(
        "SELECT repeat('y', 500) FROM generate_series(1, 200000)").__aiter__()
    first = await it.__anext__()
    assert first
    # the backend blocks writing to us (ClientWrite) instead of finishing
    for _ in range(500):
        act = await pool.fetch_row(
            "SELECT state, coalesce(wait_event, '') AS w FROM pg_stat_activity WHERE pid = $1",
            [pid])
        if act.result()["w"] == "ClientWrite":
            break
        await asyncio.sleep(0.01)
    assert act.result() == {"state": "active", "w": "ClientWrite"}
    total = len(first)
    async for chunk in it:
        total += len(chunk)
    assert total == 200000 * 501


async def endless_rows(started: asyncio.Event, after: int, pause: float = 0):
    """(i, "v") rows without end; sets ``started`` after ``after`` rows and
    yields to the loop every 100 rows."""
    i = 0
    while True:
        if i == after:
            started.set()
        if i % 100 == 0:
            await asyncio.sleep(pause)
        yield (i, "v")
        i += 1


async def test_cancel_copy_in_commits_nothing(pool, conn, table):
    started = asyncio.Event()

    task = asyncio.ensure_future(conn.copy_records_to_table(table, endless_rows(started, 1000)))
    await started.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await count_rows(pool, table) == 0
    assert (await conn.fetch_row("SELECT 6 AS x")).result() == {"x": 6}


async def test_cancel_copy_out_keeps_connection_usable(pool, conn):
    got = asyncio.Event()

    async def consume():
        async with conn.copy_from_query(
                "SELECT repeat('z', 100) FROM generate_series(1, 10000000)") as chunks:
            async for _ in chunks:
                got.set()
                await asyncio.sleep(0.001)

    task = asyncio.ensure_future(consume())
    await got.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the server was told to stop; what it had sent was read and dropped
    assert (await conn.fetch_row("SELECT 7 AS x")).result() == {"x": 7}


async def test_cancel_while_waiting_for_a_chunk(pool, conn):
    started = asyncio.Event()

    async def consume():
        async for _ in conn.copy_from_query(
                "SELECT CASE WHEN g = 50000 THEN pg_sleep(30)::text ELSE repeat('x', 100) END "
                "FROM generate_series(1, 50001) g"):
            started.set()

    task = asyncio.ensure_future(consume())
    await started.wait()
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the server was stopped (not waited for): nothing of the COPY runs on
    act = await pool.fetch_row(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'COPY (SELECT CASE%'"
        " AND state = 'active'")
    assert act.result()["n"] == 0
    assert (await conn.fetch_row("SELECT 11 AS x")).result() == {"x": 11}


async def test_other_statements_wait_or_refuse_during_copy(pool, conn, table):
    # statements gathered with a COPY on the same connection run after it
    # or are refused; none of them corrupts it
    rows = [(i, "v") for i in range(5000)]
    results = await asyncio.gather(conn.copy_records_to_table(table, rows),
                                   conn.fetch_row("SELECT 8 AS x"), return_exceptions=True)
    assert results[0] == 5000
    other = results[1]
    if isinstance(other, exc.Error):
        assert "COPY is in progress" in str(other)
    else:
        assert other.result() == {"x": 8}
    assert (await conn.fetch_row("SELECT 9 AS x")).result() == {"x": 9}


async def test_bad_arguments(conn, table):
    with pytest.raises(exc.InterfaceError):
        await conn.copy_records_to_table(table, 5)
    with pytest.raises(exc.InterfaceError):
        conn.copy_from_table(table, format="xml")
    with pytest.raises(exc.InterfaceError):
        await conn.copy_from_table(table)  # no output: iterate instead
    with pytest.raises(exc.InterfaceError):
        await conn.binary_copy_to_table(12, table)
    with pytest.raises(exc.InterfaceError):
        await conn.copy_records_to_table(table, [], columns="id")
    assert (await conn.fetch_row("SELECT 10 AS x")).result() == {"x": 10}


async def test_type_cache_is_refreshed_after_a_table_change(pool, conn):
    async with scratch_table(pool, "a int, b int") as t:
        assert await conn.copy_records_to_table(t, [(1, 2)]) == 1
        await pool.execute(f"ALTER TABLE {t} ALTER COLUMN b TYPE text")
        with pytest.raises(exc.Error):
            await conn.copy_records_to_table(t, [(1, "x")])
        assert await conn.copy_records_to_table(t, [(1, "x")]) == 1


# -- the 0.13 API ------------------------------------------------------------------


async def test_api013_connection_and_transaction(dsn, pool, table):
    cp = psqlpy.ConnectionPool(dsn=dsn)
    try:
        async with cp.acquire() as c:
            assert await c.copy_records_to_table(table, [(1, "a"), (2, "b")]) == 2
            with pytest.raises(exc.PyToRustValueMappingError, match="row 1"):
                await c.copy_records_to_table(table, [(3, "c"), (4,)])
            async with c.transaction() as tx:
                assert await tx.copy_records_to_table(table, [(5, "e")]) == 1
            data = io.BytesIO()
            await c.copy_from_table(table, columns=["id"], output=data, format="binary")
        async with cp.acquire() as c:
            await c.execute(f"DELETE FROM {table}")
            assert await c.binary_copy_to_table(data.getvalue(), table, columns=["id"]) == 3
            out = b"".join([ch async for ch in c.copy_from_query(
                f"SELECT id FROM {table} WHERE id > $(min)p ORDER BY id", {"min": 1})])
            assert out == b"2\n5\n"
    finally:
        cp.close()


async def test_cancel_copy_in_inside_a_transaction_fails_it(pool, conn, table):
    started = asyncio.Event()

    tx = conn.transaction()
    await tx.begin()
    task = asyncio.ensure_future(tx.copy_records_to_table(table, endless_rows(started, 2000)))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the transaction is failed, as by any cancelled statement
    with pytest.raises(exc.Error) as info:
        await tx.execute("SELECT 1")
    assert info.value.sqlstate == "25P02"
    await tx.rollback()
    assert await count_rows(pool, table) == 0
    assert (await conn.fetch_row("SELECT 12 AS x")).result() == {"x": 12}


async def test_backend_terminated_during_copy(pool, table):
    c = await pool.connection()
    pid = (await c.fetch_row("SELECT pg_backend_pid() AS p")).result()["p"]
    started = asyncio.Event()

    task = asyncio.ensure_future(c.copy_records_to_table(table, endless_rows(started, 2000, 0.001)))
    await started.wait()
    await pool.execute("SELECT pg_terminate_backend($1)", [pid])
    with pytest.raises(exc.Error):
        await task
    c.close()
    assert await count_rows(pool, table) == 0
    assert (await pool.fetch_row("SELECT 13 AS x")).result() == {"x": 13}
