"""Types whose OIDs differ per database: enums, domains, composite types
(named, nested, table row types, anonymous records) and arrays of them.

A connection learns such a type from pg_type the first time a statement
names it and codes it from then on; values are checked both ways and
against the server's own text output.
"""

from __future__ import annotations

import secrets
from typing import AsyncIterator

import pytest
import pytest_asyncio

from helpers import open_pool
from psqlpy import PSQLPool
from psqlpy.exceptions import DatabaseError, ParameterError, ResultError


@pytest_asyncio.fixture
async def tpool(dsn: str) -> AsyncIterator[PSQLPool]:
    """A one-connection pool whose search_path is a fresh schema holding the
    test types; the schema is dropped afterwards."""
    schema = f"dyn_{secrets.token_hex(4)}"
    async with open_pool(dsn, max_db_pool_size=1) as setup:
        for sql in [
            f"CREATE SCHEMA {schema}",
            f"CREATE TYPE {schema}.mood AS ENUM ('sad', 'ok', 'happy', 'très bien')",
            f"CREATE DOMAIN {schema}.posint AS int4 CHECK (VALUE > 0)",
            f"CREATE DOMAIN {schema}.tags AS text[]",
            f"CREATE TYPE {schema}.inner_t AS (x float8, label text)",
            f"CREATE TYPE {schema}.outer_t AS (id int8, m {schema}.mood, d {schema}.posint,"
            f" i {schema}.inner_t, arr int4[], moods {schema}.mood[])",
            f"CREATE TABLE {schema}.item (id int4, name text, price numeric)",
        ]:
            await setup.execute(sql)
    try:
        async with open_pool(dsn, max_db_pool_size=1) as p:
            conn = await p.connection()
            await conn.execute(f"SET search_path = {schema}, public")
            yield conn  # type: ignore[misc]
            conn.close()
    finally:
        async with open_pool(dsn, max_db_pool_size=1) as setup:
            await setup.execute(f"DROP SCHEMA {schema} CASCADE")


async def one(conn, sql: str, params=None):
    res = await conn.execute(sql, params)
    rows = res.result()
    assert len(rows) == 1
    return rows[0]


# ---- enums ---------------------------------------------------------------------


@pytest.mark.parametrize("label", ["sad", "ok", "happy", "très bien"])
async def test_enum_both_ways(tpool, label):
    row = await one(tpool, "SELECT $1::mood AS v, $1::mood::text AS t,"
                           " $2::text::mood AS parsed", [label, label])
    assert row == {"v": label, "t": label, "parsed": label}


async def test_enum_parameter_type_is_inferred_and_checked(tpool):
    row = await one(tpool, "SELECT pg_typeof($1::mood)::text AS t, $1::mood < 'happy' AS lt",
                    ["ok"])
    assert row == {"t": "mood", "lt": True}
    with pytest.raises(DatabaseError) as ei:
        await tpool.execute("SELECT $1::mood", ["furious"])
    assert ei.value.sqlstate == "22P02"
    # the connection is still usable and knows the type
    assert (await one(tpool, "SELECT 'sad'::mood AS v")) == {"v": "sad"}


async def test_enum_array_with_nulls_and_two_dimensions(tpool):
    row = await one(tpool, "SELECT $1::mood[] AS v, $1::mood[]::text AS t",
                    [["ok", None, "sad"]])
    assert row == {"v": ["ok", None, "sad"], "t": "{ok,NULL,sad}"}
    row = await one(tpool, "SELECT $1::mood[] AS v, $1::mood[]::text AS t",
                    [[["ok", "sad"], ["happy", "ok"]]])
    assert row == {"v": [["ok", "sad"], ["happy", "ok"]], "t": "{{ok,sad},{happy,ok}}"}


# ---- domains ---------------------------------------------------------------------


async def test_domain_is_coded_as_its_base_type(tpool):
    row = await one(tpool, "SELECT $1::posint AS v, pg_typeof($1::posint)::text AS t", [42])
    assert row == {"v": 42, "t": "posint"}
    row = await one(tpool, "SELECT '{a,b}'::tags AS v, $1::tags::text AS t", [["x", "y z"]])
    assert row == {"v": ["a", "b"], "t": '{x,"y z"}'}


async def test_domain_check_violation_is_a_clear_error(tpool):
    with pytest.raises(DatabaseError) as ei:
        await tpool.execute("SELECT $1::posint", [-1])
    assert ei.value.sqlstate == "23514"
    assert "posint" in str(ei.value)
    assert (await one(tpool, "SELECT $1::posint AS v", [1])) == {"v": 1}


async def test_domain_array(tpool):
    row = await one(tpool, "SELECT $1::posint[] AS v, $1::posint[]::text AS t", [[1, None, 3]])
    assert row == {"v": [1, None, 3], "t": "{1,NULL,3}"}


# ---- composite types ---------------------------------------------------------------------


async def test_composite_both_ways_with_nesting_and_nulls(tpool):
    value = (7, "happy", 5, (1.5, "in"), [1, 2, None], ["ok", None])
    row = await one(tpool, "SELECT $1::outer_t AS v, $1::outer_t::text AS t", [value])
    assert row["v"] == value
    assert row["t"] == '(7,happy,5,"(1.5,in)","{1,2,NULL}","{ok,NULL}")'
    # the server's own parse of that text decodes to the same tuple
    parsed = await one(tpool, "SELECT $1::text::outer_t AS v", [row["t"]])
    assert parsed["v"] == value
    # all NULL attributes, and a NULL composite
    row = await one(tpool, "SELECT $1::outer_t AS v, $2::outer_t AS n",
                    [(None, None, None, None, None, None), None])
    assert row == {"v": (None, None, None, None, None, None), "n": None}


async def test_composite_array_of_rows(tpool):
    rows = [(1.0, "a"), None, (-2.5, None)]
    row = await one(tpool, "SELECT $1::inner_t[] AS v, $1::inner_t[]::text AS t", [rows])
    assert row["v"] == rows
    assert row["t"] == '{"(1,a)",NULL,"(-2.5,)"}'


async def test_table_row_type_and_anonymous_record(tpool):
    await tpool.execute("INSERT INTO item VALUES (1, 'pen', 1.25), (2, NULL, NULL)")
    res = await tpool.execute("SELECT item AS r FROM item ORDER BY id")
    from decimal import Decimal

    assert res.result() == [{"r": (1, "pen", Decimal("1.25"))}, {"r": (2, None, None)}]
    row = await one(tpool, "SELECT ROW(1, 'x'::text, NULL::int4, 2.5::float8) AS r")
    assert row == {"r": (1, "x", None, 2.5)}


async def test_composite_wrong_shape_is_a_parameter_error(tpool):
    with pytest.raises(ParameterError) as ei:
        await tpool.execute("SELECT $1::inner_t", [(1.0,)])
    assert "2 attributes" in str(ei.value)
    with pytest.raises(ParameterError):
        await tpool.execute("SELECT $1::inner_t", [("not a float", "x")])
    assert (await one(tpool, "SELECT $1::inner_t AS v", [(3.0, "ok")])) == {"v": (3.0, "ok")}


async def test_anonymous_record_parameter_is_refused_clearly(tpool):
    with pytest.raises((ParameterError, DatabaseError)):
        await tpool.execute("SELECT $1::record", [(1, 2)])
    assert (await one(tpool, "SELECT 1 AS v")) == {"v": 1}


async def test_record_with_a_column_of_no_codec_is_a_result_error(tpool):
    # an anonymous record whose column type has no codec cannot be decoded
    # in binary; the error names the column and the connection stays usable
    with pytest.raises(ResultError) as ei:
        (await tpool.execute("SELECT ROW(1, 'a b'::tsvector) AS r")).result()
    assert "type oid" in str(ei.value)
    assert (await one(tpool, "SELECT 2 AS v")) == {"v": 2}


async def test_types_created_later_are_learnt_too(tpool):
    await tpool.execute("CREATE TYPE late_t AS ENUM ('a', 'b')")
    assert (await one(tpool, "SELECT 'b'::late_t AS v")) == {"v": "b"}
    await tpool.execute("CREATE TYPE late_c AS (p late_t, q posint)")
    assert (await one(tpool, "SELECT $1::late_c AS v", [("a", 9)])) == {"v": ("a", 9)}


async def test_a_column_without_codec_still_comes_back_as_text(tpool):
    # a per-database base type with no codec: text, never an error
    await tpool.execute("CREATE TYPE ltxt")  # shell type, to make a base type from text's I/O
    await tpool.execute(
        "CREATE FUNCTION ltxt_in(cstring) RETURNS ltxt AS 'textin' LANGUAGE internal STRICT")
    await tpool.execute(
        "CREATE FUNCTION ltxt_out(ltxt) RETURNS cstring AS 'textout' LANGUAGE internal STRICT")
    await tpool.execute(
        "CREATE TYPE ltxt (INPUT = ltxt_in, OUTPUT = ltxt_out, LIKE = text)")
    row = await one(tpool, "SELECT 'hello'::ltxt AS v, 1 AS n")
    assert row == {"v": "hello", "n": 1}


# ---- hstore (an extension type, by name) ----------------------------------------


@pytest_asyncio.fixture
async def hpool(tpool):
    await tpool.execute("CREATE EXTENSION IF NOT EXISTS hstore")
    return tpool


@pytest.mark.parametrize("value, text", [
    ({}, ""),
    ({"a": "1"}, '"a"=>"1"'),
    ({"k": None, "é x": "ünï"}, '"k"=>NULL, "é x"=>"ünï"'),
    ({"quote\"s": "back\\slash", "": ""}, '""=>"", "quote\\"s"=>"back\\\\slash"'),
])
async def test_hstore_both_ways(hpool, value, text):
    row = await one(hpool, "SELECT $1::hstore AS v, $1::hstore::text AS t,"
                           " $2::text::hstore AS parsed", [value, text])
    assert row["v"] == value and row["parsed"] == value
    assert row["t"] == text


async def test_hstore_array_and_refusals(hpool):
    row = await one(hpool, "SELECT $1::hstore[] AS v", [[{"a": "b"}, None, {}]])
    assert row == {"v": [{"a": "b"}, None, {}]}
    with pytest.raises(ParameterError) as ei:
        await hpool.execute("SELECT $1::hstore", [{"a": 1}])
    assert "str or None" in str(ei.value)
    with pytest.raises(ParameterError):
        await hpool.execute("SELECT $1::hstore", [{1: "a"}])
    assert (await one(hpool, "SELECT 'x=>y'::hstore AS v")) == {"v": {"x": "y"}}


async def test_dict_into_json_keeps_keys_like_json_dumps(tpool):
    doc = {"a": [1, 2.5, None], 1: True, "é": {"n": None}}
    row = await one(tpool, "SELECT $1::jsonb AS v, $2::json::text AS t", [doc, doc])
    assert row["v"] == {"a": [1, 2.5, None], "1": True, "é": {"n": None}}
    assert row["t"] == '{"a":[1,2.5,null],"1":true,"é":{"n":null}}'


# ---- codecs written in Python -------------------------------------------------


class Money2:
    """A user's own class, coded through a Python codec."""

    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money2) and other.cents == self.cents


async def test_python_text_codec_for_a_composite(tpool, dsn):
    import psqlpy

    await tpool.execute("CREATE TYPE pymoney AS (cents int8)")
    psqlpy.register_codec(
        "pymoney",
        encode=lambda m: f"({m.cents})",
        decode=lambda text: Money2(int(text.strip("()"))),
        format="text")
    # a new connection learns the type and uses the Python codec
    async with open_pool(dsn, max_db_pool_size=1) as p:
        conn = await p.connection()
        await conn.execute(f"SET search_path = {await schema_of(tpool)}, public")
        row = await one(conn, "SELECT $1::pymoney AS v, $1::pymoney::text AS t, 7 AS n",
                        [Money2(1234)])
        assert row == {"v": Money2(1234), "t": "(1234)", "n": 7}
        # an encoder error is a ParameterError naming the parameter and the cause
        with pytest.raises(ParameterError) as ei:
            await conn.execute("SELECT $1::pymoney", ["not money"])
        assert "$1" in str(ei.value) and "AttributeError" in str(ei.value)
        conn.close()


async def test_python_binary_codec_for_an_enum(tpool, dsn):
    import psqlpy

    await tpool.execute("CREATE TYPE pycolor AS ENUM ('red', 'green')")
    seen = []

    def decode(b: bytes) -> str:
        seen.append(b)
        return b.decode().upper()

    psqlpy.register_codec("pycolor", encode=lambda s: s.lower().encode(), decode=decode,
                          format="binary")
    async with open_pool(dsn, max_db_pool_size=1) as p:
        conn = await p.connection()
        await conn.execute(f"SET search_path = {await schema_of(tpool)}, public")
        row = await one(conn, "SELECT $1::pycolor AS v, $1::pycolor::text AS t", ["GREEN"])
        assert row == {"v": "GREEN", "t": "green"}
        assert seen == [b"green"]
        # a decoder that raises becomes a ResultError with the cause
        psqlpy.register_codec("pycolor", encode=lambda s: s.encode(),
                              decode=lambda b: 1 / 0, format="binary")
        res = await conn.execute("SELECT 'red'::pycolor AS v")
        with pytest.raises(ResultError) as ei:
            res.result()
        assert isinstance(ei.value.__cause__, ZeroDivisionError)
        with pytest.raises(ValueError):
            psqlpy.register_codec("pycolor", decode=str, format="text")
        conn.close()


async def test_unknown_object_to_a_builtin_type_is_refused_by_name(tpool):
    with pytest.raises(ParameterError) as ei:
        await tpool.execute("SELECT $1::int4", [Money2(1)])
    assert "Money2" in str(ei.value) and "$1" in str(ei.value)


async def schema_of(conn) -> str:
    return (await conn.execute("SELECT current_schema() AS s")).result()[0]["s"]
