"""Server errors: the exception class chosen by SQLSTATE, and the fields the
server sent, each taken from a real error the server raised.

The expected classes are written out here (not read from
psqlpy.exceptions.SQLSTATE_CLASSES), so that a class dropped from or
changed in that map fails a test.  Where a class is easy to reach with a
real statement the test does that; the others are raised with PL/pgSQL's
RAISE SQLSTATE, which the server reports like any other error.
"""

from __future__ import annotations

import uuid

import pytest

from helpers import assert_pool_answers, open_pool, pool  # noqa: F401
from psqlpy import exceptions as exc


def _raise(sqlstate: str) -> str:
    return f"DO $$BEGIN RAISE SQLSTATE '{sqlstate}'; END$$"


# (statement, exception class, SQLSTATE)
CASES = {
    # class 22: data exception
    "22-division-by-zero": ("SELECT 1 / 0", exc.DataError, "22012"),
    "22-bad-text": ("SELECT 'abc'::int4", exc.DataError, "22P02"),
    # class 23: integrity constraint violation
    "23-not-null": ("SELECT NULL::text::sqlstate_nn", exc.IntegrityError, "23502"),
    "23-check": ("SELECT (-1)::sqlstate_pos", exc.IntegrityError, "23514"),
    # 26: invalid SQL statement name
    "26-deallocate": ("DEALLOCATE no_such_statement_here", exc.ProgrammingError, "26000"),
    # 34: invalid cursor name
    "34-fetch": ("FETCH NEXT FROM no_such_cursor_here", exc.ProgrammingError, "34000"),
    # 3D: invalid catalog name
    "3D": (_raise("3D000"), exc.ProgrammingError, "3D000"),
    # 3F: invalid schema name
    "3F-create": ("CREATE TABLE no_such_schema_here.t (a int)", exc.ProgrammingError, "3F000"),
    # 42: syntax error or access rule violation
    "42-syntax": ("SELEC 1", exc.ProgrammingError, "42601"),
    "42-undefined-table": ("SELECT * FROM no_such_table_here", exc.ProgrammingError, "42P01"),
    # 40: transaction rollback
    "40-serialization": (_raise("40001"), exc.TransactionRollbackError, "40001"),
    "40-deadlock": (_raise("40P01"), exc.TransactionRollbackError, "40P01"),
    # 08: connection exception (reported by a live server)
    "08": (_raise("08006"), exc.OperationalError, "08006"),
    "08-protocol": (_raise("08P01"), exc.OperationalError, "08P01"),
    # 53: insufficient resources
    "53": (_raise("53100"), exc.OperationalError, "53100"),
    # 54: program limit exceeded
    "54-too-long": ("SELECT repeat('x', 1073741824)", exc.OperationalError, "54000"),
    # 55: object not in prerequisite state
    "55-currval": ("SELECT currval('sqlstate_seq')", exc.OperationalError, "55000"),
    # 57: operator intervention (57014 has a class of its own)
    "57": (_raise("57P03"), exc.OperationalError, "57P03"),
    "57014": (_raise("57014"), exc.QueryCanceledError, "57014"),
    # 58: system error
    "58-no-file": ("SELECT pg_read_file('/nonexistent-psqlpy/none')", exc.OperationalError,
                   "58P01"),
    # 0A: feature not supported
    "0A-cross-db": ("SELECT * FROM otherdb.public.t", exc.NotSupportedError, "0A000"),
    # XX: internal error
    "XX": (_raise("XX000"), exc.InternalError, "XX000"),
    "XX-corrupted": (_raise("XX001"), exc.InternalError, "XX001"),
    # P0: PL/pgSQL error
    "P0-raise": ("DO $$BEGIN RAISE EXCEPTION 'plain raise'; END$$", exc.InternalError, "P0001"),
    "P0-no-data": ("DO $$DECLARE x int; BEGIN SELECT 1 INTO STRICT x WHERE false; END$$",
                   exc.InternalError, "P0002"),
    # classes with no class of their own: DatabaseError itself
    "25-savepoint": ("SAVEPOINT outside_a_block", exc.DatabaseError, "25P01"),
    "2B": (_raise("2BP01"), exc.DatabaseError, "2BP01"),
    "F0": (_raise("F0000"), exc.DatabaseError, "F0000"),
}


@pytest.fixture
async def typed_conn(pool):
    """A lent connection with the session objects some cases need."""
    async with await pool.connection() as conn:
        await conn.execute("CREATE DOMAIN pg_temp.sqlstate_nn AS text NOT NULL")
        await conn.execute("CREATE DOMAIN pg_temp.sqlstate_pos AS int CHECK (VALUE > 0)")
        await conn.execute("CREATE TEMP SEQUENCE sqlstate_seq")
        await conn.execute("SET search_path = pg_temp, public")
        yield conn


@pytest.mark.parametrize("case", list(CASES))
async def test_sqlstate_chooses_the_class(typed_conn, case):
    sql, cls, sqlstate = CASES[case]
    with pytest.raises(exc.DatabaseError) as info:
        await typed_conn.execute(sql)
    e = info.value
    assert e.sqlstate == sqlstate
    assert type(e) is cls, f"SQLSTATE {sqlstate}: {type(e).__name__}, not {cls.__name__}"
    assert isinstance(e, exc.DBPoolError) and isinstance(e, exc.RustPSQLDriverPyBaseError)
    assert e.severity == "ERROR"
    # the connection is not left failed
    res = await typed_conn.execute("SELECT $1::text AS s", [case])
    assert res.result() == [{"s": case}]


async def test_fetch_row_and_batches_choose_the_class_too(pool):
    sql, cls, sqlstate = CASES["P0-raise"]
    with pytest.raises(cls) as info:
        await pool.fetch_row(sql)
    assert info.value.sqlstate == sqlstate
    async with await pool.connection() as conn:
        with pytest.raises(exc.DataError) as info:
            await conn.execute_many("SELECT 10 / $1::int4", [[1], [0], [2]])
        assert (info.value.sqlstate, info.value.index) == ("22012", 1)
        with pytest.raises(exc.OperationalError) as info:
            await conn.pipeline([("SELECT 1", None), (_raise("53300"), None)])
        assert type(info.value) is exc.OperationalError
        assert (info.value.sqlstate, info.value.index) == ("53300", 1)
    await assert_pool_answers(pool)


# ---------------------------------------------------------------------------
# the fields


@pytest.fixture
async def schema(pool):
    """A scratch schema (so schema_name is known), dropped afterwards."""
    name = f"errf_{uuid.uuid4().hex[:10]}"
    await pool.execute(f"CREATE SCHEMA {name}")
    try:
        yield name
    finally:
        await pool.execute(f"DROP SCHEMA {name} CASCADE")


FIELDS = ("sqlstate", "severity", "detail", "hint", "position", "context", "schema_name",
          "table_name", "column_name", "datatype_name", "constraint_name")


def _fields(e: exc.Error) -> dict:
    return {f: getattr(e, f) for f in FIELDS}


async def test_not_null_violation_names_schema_table_and_column(pool, schema):
    await pool.execute(f"CREATE TABLE {schema}.people (id int, name text NOT NULL)")
    with pytest.raises(exc.IntegrityError) as info:
        await pool.execute(f"INSERT INTO {schema}.people VALUES ($1, $2)", [7, None])
    f = _fields(info.value)
    assert f["detail"] == "Failing row contains (7, null)."
    assert {k: f[k] for k in ("sqlstate", "schema_name", "table_name", "column_name",
                              "datatype_name", "hint", "position")} == {
        "sqlstate": "23502", "schema_name": schema, "table_name": "people",
        "column_name": "name", "datatype_name": None, "hint": None, "position": None}
    assert 'column "name"' in str(info.value)


async def test_check_constraint_names_the_constraint(pool, schema):
    await pool.execute(f"CREATE TABLE {schema}.acct (id int, balance int "
                       "CONSTRAINT balance_not_negative CHECK (balance >= 0))")
    with pytest.raises(exc.IntegrityError) as info:
        await pool.execute(f"INSERT INTO {schema}.acct VALUES (1, $1)", [-5])
    f = _fields(info.value)
    assert (f["sqlstate"], f["schema_name"], f["table_name"], f["constraint_name"]) == (
        "23514", schema, "acct", "balance_not_negative")
    assert f["detail"] == "Failing row contains (1, -5)."
    assert f["column_name"] is None and f["datatype_name"] is None


async def test_domain_check_names_the_data_type(pool, schema):
    await pool.execute(f"CREATE DOMAIN {schema}.percent AS int "
                       "CONSTRAINT percent_range CHECK (VALUE BETWEEN 0 AND 100)")
    with pytest.raises(exc.IntegrityError) as info:
        await pool.execute(f"SELECT 101::{schema}.percent AS p")
    f = _fields(info.value)
    assert (f["sqlstate"], f["schema_name"], f["datatype_name"], f["constraint_name"]) == (
        "23514", schema, "percent", "percent_range")
    assert f["table_name"] is None and f["column_name"] is None


async def test_foreign_key_violation_detail(pool, schema):
    await pool.execute(f"CREATE TABLE {schema}.parent (id int PRIMARY KEY)")
    await pool.execute(f"CREATE TABLE {schema}.child (pid int "
                       f"CONSTRAINT child_parent_fk REFERENCES {schema}.parent)")
    with pytest.raises(exc.IntegrityError) as info:
        await pool.execute(f"INSERT INTO {schema}.child VALUES ($1)", [5])
    f = _fields(info.value)
    assert (f["sqlstate"], f["table_name"], f["constraint_name"]) == (
        "23503", "child", "child_parent_fk")
    assert f["detail"] == 'Key (pid)=(5) is not present in table "parent".'


async def test_plpgsql_error_has_context(pool, schema):
    await pool.execute(
        f"CREATE FUNCTION {schema}.inner_fail(n int) RETURNS int LANGUAGE plpgsql AS $$"
        "BEGIN\n"
        "  IF n > 1 THEN\n"
        "    RAISE EXCEPTION 'n is %', n USING DETAIL = 'too big', HINT = 'pass 1';\n"
        "  END IF;\n"
        "  RETURN n;\n"
        "END$$")
    await pool.execute(
        f"CREATE FUNCTION {schema}.outer_call(n int) RETURNS int LANGUAGE plpgsql AS $$"
        f"BEGIN RETURN {schema}.inner_fail(n); END$$")
    with pytest.raises(exc.InternalError) as info:
        await pool.execute(f"SELECT {schema}.outer_call($1) AS r", [3])
    f = _fields(info.value)
    assert (f["sqlstate"], f["detail"], f["hint"]) == ("P0001", "too big", "pass 1")
    assert "n is 3" in str(info.value)
    ctx = f["context"]
    assert ctx is not None
    assert "PL/pgSQL function " + schema + ".inner_fail(integer) line 3 at RAISE" in ctx
    assert "PL/pgSQL function " + schema + ".outer_call(integer) line 1 at RETURN" in ctx


async def test_every_name_field_lands_on_its_own_attribute(pool):
    """RAISE ... USING sets each name field to a distinct value: none is
    swapped with another or lost."""
    with pytest.raises(exc.IntegrityError) as info:
        await pool.execute(
            "DO $$BEGIN RAISE EXCEPTION 'named' USING ERRCODE = '23000', "
            "SCHEMA = 's-value', TABLE = 't-value', COLUMN = 'c-value', "
            "DATATYPE = 'd-value', CONSTRAINT = 'k-value', DETAIL = 'detail-value', "
            "HINT = 'hint-value'; END$$")
    f = _fields(info.value)
    assert f["context"].startswith("PL/pgSQL function inline_code_block line 1 at RAISE")
    del f["context"]
    assert f == {"sqlstate": "23000", "severity": "ERROR", "detail": "detail-value",
                 "hint": "hint-value", "position": None, "schema_name": "s-value",
                 "table_name": "t-value", "column_name": "c-value",
                 "datatype_name": "d-value", "constraint_name": "k-value"}


async def test_position_points_into_the_statement(pool):
    sql = "SELECT 1 AS a, no_such_column_here FROM pg_class"
    with pytest.raises(exc.ProgrammingError) as info:
        await pool.execute(sql)
    e = info.value
    assert e.sqlstate == "42703"
    assert e.position == str(sql.index("no_such_column_here") + 1)
    assert e.context is None and e.table_name is None


async def test_fields_of_a_pool_whose_connections_come_and_go(dsn):
    """Fields come from the failing statement's own error, not one left on
    the connection by an earlier failure."""
    async with open_pool(dsn, max_db_pool_size=1) as p:
        with pytest.raises(exc.DataError) as first:
            await p.execute("DO $$BEGIN RAISE EXCEPTION 'one' USING ERRCODE = '22000', "
                            "HINT = 'first hint', COLUMN = 'first'; END$$")
        with pytest.raises(exc.DataError) as second:
            await p.execute("SELECT 1 / 0 AS x")
        assert first.value.hint == "first hint" and first.value.column_name == "first"
        assert second.value.hint is None and second.value.column_name is None
        assert second.value.context is None
