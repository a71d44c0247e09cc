"""Error paths: bad parameters, bad configuration, failed connections,
server errors with their fields, misuse of the pool -- each raising the
documented exception (also under the names psqlpy applications already
catch), and each leaving the pool able to answer the next query."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

import pgcluster
from helpers import assert_pool_answers, open_pool, pool  # noqa: F401
from psqlpy import PSQLPool
from psqlpy import exceptions as exc
from psqlpy.exceptions import (DBPoolConfigurationError, DBPoolError, PyToRustValueMappingError,
                               RustPSQLDriverPyBaseError, RustToPyValueMappingError,
                               UUIDValueConvertError)
from psqlpy.extra_types import BigInt, Integer, PyUUID, SmallInt


def test_legacy_names_are_the_hierarchy():
    assert RustPSQLDriverPyBaseError is exc.Error
    assert issubclass(DBPoolError, RustPSQLDriverPyBaseError)
    assert issubclass(DBPoolConfigurationError, DBPoolError)
    assert issubclass(PyToRustValueMappingError, RustPSQLDriverPyBaseError)
    assert issubclass(RustToPyValueMappingError, RustPSQLDriverPyBaseError)
    assert issubclass(UUIDValueConvertError, PyToRustValueMappingError)
    assert issubclass(exc.DBTransactionError, RustPSQLDriverPyBaseError)
    assert issubclass(exc.CursorError, RustPSQLDriverPyBaseError)
    for name in ("ConnectionFailedError", "InterfaceError", "DatabaseError"):
        assert issubclass(getattr(exc, name), DBPoolError)


# ---------------------------------------------------------------------------
# parameters


@pytest.mark.parametrize("sql, params", [
    ("SELECT $1::int4 AS a", [1, 2]),
    ("SELECT $1::int4 AS a, $2::int4 AS b", [1]),
    ("SELECT $1::int4 AS a", []),
    ("SELECT $1::int4 AS a", None),
    ("SELECT 1 AS a", [1]),
], ids=["too-many", "too-few", "empty-list", "none", "none-expected"])
async def test_wrong_parameter_count(pool, sql, params):
    with pytest.raises(DBPoolError) as info:
        await pool.execute(sql, params)
    assert not isinstance(info.value, exc.DatabaseError) or info.value.sqlstate
    await assert_pool_answers(pool)


@pytest.mark.parametrize("sql, params, bad", [
    ("SELECT $1::int4 AS a", ["12"], 1),
    ("SELECT $1::int4 AS a, $2::int8 AS b", [1, "x"], 2),
    ("SELECT $1::int4 AS a", [1.5], 1),
    ("SELECT $1::bool AS a", [1], 1),
    ("SELECT $1::text AS a", [b"bytes"], 1),
    ("SELECT $1::bytea AS a", ["str"], 1),
    ("SELECT $1::uuid AS a", [12], 1),
    ("SELECT $1::date AS a", ["2020-01-01"], 1),
    ("SELECT $1::int4 AS a", [object()], 1),
    ("SELECT $1::int4[] AS a", [[[1, 2], [3]]], 1),     # ragged
    ("SELECT $1::jsonb AS a", [{"k": object()}], 1),     # not JSON-serialisable
], ids=["str-int4", "str-int8-2nd", "float-int4", "int-bool", "bytes-text", "str-bytea",
        "int-uuid", "str-date", "object", "ragged-array", "bad-json"])
async def test_wrong_parameter_type(pool, sql, params, bad):
    with pytest.raises(PyToRustValueMappingError) as info:
        await pool.execute(sql, params)
    assert isinstance(info.value, exc.ParameterError)
    assert f"${bad}" in str(info.value), "the message names the parameter"
    await assert_pool_answers(pool)


@pytest.mark.parametrize("sql, params", [
    ("SELECT $1 AS a", [SmallInt(32768)]),
    ("SELECT $1 AS a", [SmallInt(-32769)]),
    ("SELECT $1 AS a", [Integer(2 ** 31)]),
    ("SELECT $1 AS a", [BigInt(-2 ** 63 - 1)]),
    ("SELECT $1::int2 AS a", [40000]),
    ("SELECT $1::int4 AS a", [-2 ** 31 - 1]),
    ("SELECT $1::int8 AS a", [2 ** 63]),
    ("SELECT $1::float4 AS a", [1e300]),
    ("SELECT $1 AS a", [SmallInt("5")]),
], ids=["smallint-max+1", "smallint-min-1", "integer-max+1", "bigint-min-1", "int2", "int4",
        "int8", "float4", "smallint-of-str"])
async def test_value_out_of_range(pool, sql, params):
    with pytest.raises(PyToRustValueMappingError):
        await pool.execute(sql, params)
    await assert_pool_answers(pool)


async def test_bad_uuid(pool):
    with pytest.raises(UUIDValueConvertError):
        await pool.execute("SELECT $1 AS a", [PyUUID("not-a-uuid")])
    await assert_pool_answers(pool)


@pytest.mark.parametrize("params", ["abc", {"a": 1}, 5])
async def test_parameters_must_be_a_sequence(pool, params):
    with pytest.raises(RustPSQLDriverPyBaseError):
        await pool.execute("SELECT $1::text AS a", params)
    await assert_pool_answers(pool)


async def test_querystring_must_be_str(pool):
    with pytest.raises(TypeError):
        await pool.execute(123)
    await assert_pool_answers(pool)


async def test_value_that_cannot_become_python(pool):
    with pytest.raises(RustToPyValueMappingError):
        res = await pool.execute("SELECT '24:00'::time AS t")
        res.result()
    await assert_pool_answers(pool)


# ---------------------------------------------------------------------------
# configuration and connecting


@pytest.mark.parametrize("kwargs", [
    {"dsn": "host=localhost no_such_option=1"},
    {"dsn": "postgresql://[::1"},
    {"dsn": "postgresql://user@localhost:notaport/db"},
    {"dsn": 123},
    {"max_db_pool_size": 0},
    {"max_db_pool_size": -3},
    {"max_db_pool_size": "2"},
    {"conn_recycling_method": "Fast"},
    {"conn_recycling_method": 7},
    {"port": 70000},
], ids=["unknown-option", "broken-uri", "uri-port-not-a-number", "dsn-not-str", "size-0",
        "size-negative", "size-str", "recycling-str", "recycling-int", "port-range"])
async def test_bad_configuration(kwargs):
    with pytest.raises(DBPoolConfigurationError):
        p = PSQLPool(**kwargs)
        await p.startup()      # some problems may only show here
        await p.close()


def _refused_port() -> int:
    return pgcluster.free_port()


@pytest.mark.parametrize("change", [
    {"port": "refused"},
    {"host": "/nonexistent-socket-dir"},
    {"password": "definitely-wrong"},
    {"username": "no_such_role"},
    {"db_name": "no_such_database"},
], ids=["port-refused", "no-socket", "wrong-password", "no-role", "no-database"])
async def test_connection_failures(dsn_parts, change):
    kwargs = dict(dsn_parts)
    kwargs.update(change)
    if kwargs["port"] == "refused":
        kwargs["port"] = _refused_port()
    p = PSQLPool(max_db_pool_size=1, **kwargs)
    t0 = time.monotonic()
    with pytest.raises(exc.ConnectionFailedError) as info:
        await asyncio.wait_for(p.startup(), 20)
    assert time.monotonic() - t0 < 10
    assert isinstance(info.value, DBPoolError)
    await p.close()


async def test_wrong_password_in_dsn(dsn_parts):
    bad = pgcluster.make_dsn(dsn_parts["username"], dsn_parts["password"] + "x",
                             dsn_parts["host"], dsn_parts["port"], dsn_parts["db_name"])
    p = PSQLPool(dsn=bad)
    with pytest.raises(exc.ConnectionFailedError) as info:
        await p.startup()
    assert "password" in str(info.value)
    await p.close()


async def test_silent_server_honours_connect_timeout():
    """A host that accepts TCP but never answers (a black hole) must fail
    within the DSN's connect_timeout, not hang."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        p = PSQLPool(dsn=f"postgresql://u:p@127.0.0.1:{port}/db?connect_timeout=2"
                         "&sslmode=disable", max_db_pool_size=1)
        t0 = time.monotonic()
        try:
            with pytest.raises(exc.ConnectionFailedError):
                await asyncio.wait_for(p.startup(), 6)
        finally:
            await p.close()
        assert time.monotonic() - t0 < 5


async def test_failed_connection_then_good_one(dsn, dsn_parts):
    """A pool whose server is down fails; a later pool on a reachable server
    works in the same process and loop."""
    p = PSQLPool(host="127.0.0.1", port=_refused_port(), username="x", password="y",
                 db_name="z")
    with pytest.raises(exc.ConnectionFailedError):
        await p.startup()
    await p.close()
    with pytest.raises(exc.InterfaceError):
        await p.execute("SELECT 1")
    async with open_pool(dsn) as good:
        await assert_pool_answers(good)


# ---------------------------------------------------------------------------
# server errors


async def test_syntax_error(pool):
    with pytest.raises(exc.ProgrammingError) as info:
        await pool.execute("SELEC 1")
    e = info.value
    assert isinstance(e, exc.DatabaseError) and isinstance(e, DBPoolError)
    assert isinstance(e, RustPSQLDriverPyBaseError)
    assert e.sqlstate == "42601"
    assert e.severity == "ERROR"
    assert e.position == "1"
    assert "SELEC" in str(e)
    await assert_pool_answers(pool)


async def test_unique_violation_carries_detail_and_names(pool):
    async with await pool.connection() as conn:
        await conn.execute("CREATE TEMP TABLE uv (id int CONSTRAINT uv_pk PRIMARY KEY)")
        await conn.execute("INSERT INTO uv VALUES ($1)", [1])
        with pytest.raises(exc.IntegrityError) as info:
            await conn.execute("INSERT INTO uv VALUES ($1)", [1])
        e = info.value
        assert isinstance(e, DBPoolError)
        assert e.sqlstate == "23505"
        assert e.detail == "Key (id)=(1) already exists."
        assert e.constraint_name == "uv_pk"
        assert e.table_name == "uv"
        assert e.hint is None
        # the connection is not left in a failed state
        await conn.execute("INSERT INTO uv VALUES ($1)", [2])
        res = await conn.execute("SELECT array_agg(id ORDER BY id) AS ids FROM uv")
        assert res.result() == [{"ids": [1, 2]}]
    await assert_pool_answers(pool)


async def test_server_hint_and_detail(pool):
    with pytest.raises(exc.DataError) as info:
        await pool.execute("DO $$ BEGIN RAISE EXCEPTION 'custom failure' "
                           "USING DETAIL = 'the detail', HINT = 'the hint', "
                           "ERRCODE = '22012'; END $$")
    e = info.value
    assert (e.sqlstate, e.detail, e.hint) == ("22012", "the detail", "the hint")
    assert "custom failure" in str(e)
    with pytest.raises(exc.ProgrammingError) as info:
        await pool.execute("SELECT 1 + 'a'::text")
    assert info.value.sqlstate == "42883" and info.value.hint
    await assert_pool_answers(pool)


@pytest.mark.parametrize("sql, cls, sqlstate", [
    ("SELECT 1/0", exc.DataError, "22012"),
    ("SELECT * FROM no_such_table_here", exc.ProgrammingError, "42P01"),
    ("SELECT no_such_column FROM pg_class", exc.ProgrammingError, "42703"),
    ("SELECT 'abc'::int4", exc.DataError, "22P02"),
    ("SELECT 1; SELECT 2", exc.ProgrammingError, "42601"),
])
async def test_sqlstate_picks_the_class(pool, sql, cls, sqlstate):
    with pytest.raises(cls) as info:
        await pool.execute(sql)
    assert info.value.sqlstate == sqlstate
    await assert_pool_answers(pool)


async def test_statement_timeout_is_query_canceled(pool):
    async with await pool.connection() as conn:
        await conn.execute("SET statement_timeout = '50ms'")
        with pytest.raises(exc.QueryCanceledError) as info:
            await conn.execute("SELECT pg_sleep(5)")
        assert info.value.sqlstate == "57014"
        assert isinstance(info.value, exc.OperationalError)
        await conn.execute("SET statement_timeout = 0")
        res = await conn.execute("SELECT 5 AS five")
        assert res.result() == [{"five": 5}]


async def test_errors_inside_a_lent_connection_leave_it_usable(pool):
    async with await pool.connection() as conn:
        for bad in ("SELEC 1", "SELECT 1/0"):
            with pytest.raises(exc.DatabaseError):
                await conn.execute(bad)
            res = await conn.execute("SELECT $1::int4 + 1 AS n", [1])
            assert res.result() == [{"n": 2}]
        with pytest.raises(PyToRustValueMappingError):
            await conn.execute("SELECT $1::int4", ["x"])
        res = await conn.execute("SELECT $1::int4 + 1 AS n", [2])
        assert res.result() == [{"n": 3}]


async def test_session_killed_while_lent(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p, open_pool(dsn) as killer:
        conn = await p.connection()
        pid = (await conn.execute("SELECT pg_backend_pid() AS pid")).result()[0]["pid"]
        await killer.execute("SELECT pg_terminate_backend($1)", [pid])
        with pytest.raises(DBPoolError) as info:
            await asyncio.wait_for(conn.execute("SELECT 1 AS one"), 10)
        assert isinstance(info.value, (exc.ConnectionFailedError, exc.OperationalError))
        conn.close()
        res = await asyncio.wait_for(p.execute("SELECT pg_backend_pid() AS pid"), 10)
        assert res.result()[0]["pid"] != pid
        await assert_pool_answers(p)


# ---------------------------------------------------------------------------
# misuse of the pool


async def test_pool_before_startup(dsn):
    p = PSQLPool(dsn=dsn)
    with pytest.raises(exc.InterfaceError):
        await p.execute("SELECT 1")
    with pytest.raises(exc.InterfaceError):
        await p.connection()
    with pytest.raises(DBPoolError):            # the legacy name catches it too
        await p.execute("SELECT 1")
    await p.startup()                           # and the pool still starts fine
    try:
        await assert_pool_answers(p)
    finally:
        await p.close()


async def test_closed_pool(dsn):
    p = PSQLPool(dsn=dsn)
    await p.startup()
    await assert_pool_answers(p)
    await p.close()
    assert p.closed
    for call in (lambda: p.execute("SELECT 1"), p.connection, p.startup):
        with pytest.raises(exc.InterfaceError):
            await call()
    await p.close()     # closing twice is harmless


async def test_close_while_a_connection_is_lent(dsn):
    p = PSQLPool(dsn=dsn, max_db_pool_size=1)
    await p.startup()
    conn = await p.connection()
    waiter = asyncio.create_task(p.execute("SELECT 1"))
    await asyncio.sleep(0.05)
    await p.close()
    with pytest.raises(exc.InterfaceError):
        await asyncio.wait_for(waiter, 5)     # waiters fail, they do not hang
    # the lent connection finishes what it is given, then goes away
    res = await conn.execute("SELECT 3 AS three")
    assert res.result() == [{"three": 3}]
    conn.close()
    assert p.status()["size"] == 0
