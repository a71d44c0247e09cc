"""The psqlpy 0.13 API's Connection, Transaction, Cursor and PreparedStatement
(what a ConnectionPool hands out) against the real server; where it differs
from PSQLPool's objects, the behaviour was checked against psqlpy 0.13.1."""

from __future__ import annotations

import asyncio

import pytest

from psqlpy import ConnectionPool, IsolationLevel, ReadVariant, connect
from psqlpy import _internal, exceptions


@pytest.fixture
async def pool(dsn):
    p = ConnectionPool(dsn=dsn, max_db_pool_size=3)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
async def conn(pool):
    c = await pool.connection()
    await c.execute_batch(
        "CREATE TEMP TABLE t013 (a int PRIMARY KEY, b text);"
        "INSERT INTO t013 VALUES (1, 'one'), (2, 'two'), (3, 'three'), (4, 'four'), (5, 'five')")
    try:
        yield c
    finally:
        c.close()


async def tx_status(conn) -> str:
    await conn._settle()
    return conn._raw.transaction_status


# ---------------------------------------------------------------------------
# Connection statements

async def test_execute_fetch_and_results(conn):
    res = await conn.execute("SELECT a, b FROM t013 WHERE a <= $1 ORDER BY a", [2])
    assert res.result() == [{"a": 1, "b": "one"}, {"a": 2, "b": "two"}]
    assert res.result(as_tuple=True) == [(1, "one"), (2, "two")]
    res = await conn.fetch("SELECT a FROM t013 ORDER BY a DESC LIMIT 1")
    assert res.result() == [{"a": 5}]
    assert [r["a"] for r in res.records()] == [5]
    res = await conn.execute("SELECT 1 AS x", prepared=False)
    assert res.result() == [{"x": 1}]


async def test_fetch_row_and_fetch_val_want_exactly_one_row(conn):
    row = await conn.fetch_row("SELECT a, b FROM t013 WHERE a = $1", [3])
    assert row.result() == {"a": 3, "b": "three"}
    assert await conn.fetch_val("SELECT b FROM t013 WHERE a = $1", [4]) == "four"
    assert await conn.fetch_val("SELECT NULL::int") is None
    row = await conn.fetch_row("INSERT INTO t013 VALUES (6, 'six') RETURNING a")
    assert row.result() == {"a": 6}
    # PSQLPool's fetch_row gives the first of several rows; the 0.13 API refuses
    # none and several alike (psqlpy 0.13.1 raises ConnectionExecuteError for both)
    for sql in ("SELECT a FROM t013", "SELECT a FROM t013 WHERE false"):
        with pytest.raises(exceptions.ConnectionExecuteError):
            await conn.fetch_row(sql)
        with pytest.raises(exceptions.ConnectionExecuteError):
            await conn.fetch_val(sql)
    assert await conn.fetch_val("SELECT 1") == 1   # the connection is still fine


async def test_execute_batch_runs_several_statements(conn):
    assert await conn.execute_batch(
        "INSERT INTO t013 VALUES (10, 'x'); UPDATE t013 SET b = 'y' WHERE a = 10;"
        "DELETE FROM t013 WHERE a = 1") is None
    assert await conn.fetch_val("SELECT b FROM t013 WHERE a = 10") == "y"
    assert await conn.fetch_val("SELECT count(*) FROM t013 WHERE a = 1") == 0
    with pytest.raises(exceptions.ConnectionExecuteError) as ei:
        await conn.execute_batch("SELECT 1; SELEC 2")
    assert isinstance(ei.value, exceptions.ProgrammingError)
    assert ei.value.sqlstate == "42601"


async def test_execute_many(conn):
    await conn.execute_many("INSERT INTO t013 VALUES ($1, $2)", [[20, "a"], [21, "b"]])
    await conn.execute_many("INSERT INTO t013 VALUES ($(k)p, $(v)p)",
                            [{"k": 22, "v": "c"}, {"v": "d", "k": 23}])
    assert await conn.fetch_val("SELECT string_agg(b, '' ORDER BY a) FROM t013 WHERE a >= 20") \
        == "abcd"
    assert await conn.execute_many("INSERT INTO t013 VALUES ($1, $2)", []) is None
    with pytest.raises(exceptions.ConnectionExecuteError) as ei:
        await conn.execute_many("INSERT INTO t013 VALUES ($1, $2)", [[30, "a"], [30, "b"]])
    assert isinstance(ei.value, exceptions.IntegrityError)
    assert ei.value.sqlstate == "23505"


async def test_named_parameters(conn):
    sql = "SELECT $(a)p::int + $(b)p::int AS s, $(a)p::int AS again, '$(x)' AS text"
    res = await conn.execute(sql, {"a": 1, "b": 2})
    assert res.result() == [{"s": 3, "again": 1, "text": "$(x)"}]
    assert await conn.fetch_val(sql, {"a": 5, "b": 5, "unused": 0}) == 10
    with pytest.raises(exceptions.PyToRustValueMappingError, match=r"\$\(b\)p"):
        await conn.execute(sql, {"a": 1})
    with pytest.raises(exceptions.PyToRustValueMappingError):
        await conn.execute("SELECT $1::int", {"x": 1})
    assert (await conn.execute("SELECT 1 AS one", {})).result() == [{"one": 1}]
    # the rewrite is made once per SQL text
    from psqlpy import _connection013 as c013
    assert c013._named_cache[sql][1] == ("a", "b")


async def test_server_errors_carry_both_identities(conn):
    with pytest.raises(exceptions.ConnectionExecuteError) as ei:
        await conn.execute("SELECT * FROM no_such_table_013")
    e = ei.value
    assert isinstance(e, exceptions.ProgrammingError)       # today's SQLSTATE class
    assert isinstance(e, exceptions.InterfaceError)         # 0.13: an InterfaceError
    assert isinstance(e, exceptions.DatabaseError)
    assert e.sqlstate == "42P01"
    assert "no_such_table_013" in str(e)
    with pytest.raises(exceptions.ConnectionExecuteError) as ei:
        await conn.execute("SELECT 1/0")
    assert isinstance(ei.value, exceptions.DataError) and ei.value.sqlstate == "22012"
    # parameter conversion errors stay what they are in both APIs
    with pytest.raises(exceptions.PyToRustValueMappingError):
        await conn.execute("SELECT $1::int", ["not an int"])


async def test_sqlstate_class_precedes_interface_error_in_the_mro(conn):
    """A wrapper that maps a driver's exception by the first class name of
    its MRO it knows (SQLAlchemy's DBAPIError.instance, reached through
    psqlpy-sqlalchemy) finds the SQLSTATE class, not the InterfaceError the
    0.13 classes derive from."""
    def names(e: BaseException) -> list[str]:
        return [c.__name__ for c in type(e).__mro__]

    with pytest.raises(exceptions.ConnectionExecuteError) as ei:
        await conn.execute("SELECT 1/0")
    assert names(ei.value).index("DataError") < names(ei.value).index("InterfaceError")
    tx = conn.transaction()
    await tx.begin()
    with pytest.raises(exceptions.TransactionExecuteError) as ei:
        await tx.execute("SELECT * FROM no_such_table_013")
    await tx.rollback()
    assert isinstance(ei.value, exceptions.ProgrammingError)
    assert names(ei.value).index("ProgrammingError") < names(ei.value).index("InterfaceError")


async def test_close_and_use_after_close(pool, conn):
    assert conn.conn_dbname and conn.user and conn.hosts and conn.ports
    assert not conn.is_closed()
    conn.close()
    conn.close()                         # sync, twice is harmless
    assert conn.is_closed()
    for call in (conn.execute("SELECT 1"), conn.fetch_val("SELECT 1"),
                 conn.execute_batch("SELECT 1")):
        with pytest.raises(exceptions.ConnectionClosedError):
            await call
    with pytest.raises(exceptions.ConnectionClosedError):
        conn.transaction()
    with pytest.raises(exceptions.ConnectionClosedError):
        conn.cursor("SELECT 1")
    assert pool.status().available >= 1


# ---------------------------------------------------------------------------
# Transaction

async def test_transaction_context_manager_commits_and_rolls_back(pool, conn):
    async with conn.transaction() as tx:
        await tx.execute("INSERT INTO t013 VALUES (40, 'tx')")
        assert conn.in_transaction()
    assert await conn.fetch_val("SELECT b FROM t013 WHERE a = 40") == "tx"
    with pytest.raises(RuntimeError):
        async with conn.transaction() as tx:
            await tx.execute("INSERT INTO t013 VALUES (41, 'gone')")
            raise RuntimeError
    assert await conn.fetch_val("SELECT count(*) FROM t013 WHERE a = 41") == 0
    assert not conn.in_transaction()
    for call in (tx.execute("SELECT 1"), tx.commit(), tx.rollback(), tx.fetch_val("SELECT 1"),
                 tx.create_savepoint("s")):
        with pytest.raises(exceptions.TransactionClosedError):
            await call
    # applications import it from here
    from psqlpy._internal.exceptions import TransactionClosedError
    assert TransactionClosedError is exceptions.TransactionClosedError


async def test_statements_before_begin_run_outside_a_transaction(conn):
    # PSQLPool's Transaction refuses this; psqlpy 0.13.1 runs it (collision 1)
    tx = conn.transaction()
    assert (await tx.execute("SELECT 1 AS x")).result() == [{"x": 1}]
    await tx.execute("INSERT INTO t013 VALUES (50, 'auto')")
    assert await tx.fetch_val("SELECT current_setting('transaction_isolation')") \
        == "read committed"
    assert await tx_status(conn) == "idle"
    await tx.begin()
    with pytest.raises(exceptions.TransactionBeginError):
        await tx.begin()
    await tx.rollback()
    assert await conn.fetch_val("SELECT b FROM t013 WHERE a = 50") == "auto"  # not rolled back
    # commit() before begin() finishes the Transaction (psqlpy 0.13.1 does so)
    tx = conn.transaction()
    assert await tx.commit() is None
    assert tx.is_closed()
    with pytest.raises(exceptions.TransactionClosedError):
        await tx.rollback()
    assert await tx_status(conn) == "idle"


async def test_transaction_options_and_errors(conn):
    tx = conn.transaction(isolation_level=IsolationLevel.Serializable,
                          read_variant=ReadVariant.ReadOnly, deferrable=True)
    await tx.begin()
    assert await tx.fetch_val("SELECT current_setting('transaction_isolation')") == "serializable"
    with pytest.raises(exceptions.TransactionExecuteError) as ei:
        await tx.execute("CREATE TABLE ro013 (a int)")   # (temp tables are writable)
    e = ei.value
    assert isinstance(e, exceptions.BaseTransactionError) and e.sqlstate == "25006"
    assert isinstance(e, exceptions.TransactionError)       # today's DBTransactionError
    assert isinstance(e, exceptions.DatabaseError)
    with pytest.raises(exceptions.TransactionExecuteError):
        await tx.fetch_row("SELECT 1 UNION ALL SELECT 2")
    await tx.rollback()
    with pytest.raises(exceptions.TransactionBeginError):
        conn.transaction(isolation_level="serializable")   # type: ignore[arg-type]


async def test_transaction_statement_methods_and_pipeline(conn):
    async with conn.transaction() as tx:
        await tx.execute_batch("INSERT INTO t013 VALUES (70, 'p'); INSERT INTO t013 VALUES (71, 'q')")
        await tx.execute_many("INSERT INTO t013 VALUES ($1, $2)", [[72, "r"]])
        results = await tx.pipeline([
            ("SELECT b FROM t013 WHERE a = $1", [70]),
            ("SELECT b FROM t013 WHERE a = $(k)p", {"k": 72}),
        ])
        assert [r.result() for r in results] == [[{"b": "p"}], [{"b": "r"}]]
        assert (await tx.fetch_row("SELECT b FROM t013 WHERE a = 71")).result() == {"b": "q"}
        assert (await tx.fetch("SELECT count(*) AS n FROM t013 WHERE a >= 70")).result() \
            == [{"n": 3}]
        assert tx.conn_dbname == conn.conn_dbname and tx.ports == conn.ports
        assert tx.user == conn.user and tx.hosts == conn.hosts and tx.host_addrs == []
    assert await conn.pipeline([]) == []


async def test_savepoints_allow_reused_names(conn):
    async with conn.transaction() as tx:
        await tx.execute("INSERT INTO t013 VALUES (80, 'a')")
        await tx.create_savepoint("sp")
        await tx.execute("INSERT INTO t013 VALUES (81, 'b')")
        await tx.create_savepoint("sp")      # a second one of the same name (0.13)
        await tx.execute("INSERT INTO t013 VALUES (82, 'c')")
        await tx.rollback_savepoint("sp")    # back to the newest "sp"
        await tx.release_savepoint("sp")
        await tx.rollback_savepoint("sp")    # the older "sp" is still there
        await tx.create_savepoint('odd "name"')
        await tx.release_savepoint('odd "name"')
    rows = await conn.execute("SELECT a FROM t013 WHERE a >= 80 ORDER BY a")
    assert rows.result() == [{"a": 80}]
    async with conn.transaction() as tx:
        with pytest.raises(exceptions.TransactionSavepointError) as ei:
            await tx.release_savepoint("nope")
        assert ei.value.sqlstate == "3B001"
    tx = conn.transaction()
    with pytest.raises(exceptions.TransactionSavepointError):
        await tx.create_savepoint("before_begin")


async def test_rollback_failure_class_is_both(conn):
    cls = exceptions._TransactionRollbackFailed
    assert issubclass(cls, exceptions.BaseTransactionError)
    assert issubclass(cls, exceptions.TransactionRollbackError)
    # today's TransactionRollbackError stays SQLSTATE class 40
    assert exceptions.SQLSTATE_CLASSES["40"] is exceptions.TransactionRollbackError
    assert not issubclass(exceptions.TransactionRollbackError, exceptions.InterfaceError)
    tx = conn.transaction()
    await tx.begin()
    conn._raw.close()         # the C connection goes back under the Transaction
    with pytest.raises(exceptions.TransactionClosedError):
        await tx.rollback()


# ---------------------------------------------------------------------------
# Cursor

async def test_cursor_on_a_connection_without_transaction(conn):
    cur = conn.cursor("SELECT a FROM t013 ORDER BY a", fetch_number=2)
    assert (cur.array_size, cur.querystring, cur.parameters) == (
        2, "SELECT a FROM t013 ORDER BY a", None)
    with pytest.raises(exceptions.CursorClosedError):
        await cur.fetchone()                 # not started
    await cur.start()
    # psqlpy 0.13.1 keeps a transaction open for such a cursor (its cursors
    # are not WITH HOLD); we do the same and commit it on close()
    assert conn.in_transaction()
    assert (await cur.fetchone()).result() == [{"a": 1}]
    assert (await cur.fetchmany(2)).result() == [{"a": 2}, {"a": 3}]
    assert (await cur.fetchmany()).result() == [{"a": 4}, {"a": 5}]
    assert (await cur.fetchall()).result() == []
    with pytest.raises(exceptions.CursorStartError):
        await cur.start()
    cur.close()
    cur.close()
    assert cur.is_closed()
    assert await tx_status(conn) == "idle"
    with pytest.raises(exceptions.CursorClosedError):
        await cur.fetchone()
    with pytest.raises(exceptions.CursorClosedError):
        await cur.start()


async def test_cursor_async_with_and_async_for(conn):
    batches = []
    async with conn.cursor("SELECT a FROM t013 WHERE a > $1 ORDER BY a", [1],
                           array_size=3) as cur:
        async for batch in cur:
            batches.append([r["a"] for r in batch.result()])
    assert batches == [[2, 3, 4], [5]]
    # right after the block another cursor and statements work (the close ran first)
    cur = conn.cursor("SELECT b FROM t013 WHERE a = $(a)p", {"a": 2})
    async with cur:
        assert (await cur.fetchall(10)).result() == [{"b": "two"}]
    assert await conn.fetch_val("SELECT 1") == 1
    # async for on an unstarted cursor starts it
    got = [b.result() async for b in conn.cursor("SELECT 1 AS one")]
    assert got == [[{"one": 1}]]


async def test_cursor_execute_and_transaction_cursor(conn):
    cur = conn.cursor(array_size=2)
    res = await cur.execute("SELECT a FROM t013 WHERE a > $1 ORDER BY a", [3])
    # psqlpy 0.13.1's execute() declares and leaves the first row to fetchone();
    # ours gives the (empty) result of FETCH FORWARD 0 with the columns
    assert len(res) == 0 and res.columns == ("a",)
    assert (await cur.fetchone()).result() == [{"a": 4}]
    res = await cur.execute("SELECT b FROM t013 WHERE a = 1")
    assert (await cur.fetchall()).result() == [{"b": "one"}]
    cur.close()
    async with conn.transaction() as tx:
        tcur = tx.cursor("SELECT a FROM t013 ORDER BY a DESC")
        await tcur.start()
        assert (await tcur.fetchone()).result() == [{"a": 5}]
        tcur.close()
        assert await tx.fetch_val("SELECT 2") == 2
    assert await tx_status(conn) == "idle"
    with pytest.raises(exceptions.CursorStartError) as ei:
        await conn.cursor("SELECT * FROM nowhere_013").start()
    assert isinstance(ei.value, exceptions.ProgrammingError)
    assert await tx_status(conn) == "idle"      # the cursor's own transaction is gone
    with pytest.raises(exceptions.CursorStartError):
        conn.cursor("SELECT 1", array_size=0)


async def test_connection_close_waits_for_cursor_close(pool):
    conn = await pool.connection()
    cur = conn.cursor("SELECT generate_series(1, 10)")
    await cur.start()
    cur.close()
    conn.close()                 # gives the connection back after the cursor's CLOSE
    async with pool.acquire() as c2:
        assert await c2.fetch_val("SELECT count(*) FROM pg_cursors WHERE name LIKE 'psqlpy_cursor013%'") == 0
        assert await tx_status(c2) == "idle"


# ---------------------------------------------------------------------------
# PreparedStatement

async def test_prepare(conn):
    ps = await conn.prepare("SELECT a, b, a * 2 AS double FROM t013 WHERE a > $1 ORDER BY a;",
                            [3])
    assert isinstance(ps, _internal.PreparedStatement)
    oid = await conn.fetch_val("SELECT 't013'::regclass::oid")
    assert ps.columns() == [_internal.Column("a", oid), _internal.Column("b", oid),
                            _internal.Column("double", None)]
    assert (await ps.execute()).result(as_tuple=True) == [(4, "four", 8), (5, "five", 10)]
    cur = ps.cursor()
    async with cur:
        assert (await cur.fetchone()).result() == [{"a": 4, "b": "four", "double": 8}]
    named = await conn.prepare("SELECT $(x)p::int AS x", {"x": 9})
    assert await named.execute() is not None and named.columns()[0].name == "x"
    # not a query: nothing runs at prepare(); columns come with the first execute()
    ins = await conn.prepare("INSERT INTO t013 VALUES ($1, 'p') RETURNING a", [90])
    assert ins.columns() == []
    assert await conn.fetch_val("SELECT count(*) FROM t013 WHERE a = 90") == 0
    assert (await ins.execute()).result() == [{"a": 90}]
    assert ins.columns() == [_internal.Column("a", oid)]
    with pytest.raises(exceptions.ConnectionExecuteError):
        await conn.prepare("SELECT * FROM nowhere_013")


# ---------------------------------------------------------------------------

async def test_concurrent_connections_from_one_pool(pool):
    async def work(i: int) -> int:
        async with pool.acquire() as c:
            return await c.fetch_val("SELECT $1::int * 2", [i])
    assert await asyncio.gather(*(work(i) for i in range(10))) == [i * 2 for i in range(10)]
    assert pool.status().size <= 3


async def test_standalone_connection_transaction(dsn):
    conn = await connect(dsn=dsn)
    async with conn.transaction() as tx:
        assert await tx.fetch_val("SELECT 5") == 5
    conn.close()
