"""Server-side cursors: declaration options, every fetch method, async
iteration, closing, and the error paths.

Expected rows follow PostgreSQL's FETCH semantics over generate_series; the
server's pg_cursors view confirms what was declared and what is closed.
"""

from __future__ import annotations

import psqlpy
import pytest
from psqlpy import exceptions as exc

from helpers3 import column, conn, pool, table  # noqa: F401  (fixtures)

TEN = "SELECT n FROM generate_series(1, 10) AS n"


@pytest.fixture
async def tx(conn):
    """A begun transaction on ``conn``, rolled back after the test if still open."""
    t = conn.transaction()
    await t.begin()
    yield t
    if conn.transaction_status != "idle":
        await t.rollback()


async def open_cursors(tx) -> dict[str, bool]:
    """Named cursors the server has open in this session -> is_scrollable."""
    res = await tx.execute("SELECT name, is_scrollable FROM pg_cursors WHERE name <> ''")
    return {r["name"]: r["is_scrollable"] for r in res.result()}


# --------------------------------------------------------------------------
# declaring


async def test_cursor_with_parameters_and_keywords(tx):
    cur = await tx.cursor(querystring="SELECT n FROM generate_series($1::int, $2::int) AS n",
                          parameters=[3, 6], fetch_number=2)
    assert isinstance(cur, psqlpy.Cursor)
    assert column(await cur.fetch()) == [3, 4]
    assert column(await cur.fetch()) == [5, 6]
    assert column(await cur.fetch()) == []
    await cur.close()


async def test_fetch_returns_query_results_with_columns(tx):
    cur = await tx.cursor("SELECT n, n * 2 AS twice FROM generate_series(1, 3) AS n")
    res = await cur.fetch()
    assert isinstance(res, psqlpy.QueryResult)
    assert res.result() == [{"n": 1, "twice": 2}, {"n": 2, "twice": 4}, {"n": 3, "twice": 6}]
    assert len(res) == 3
    assert res.columns == ("n", "twice")
    await cur.close()


async def test_scroll_true_declares_a_scrollable_cursor(tx):
    cur = await tx.cursor(TEN, scroll=True)
    assert (await open_cursors(tx)) == {cur._name: True}
    assert column(await cur.fetch_last()) == [10]
    assert column(await cur.fetch_prior()) == [9]
    await cur.close()


async def test_scroll_false_declares_a_forward_only_cursor(tx):
    cur = await tx.cursor(TEN, scroll=False)
    assert (await open_cursors(tx)) == {cur._name: False}
    assert column(await cur.fetch_next()) == [1]
    with pytest.raises(exc.DatabaseError) as ei:
        await cur.fetch_prior()
    assert ei.value.sqlstate == "55000"              # cursor can only scan forward


async def test_scroll_default_leaves_it_to_the_server(tx, table):
    # a plain scan is scrollable by default, so no NO SCROLL was added ...
    cur = await tx.cursor(TEN)
    assert (await open_cursors(tx)) == {cur._name: True}
    await cur.close()
    # ... and FOR UPDATE cursors cannot be SCROLL, so no SCROLL was added either
    locked = await tx.cursor(f"SELECT id FROM {table} FOR UPDATE")
    assert (await open_cursors(tx)) == {locked._name: False}
    with pytest.raises(exc.NotSupportedError):
        await tx.cursor(f"SELECT id FROM {table} FOR UPDATE", scroll=True)


async def test_two_cursors_in_one_transaction_are_independent(tx):
    a = await tx.cursor(TEN, fetch_number=3)
    b = await tx.cursor("SELECT n FROM generate_series(101, 110) AS n", fetch_number=4)
    assert column(await a.fetch()) == [1, 2, 3]
    assert column(await b.fetch()) == [101, 102, 103, 104]
    assert column(await a.fetch()) == [4, 5, 6]
    await a.close()
    assert column(await b.fetch()) == [105, 106, 107, 108]
    await b.close()


@pytest.mark.parametrize("fetch_number", [0, -1, "3", 2.5])
async def test_bad_fetch_number_is_rejected(tx, fetch_number):
    with pytest.raises((exc.CursorError, TypeError, ValueError)):
        await tx.cursor(TEN, fetch_number=fetch_number)
    assert (await open_cursors(tx)) == {}


async def test_cursor_outside_a_begun_transaction(conn):
    not_begun = conn.transaction()
    with pytest.raises(exc.DBTransactionError):
        await not_begun.cursor(TEN)
    finished = conn.transaction()
    await finished.begin()
    await finished.commit()
    with pytest.raises(exc.DBTransactionError, match="finished"):
        await finished.cursor(TEN)
    assert conn.transaction_status == "idle"


async def test_cursor_query_error_is_a_server_error(tx, conn):
    with pytest.raises(exc.ProgrammingError) as ei:
        await tx.cursor("SELECT no_such_column FROM pg_class")
    assert ei.value.sqlstate == "42703"
    assert conn.transaction_status == "inerror"


# --------------------------------------------------------------------------
# fetch methods


async def test_fetch_uses_the_cursor_fetch_number_by_default(tx):
    cur = await tx.cursor(TEN, fetch_number=3)
    assert column(await cur.fetch()) == [1, 2, 3]
    assert column(await cur.fetch(5)) == [4, 5, 6, 7, 8]
    assert column(await cur.fetch(fetch_number=None)) == [9, 10]
    assert column(await cur.fetch()) == []
    await cur.close()


async def test_default_fetch_number_is_ten(tx):
    cur = await tx.cursor("SELECT n FROM generate_series(1, 25) AS n")
    assert column(await cur.fetch()) == list(range(1, 11))
    await cur.close()


async def test_every_positioning_fetch(tx):
    cur = await tx.cursor(TEN, scroll=True)
    assert column(await cur.fetch_first()) == [1]
    assert column(await cur.fetch_next()) == [2]
    assert column(await cur.fetch_last()) == [10]
    assert column(await cur.fetch_prior()) == [9]
    assert column(await cur.fetch_absolute(3)) == [3]
    assert column(await cur.fetch_relative(2)) == [5]
    assert column(await cur.fetch_relative(relative_number=-1)) == [4]
    assert column(await cur.fetch_backward(2)) == [3, 2]
    assert column(await cur.fetch_forward_all()) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert column(await cur.fetch_next()) == []                  # past the end
    assert column(await cur.fetch_backward_all()) == [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    assert column(await cur.fetch_prior()) == []                 # before the start
    assert column(await cur.fetch_absolute(absolute_number=-1)) == [10]
    assert column(await cur.fetch_absolute(0)) == []             # before the first row
    assert column(await cur.fetch_next()) == [1]
    assert column(await cur.fetch_backward(backward_count=5)) == []
    assert column(await cur.fetch_absolute(11)) == []            # after the last row
    assert column(await cur.fetch_backward(3)) == [10, 9, 8]
    await cur.close()


@pytest.mark.parametrize("method, args", [
    ("fetch", ()), ("fetch_next", ()), ("fetch_prior", ()), ("fetch_first", ()),
    ("fetch_last", ()), ("fetch_absolute", (2,)), ("fetch_relative", (1,)),
    ("fetch_forward_all", ()), ("fetch_backward", (1,)), ("fetch_backward_all", ()),
])
async def test_every_fetch_returns_a_query_result(tx, method, args):
    cur = await tx.cursor(TEN, scroll=True, fetch_number=2)
    await cur.fetch_absolute(5)
    res = await getattr(cur, method)(*args)
    assert isinstance(res, psqlpy.QueryResult)
    assert len(res) >= 1
    assert all(set(row) == {"n"} for row in res.result())
    await cur.close()


@pytest.mark.parametrize("method", ["fetch_absolute", "fetch_relative", "fetch_backward"])
async def test_fetch_counts_must_be_ints(tx, method):
    cur = await tx.cursor(TEN, scroll=True)
    with pytest.raises((exc.CursorError, TypeError, ValueError)):
        await getattr(cur, method)("1; CLOSE ALL")
    # nothing was sent: the cursor is still there and positioned at the start
    assert column(await cur.fetch_next()) == [1]
    await cur.close()


# --------------------------------------------------------------------------
# iteration and closing


@pytest.mark.parametrize("rows, fetch_number, sizes", [
    (10, 4, [4, 4, 2]),
    (8, 4, [4, 4]),
    (3, 10, [3]),
    (0, 5, []),
])
async def test_async_for_yields_chunks_until_exhausted(tx, rows, fetch_number, sizes):
    cur = await tx.cursor("SELECT n FROM generate_series(1, $1::int) AS n", [rows],
                          fetch_number=fetch_number)
    chunks = [chunk async for chunk in cur]
    assert all(isinstance(c, psqlpy.QueryResult) for c in chunks)
    assert [len(c) for c in chunks] == sizes
    assert [n for c in chunks for n in column(c)] == list(range(1, rows + 1))
    await cur.close()


async def test_async_for_continues_from_the_current_position(tx):
    cur = await tx.cursor(TEN, fetch_number=4)
    await cur.fetch_next()
    chunks = [column(c) async for c in cur]
    assert chunks == [[2, 3, 4, 5], [6, 7, 8, 9], [10]]
    await cur.close()


async def test_close_closes_on_the_server_and_twice_is_harmless(tx, conn):
    cur = await tx.cursor(TEN)
    assert cur._name in await open_cursors(tx)
    await cur.close()
    assert (await open_cursors(tx)) == {}
    await cur.close()
    assert conn.transaction_status == "intrans"      # no failed CLOSE on the server
    await tx.commit()


@pytest.mark.parametrize("method, args", [
    ("fetch", ()), ("fetch_next", ()), ("fetch_prior", ()), ("fetch_first", ()),
    ("fetch_last", ()), ("fetch_absolute", (1,)), ("fetch_relative", (1,)),
    ("fetch_forward_all", ()), ("fetch_backward", (1,)), ("fetch_backward_all", ()),
])
async def test_closed_cursor_raises(tx, conn, method, args):
    cur = await tx.cursor(TEN, scroll=True)
    await cur.close()
    with pytest.raises(exc.CursorError):
        await getattr(cur, method)(*args)
    assert conn.transaction_status == "intrans"      # raised before reaching the server


async def test_iterating_a_closed_cursor_raises(tx):
    cur = await tx.cursor(TEN)
    await cur.close()
    with pytest.raises(exc.CursorError):
        async for _ in cur:
            pass


async def test_async_with_closes_the_cursor(tx):
    async with await tx.cursor(TEN, fetch_number=5) as cur:
        assert column(await cur.fetch()) == [1, 2, 3, 4, 5]
        assert cur._name in await open_cursors(tx)
    assert (await open_cursors(tx)) == {}
    with pytest.raises(exc.CursorError):
        await cur.fetch()


async def test_async_with_closes_the_cursor_when_the_block_raises(tx):
    with pytest.raises(KeyError):
        async with await tx.cursor(TEN) as cur:
            await cur.fetch_next()
            raise KeyError("boom")
    assert (await open_cursors(tx)) == {}


async def test_cursor_of_a_finished_transaction_raises(conn):
    tx = conn.transaction()
    await tx.begin()
    cur = await tx.cursor(TEN)
    await tx.commit()                                 # the server closes the cursor
    with pytest.raises(exc.CursorError):
        await cur.fetch()
    await cur.close()                                 # harmless
    assert conn.transaction_status == "idle"


async def test_cursor_in_pool_transaction(pool):
    tx = await pool.transaction()
    cur = await tx.cursor("SELECT n FROM generate_series(1, 5) AS n", fetch_number=2)
    assert [column(c) async for c in cur] == [[1, 2], [3, 4], [5]]
    await cur.close()
    await tx.commit()
