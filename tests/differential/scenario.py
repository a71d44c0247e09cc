"""The scenario of the differential check: one sequence of psqlpy 0.13 API
calls, run by whichever ``psqlpy`` this interpreter imports (ours, or the
Rust package 0.13.1 in a venv of its own).

    python scenario.py --dsn DSN --out FILE.json

writes a JSON list of steps ``{"step": name, "outcome": ...}``.  An outcome
is the normalised value a step produced (every value as its type's name and
its repr, so ``"1"`` and ``1`` differ, and so do ``UUID`` and ``str``), or
``{"error": NAME}`` where NAME is the first class of the 0.13 exception
hierarchy in the raised exception's MRO.  Messages are not compared: they
are the server's or each package's own wording.

Only the public 0.13 API is used, the same way on both packages.  Standard
library only besides psqlpy.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import decimal
import enum
import json
import sys
import uuid

import psqlpy
from psqlpy import (
    ConnectionPool,
    IsolationLevel,
    ReadVariant,
    connect,
    exceptions,
    extra_types,
    row_factories,
)

# The 0.13 exception hierarchy, most specific names first; an error is
# reported by the first of these in its class's MRO.
ERROR_NAMES = (
    "ConnectionPoolBuildError", "ConnectionPoolConfigurationError",
    "ConnectionPoolExecuteError", "ConnectionExecuteError", "ConnectionClosedError",
    "TransactionBeginError", "TransactionCommitError", "TransactionSavepointError",
    "TransactionExecuteError", "TransactionClosedError", "CursorStartError",
    "CursorCloseError", "CursorFetchError", "CursorClosedError",
    "ListenerStartError", "ListenerClosedError", "ListenerCallbackError",
    "UUIDValueConvertError", "MacAddrConversionError", "RustToPyValueMappingError",
    "PyToRustValueMappingError", "BaseConnectionPoolError", "BaseConnectionError",
    "BaseTransactionError", "BaseCursorError", "BaseListenerError",
    "DataError", "OperationalError", "IntegrityError", "InternalError",
    "ProgrammingError", "NotSupportedError", "InterfaceError", "DatabaseError",
    "Error", "WarningError",
)


def error_names(exc: BaseException) -> list[str]:
    """The 0.13 hierarchy names ``exc`` is an instance of (isinstance against
    this package's own classes), most specific first; [] if none."""
    return [n for n in ERROR_NAMES
            if isinstance(getattr(exceptions, n, None), type)
            and isinstance(exc, getattr(exceptions, n))]


def norm(v):
    """A JSON-able form of a decoded value: type names kept all the way down."""
    if isinstance(v, dict):
        return {"dict": {str(k): norm(x) for k, x in v.items()}}
    if isinstance(v, (list, tuple)):
        return {type(v).__name__: [norm(x) for x in v]}
    if v is None or isinstance(v, (bool, int, str)):
        return f"{type(v).__name__}:{v!r}"
    if isinstance(v, float):
        return f"float:{v!r}"
    if type(v).__name__ in ("QueryResult", "SingleQueryResult"):
        return {"QueryResult": norm(v.result())}
    if type(v).__name__ == "Record":
        return {"Record": norm(list(v.items()))}
    if isinstance(v, (bytes, bytearray, memoryview)):
        return f"bytes:{bytes(v)!r}"
    return f"{type(v).__name__}:{v!r}"


class Mood(enum.Enum):
    happy = "happy"
    sad = "sad"


class Level(enum.IntEnum):
    low = 1
    high = 2


class Scenario:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.steps: list[dict] = []

    async def step(self, name: str, fn) -> None:
        try:
            out = await fn()
            outcome = {"value": norm(out)}
        except Exception as e:   # noqa: BLE001 - every failure is an outcome
            isa = error_names(e)
            outcome = {"error": isa[0] if isa else f"{type(e).__name__} (not psqlpy's)",
                       "isa": isa}
            # shown in the report, never compared
            detail = f"{type(e).__module__}.{type(e).__qualname__}: {e}"
            self.steps.append({"step": name, "outcome": outcome, "detail": detail[:300]})
            return
        self.steps.append({"step": name, "outcome": outcome})

    async def run(self) -> list[dict]:
        pool = ConnectionPool(dsn=self.dsn, max_db_pool_size=2)
        conn = await pool.connection()
        try:
            await self.setup(conn)
            await self.types_out(conn)
            await self.types_in(conn)
            await self.shapes(conn)
            await self.paths(conn)
            await self.statements(conn)
            await self.copy(conn)
            await self.transactions(conn)
            await self.cursors(conn)
            await self.errors(conn)
            await self.listener()
            await self.standalone()
        finally:
            try:
                await conn.execute_batch("DROP SCHEMA IF EXISTS diff013 CASCADE")
            finally:
                conn.close()
                pool.close()
        return self.steps

    async def setup(self, conn) -> None:
        await conn.execute_batch(
            "DROP SCHEMA IF EXISTS diff013 CASCADE; CREATE SCHEMA diff013;"
            "CREATE TYPE diff013.mood AS ENUM ('happy', 'sad');"
            "CREATE TABLE diff013.t (id int PRIMARY KEY, name text NOT NULL);"
            "INSERT INTO diff013.t SELECT g, 'n' || g FROM generate_series(1, 7) g;"
            "CREATE TABLE diff013.v (id int, val text)")

    # ---- decoding: one column of each type ---------------------------------
    TYPES_OUT = (
        ("int2", "SELECT 7::int2 AS v"),
        ("int4", "SELECT '-2147483648'::int4 AS v"),
        ("int4 overflow", "SELECT 2147483647::int4 + 1 AS v"),
        ("int8", "SELECT 9223372036854775807::int8 AS v"),
        ("float4", "SELECT 1.5::float4 AS v"),
        ("float8", "SELECT 2.25::float8 AS v"),
        ("numeric", "SELECT 12345.678900::numeric AS v"),
        ("numeric-nan", "SELECT 'NaN'::numeric AS v"),
        ("text", "SELECT 'héllo'::text AS v"),
        ("varchar", "SELECT 'abc'::varchar(10) AS v"),
        ("bpchar", "SELECT 'ab'::char(4) AS v"),
        ("bool", "SELECT true AS v, false AS w"),
        ("bytea", "SELECT '\\x00ff10'::bytea AS v"),
        ("uuid", "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS v"),
        ("json", "SELECT '{\"a\": [1, 2.5, null, \"x\"]}'::json AS v"),
        ("jsonb", "SELECT '{\"b\": {\"c\": true}}'::jsonb AS v"),
        ("jsonb-array", "SELECT '[1, \"two\"]'::jsonb AS v"),
        ("date", "SELECT '2024-02-29'::date AS v"),
        ("time", "SELECT '13:14:15.123456'::time AS v"),
        ("timetz", "SELECT '13:14:15+02'::timetz AS v"),
        ("timestamp", "SELECT '2024-01-02 03:04:05.5'::timestamp AS v"),
        ("timestamptz", "SELECT '2024-01-02 03:04:05+00'::timestamptz AS v"),
        ("interval", "SELECT '1 day 02:03:04'::interval AS v"),
        ("interval-months", "SELECT '1 year 2 mons 3 days'::interval AS v"),
        ("int4[]", "SELECT ARRAY[1, NULL, 3]::int4[] AS v"),
        ("int8[][]", "SELECT '{{1,2},{3,4}}'::int8[] AS v"),
        ("text[]", "SELECT ARRAY['a', 'b c']::text[] AS v"),
        ("empty-array", "SELECT '{}'::int4[] AS v"),
        ("uuid[]", "SELECT ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']::uuid[] AS v"),
        ("bool[]", "SELECT ARRAY[true, false] AS v"),
        ("float8[]", "SELECT ARRAY[1.5, 2]::float8[] AS v"),
        ("numeric[]", "SELECT ARRAY[1.5, 2]::numeric[] AS v"),
        ("date[]", "SELECT ARRAY['2024-01-01'::date] AS v"),
        ("jsonb[]", "SELECT ARRAY['{\"a\":1}'::jsonb] AS v"),
        ("inet", "SELECT '192.168.0.1'::inet AS v"),
        ("inet6", "SELECT '::1'::inet AS v"),
        ("inet-masked", "SELECT '10.1.2.3/8'::inet AS v"),
        ("inet[]", "SELECT ARRAY['10.0.0.1'::inet] AS v"),
        ("cidr", "SELECT '10.0.0.0/8'::cidr AS v"),
        ("macaddr", "SELECT '08:00:2b:01:02:03'::macaddr AS v"),
        ("macaddr8", "SELECT '08:00:2b:01:02:03:04:05'::macaddr8 AS v"),
        ("point", "SELECT '(1.5, 2)'::point AS v"),
        ("box", "SELECT '((3, 4), (1, 2))'::box AS v"),
        ("line", "SELECT '{1, -1, 0}'::line AS v"),
        ("lseg", "SELECT '[(0, 0), (1, 1)]'::lseg AS v"),
        ("path-open", "SELECT '[(0, 0), (1, 1), (2, 0)]'::path AS v"),
        ("path-closed", "SELECT '((0, 0), (1, 1), (2, 0))'::path AS v"),
        ("circle", "SELECT '<(1, 2), 3>'::circle AS v"),
        ("polygon", "SELECT '((0, 0), (1, 1), (1, 0))'::polygon AS v"),
        ("point[]", "SELECT ARRAY['(1, 2)'::point] AS v"),
        ("enum", "SELECT 'happy'::diff013.mood AS v"),
        ("enum[]", "SELECT ARRAY['sad'::diff013.mood] AS v"),
        ("char", "SELECT 'x'::\"char\" AS v"),
        ("oid", "SELECT 26::oid AS v"),
        ("money", "SELECT 12.34::money AS v"),
        ("money-negative", "SELECT (-0.05)::money AS v"),
        ("money-extremes", "SELECT '92233720368547758.07'::money AS v,"
                           " '-92233720368547758.08'::money AS w, NULL::money AS n"),
        ("money[]", "SELECT ARRAY[[1.5::money], [(-2)::money]] AS v"),
        ("null", "SELECT NULL::int4 AS v, NULL::text AS w"),
    )

    async def types_out(self, conn) -> None:
        for name, sql in self.TYPES_OUT:
            await self.step(f"decode {name}",
                            lambda sql=sql: self.result(conn.execute(sql)))

    @staticmethod
    async def result(pending):
        return (await pending).result()

    # ---- encoding: a parameter of each type, echoed back as text -------------
    def types_in_cases(self):
        e = extra_types
        return [
            ("int", 5, "int8"), ("int-as-int2", e.SmallInt(3), "int2"),
            ("int-as-int4", e.Integer(4), "int4"), ("BigInt", e.BigInt(5), "int8"),
            ("float", 1.25, "float8"), ("Float32", e.Float32(1.5), "float4"),
            ("Float64", e.Float64(2.5), "float8"),
            ("Decimal", decimal.Decimal("3.14159"), "numeric"),
            ("str", "hé", "text"), ("VarChar", e.VarChar("vc"), "varchar"),
            ("Text", e.Text("tx"), "text"), ("bool", True, "bool"),
            ("bytes", b"\x00\x01", "bytea"),
            ("UUID", uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), "uuid"),
            ("dict->jsonb", {"a": [1, None]}, "jsonb"),
            ("JSON", e.JSON({"k": 1}), "json"), ("JSONB", e.JSONB([1, 2]), "jsonb"),
            ("date", datetime.date(2024, 2, 29), "date"),
            ("time", datetime.time(1, 2, 3, 4000), "time"),
            ("datetime", datetime.datetime(2024, 1, 2, 3, 4, 5), "timestamp"),
            ("datetime-tz", datetime.datetime(2024, 1, 2, 3, 4, 5,
                                              tzinfo=datetime.UTC), "timestamptz"),
            ("timedelta", datetime.timedelta(days=1, seconds=5), "interval"),
            ("list-int", [1, 2, 3], "int8[]"),
            ("list-str", ["a", "b"], "text[]"),
            ("Int32Array", e.Int32Array([[1, 2], [3, 4]]), "int4[]"),
            ("TextArray", e.TextArray(["x", "y"]), "text[]"),
            ("UUIDArray", e.UUIDArray([uuid.UUID(int=1)]), "uuid[]"),
            ("Float64Array", e.Float64Array([1.5]), "float8[]"),
            ("BoolArray", e.BoolArray([True, False]), "bool[]"),
            ("DateArray", e.DateArray([datetime.date(2024, 1, 1)]), "date[]"),
            ("JSONBArray", e.JSONBArray([{"a": 1}]), "jsonb[]"),
            ("IPv4Address", __import__("ipaddress").ip_address("10.0.0.1"), "inet"),
            ("MacAddr6", e.MacAddr6("08:00:2b:01:02:03"), "macaddr"),
            ("MacAddr8", e.MacAddr8("08:00:2b:01:02:03:04:05"), "macaddr8"),
            ("Point", e.Point([1, 2]), "point"),
            ("Box", e.Box([1, 2, 3, 4]), "box"),
            ("Path", e.Path([[0, 0], [1, 1]]), "path"),
            ("Line", e.Line([1, -1, 0]), "line"),
            ("LineSegment", e.LineSegment([[0, 0], [1, 1]]), "lseg"),
            ("Circle", e.Circle([1, 2, 3]), "circle"),
            ("PointArray", e.PointArray([e.Point([1, 2])]), "point[]"),
            ("str->enum", "sad", "diff013.mood"),
            ("Enum-member", Mood.happy, "diff013.mood"),
            ("Enum-member-as-text", Mood.sad, "text"),
            ("IntEnum-member", Level.high, "int4"),
            ("None", None, "int4"),
            ("int->money", 1234, "money"),
            ("negative-int->money", -5, "money"),
            ("Money", e.Money(250), "money"),
            ("list-int->money[]", [5, 250], "money[]"),
            ("MoneyArray", e.MoneyArray([1, 2]), "money[]"),
        ]

    async def types_in(self, conn) -> None:
        for name, value, pgtype in self.types_in_cases():
            sql = f"SELECT $1::{pgtype}::text AS v"
            await self.step(f"encode {name}",
                            lambda sql=sql, value=value: conn.fetch_val(sql, [value]))
        # round trip: the 0.13-decoded value of a column goes back in
        for name, lit in [("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"),
                          ("jsonb", "'{\"a\": 1}'::jsonb"),
                          ("inet", "'10.0.0.1'::inet"), ("macaddr", "'08:00:2b:01:02:03'::macaddr"),
                          ("timestamptz", "'2024-01-02 03:04:05+00'::timestamptz"),
                          ("money", "'12.34'::money")]:
            # (no geometry, no array: 0.13.1 panics (a Rust panic, the
            # connection lost) sending a tuple or list back)
            async def roundtrip(lit=lit):
                v = await conn.fetch_val(f"SELECT {lit} AS v")
                pgtype = lit.rsplit("::", 1)[1]
                return await conn.fetch_val(f"SELECT $1::{pgtype}::text AS v", [v])
            await self.step(f"round trip {name}", roundtrip)

    # ---- results in every row shape ---------------------------------------
    async def shapes(self, conn) -> None:
        sql = "SELECT id, name FROM diff013.t WHERE id <= $1 ORDER BY id"

        async def run(f):
            return f(await conn.execute(sql, [3]))

        await self.step("result()", lambda: run(lambda r: r.result()))
        await self.step("result(as_tuple=True)", lambda: run(lambda r: r.result(as_tuple=True)))
        await self.step("result(custom_decoders)", lambda: run(
            lambda r: r.result(custom_decoders={"name": lambda b: bytes(b).upper()})))
        await self.step("as_class", lambda: run(
            lambda r: [vars(x) for x in r.as_class(type("C", (), {"__init__": lambda s, **k: s.__dict__.update(k)}))]))
        await self.step("row_factory(dict->list)", lambda: run(
            lambda r: r.row_factory(lambda row: sorted(row.items()))))
        await self.step("row_factory(tuple_row)", lambda: run(
            lambda r: r.row_factory(row_factories.tuple_row)))
        await self.step("row_factory(class_row)", lambda: run(
            lambda r: [vars(x) for x in r.row_factory(row_factories.class_row(
                type("D", (), {"__init__": lambda s, **k: s.__dict__.update(k)})))]))

        async def records():
            recs = (await conn.execute(sql, [3])).records()
            r = recs[1]
            return [len(recs), len(r), r[0], r[1], r["id"], r["name"], r[0:2], r[-1],
                    list(r), r.get("name"), r.get("nope", "dflt"), r.keys(), r.values(),
                    r.items(), recs[0]]
        await self.step("records() and Record access", records)

        async def record_missing():
            return (await conn.execute(sql, [1])).records()[0]["nope"]
        await self.step("Record missing key", record_missing)
        await self.step("QueryResult len()", lambda: run(len))
        await self.step("QueryResult iteration", lambda: run(list))
        await self.step("QueryResult index", lambda: run(lambda r: r[1]))
        await self.step("SingleQueryResult as_class", lambda: self.shape(
            conn.fetch_row("SELECT 1 AS a, 'x' AS b"),
            lambda r: vars(r.as_class(type("E", (), {
                "__init__": lambda s, **k: s.__dict__.update(k)})))))
        await self.step("fetch()", lambda: self.result(conn.fetch(sql, [2])))
        await self.step("fetch_row().result()",
                        lambda: self.result(conn.fetch_row("SELECT 1 AS a, 'x' AS b")))

        async def row_as_tuple():
            return (await conn.fetch_row("SELECT 1 AS a, 'x' AS b")).result(as_tuple=True)
        await self.step("fetch_row().result(as_tuple)", row_as_tuple)

        async def row_factory_single():
            return (await conn.fetch_row("SELECT 1 AS a, 'x' AS b")).row_factory(
                lambda row: list(row.values()))
        await self.step("fetch_row().row_factory", row_factory_single)
        await self.step("fetch_row no row", lambda: conn.fetch_row(sql, [0]))
        await self.step("fetch_row two rows", lambda: conn.fetch_row(sql, [2]))
        await self.step("fetch_val", lambda: conn.fetch_val("SELECT name FROM diff013.t WHERE id = $1", [5]))
        await self.step("fetch_val no row", lambda: conn.fetch_val(sql, [0]))
        await self.step("fetch_val NULL", lambda: conn.fetch_val("SELECT NULL::text"))
        await self.step("duplicate column names",
                        lambda: self.result(conn.execute("SELECT 1 AS a, 2 AS a")))
        await self.step("empty result", lambda: self.result(conn.execute(sql, [0])))
        await self.step("prepared=False",
                        lambda: self.result(conn.execute(sql, [2], prepared=False)))

    # ---- the 0.13 decoding on every path -------------------------------------
    PATHS_SQL = ("SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u, '10.0.0.1'::inet AS i,"
                 " '08:00:2b:01:02:03'::macaddr AS m, '(1, 2)'::point AS p,"
                 " '((0, 0), (1, 1), (2, 0))'::path AS pa, '[(0, 0), (1, 1)]'::lseg AS l,"
                 " '<(1, 2), 3>'::circle AS c, ARRAY['(1, 2)'::point] AS ps,"
                 " ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid] AS us,"
                 " 'happy'::diff013.mood AS e, '{\"k\": [1]}'::jsonb AS j")

    async def paths(self, conn) -> None:
        sql = self.PATHS_SQL
        await self.step("0.13 decoding: result(as_tuple)", lambda: self.shape(
            conn.execute(sql), lambda r: r.result(as_tuple=True)))
        await self.step("0.13 decoding: records()", lambda: self.shape(
            conn.execute(sql), lambda r: [list(x.values()) for x in r.records()]))
        await self.step("0.13 decoding: row_factory", lambda: self.shape(
            conn.execute(sql), lambda r: r.row_factory(lambda row: row)))
        await self.step("0.13 decoding: fetch_row", lambda: self.shape(
            conn.fetch_row(sql), lambda r: r.result()))
        await self.step("0.13 decoding: fetch_val", lambda: conn.fetch_val(sql))
        await self.step("0.13 decoding: prepared=False", lambda: self.shape(
            conn.execute(sql, prepared=False), lambda r: r.result()))

        async def prepared():
            return (await (await conn.prepare(sql)).execute()).result()
        await self.step("0.13 decoding: prepare().execute()", prepared)

        async def in_tx():
            async with conn.transaction() as tx:
                return [(await tx.execute(sql)).result(), (await tx.fetch_row(sql)).result(),
                        await tx.fetch_val(sql)]
        await self.step("0.13 decoding: in a transaction", in_tx)

        async def cursor():
            async with conn.transaction() as tx, tx.cursor(sql) as cur:
                return (await cur.fetchall()).result()
        await self.step("0.13 decoding: cursor", cursor)

        async def pipeline():
            async with conn.transaction() as tx:
                return [r.result() for r in await tx.pipeline(
                    [(sql, []), ("SELECT $1::int AS n", [5])])]
        await self.step("0.13 decoding: transaction pipeline", pipeline)

    @staticmethod
    async def shape(pending, f):
        return f(await pending)

    # ---- statements ----------------------------------------------------------
    async def statements(self, conn) -> None:
        await self.step("execute_batch", lambda: conn.execute_batch(
            "INSERT INTO diff013.v VALUES (1, 'a'); INSERT INTO diff013.v VALUES (2, 'b');"
            "UPDATE diff013.v SET val = 'bb' WHERE id = 2"))
        await self.step("execute_many", lambda: conn.execute_many(
            "INSERT INTO diff013.v VALUES ($1, $2)", [[3, "c"], [4, "d"]]))
        await self.step("execute_many empty", lambda: conn.execute_many(
            "INSERT INTO diff013.v VALUES ($1, $2)", []))
        await self.step("after batch and many", lambda: self.result(
            conn.execute("SELECT * FROM diff013.v ORDER BY id")))
        await self.step("INSERT RETURNING", lambda: self.result(
            conn.execute("INSERT INTO diff013.v VALUES (5, 'e') RETURNING id, val")))
        await self.step("UPDATE result", lambda: self.result(
            conn.execute("UPDATE diff013.v SET val = 'x' WHERE id > $1", [3])))
        await self.step("$(name)p parameters", lambda: self.result(conn.execute(
            "SELECT $(a)p::int AS a, $(b)p::text AS b, $(a)p::int + 1 AS c",
            {"a": 41, "b": "bee"})))
        await self.step("$(name)p missing key", lambda: self.result(conn.execute(
            "SELECT $(a)p::int AS a, $(b)p::text AS b", {"a": 1})))

        async def prepared():
            st = await conn.prepare("SELECT id, name FROM diff013.t WHERE id < $1 ORDER BY id", [3])
            cols = [(c.name, isinstance(c.table_oid, int) and c.table_oid > 0)
                    for c in st.columns()]
            res = await st.execute()
            return [cols, res.result()]
        await self.step("prepare, columns, execute", prepared)

        async def prepared_expr():
            st = await conn.prepare("SELECT $1::int + 1 AS x", [1])
            return [[(c.name, c.table_oid) for c in st.columns()],
                    (await st.execute()).result()]
        await self.step("prepare expression columns", prepared_expr)

        async def prepared_cursor():
            st = await conn.prepare("SELECT id FROM diff013.t ORDER BY id", None)
            out = []
            async with conn.transaction() as tx:  # noqa: F841
                cur = st.cursor()
                async with cur:
                    out.append((await cur.fetchmany(size=2)).result())
            return out
        await self.step("prepare().cursor()", prepared_cursor)

    # ---- COPY ----------------------------------------------------------------
    async def copy(self, conn) -> None:
        async def records():
            n = await conn.copy_records_to_table(
                "v", [[600, "r1"], [601, None]], columns=["id", "val"], schema_name="diff013")
            return [n, (await conn.execute(
                "SELECT * FROM diff013.v WHERE id >= 600 ORDER BY id")).result()]
        await self.step("copy_records_to_table", records)
        await self.step("copy_records_to_table wrong arity", lambda: conn.copy_records_to_table(
            "v", [[602, "a", "extra"]], schema_name="diff013"))

    # ---- transactions and savepoints ----------------------------------------
    async def transactions(self, conn) -> None:
        count = "SELECT count(*) FROM diff013.v"

        async def before_begin():
            tx = conn.transaction()
            await tx.execute("INSERT INTO diff013.v VALUES (100, 'before')")
            n = await conn.fetch_val("SELECT count(*) FROM diff013.v WHERE id = 100")
            return n
        await self.step("statement before begin()", before_begin)

        async def commit():
            tx = conn.transaction()
            await tx.begin()
            await tx.execute("INSERT INTO diff013.v VALUES (101, 'c')")
            inside = await tx.fetch_val(count)
            await tx.commit()
            return [inside, await conn.fetch_val(count)]
        await self.step("begin, commit", commit)

        async def rollback():
            tx = conn.transaction()
            await tx.begin()
            await tx.execute("DELETE FROM diff013.v")
            inside = await tx.fetch_val(count)
            await tx.rollback()
            return [inside, await conn.fetch_val(count)]
        await self.step("begin, rollback", rollback)

        async def context():
            async with conn.transaction() as tx:
                await tx.execute("INSERT INTO diff013.v VALUES (102, 'ctx')")
            return await conn.fetch_val(count)
        await self.step("async with transaction", context)

        async def context_error():
            try:
                async with conn.transaction() as tx:
                    await tx.execute("INSERT INTO diff013.v VALUES (103, 'gone')")
                    raise KeyError("out")
            except KeyError:
                pass
            return await conn.fetch_val("SELECT count(*) FROM diff013.v WHERE id = 103")
        await self.step("async with transaction, error inside", context_error)

        async def savepoints():
            tx = conn.transaction()
            await tx.begin()
            await tx.execute("INSERT INTO diff013.v VALUES (200, 'kept')")
            await tx.create_savepoint("sp")
            await tx.execute("INSERT INTO diff013.v VALUES (201, 'undone')")
            await tx.rollback_savepoint("sp")
            await tx.create_savepoint("sp2")
            await tx.execute("INSERT INTO diff013.v VALUES (202, 'released')")
            await tx.release_savepoint("sp2")
            await tx.create_savepoint("sp")  # a name may be used again
            await tx.release_savepoint("sp")
            await tx.commit()
            return (await conn.execute(
                "SELECT id FROM diff013.v WHERE id >= 200 ORDER BY id")).result()
        await self.step("savepoints", savepoints)

        async def unknown_savepoint():
            tx = conn.transaction()
            await tx.begin()
            try:
                await tx.rollback_savepoint("nope")
            finally:
                await tx.rollback()
        await self.step("rollback to unknown savepoint", unknown_savepoint)

        async def isolation():
            tx = conn.transaction(isolation_level=IsolationLevel.Serializable,
                                  read_variant=ReadVariant.ReadOnly, deferrable=True)
            await tx.begin()
            try:
                return [await tx.fetch_val("SHOW transaction_isolation"),
                        await tx.fetch_val("SHOW transaction_read_only")]
            finally:
                await tx.commit()
        await self.step("isolation level, read only", isolation)

        async def read_only_write():
            tx = conn.transaction(read_variant=ReadVariant.ReadOnly)
            await tx.begin()
            try:
                await tx.execute("INSERT INTO diff013.v VALUES (300, 'ro')")
            finally:
                await tx.rollback()
        await self.step("write in a read-only transaction", read_only_write)

        async def tx_shapes():
            async with conn.transaction() as tx:
                sql = "SELECT id, name FROM diff013.t WHERE id <= 2 ORDER BY id"
                return [(await tx.execute(sql)).result(as_tuple=True),
                        (await tx.fetch(sql)).records(),
                        (await tx.fetch_row("SELECT 1 AS one")).result(),
                        await tx.fetch_val("SELECT 'v'")]
        await self.step("transaction result shapes", tx_shapes)

        async def tx_batch_many():
            async with conn.transaction() as tx:
                await tx.execute_batch("INSERT INTO diff013.v VALUES (400, 'b1');"
                                       "INSERT INTO diff013.v VALUES (401, 'b2')")
                await tx.execute_many("INSERT INTO diff013.v VALUES ($1, $2)",
                                      [[402, "m1"], [403, "m2"]])
            return (await conn.execute(
                "SELECT id FROM diff013.v WHERE id >= 400 ORDER BY id")).result()
        await self.step("transaction execute_batch, execute_many", tx_batch_many)

        async def tx_fetch_row_many():
            async with conn.transaction() as tx:
                return await tx.fetch_row("SELECT id FROM diff013.t")
        await self.step("transaction fetch_row two rows", tx_fetch_row_many)

        async def tx_error():
            async with conn.transaction() as tx:
                await tx.execute("SELECT * FROM diff013.missing")
        await self.step("transaction server error", tx_error)

        async def after_commit():
            tx = conn.transaction()
            await tx.begin()
            await tx.commit()
            await tx.execute("SELECT 1")
        await self.step("statement after commit", after_commit)

        async def commit_twice():
            tx = conn.transaction()
            await tx.begin()
            await tx.commit()
            await tx.commit()
        await self.step("commit twice", commit_twice)

        async def begin_twice():
            tx = conn.transaction()
            await tx.begin()
            try:
                await tx.begin()
            finally:
                await tx.rollback()
        await self.step("begin twice", begin_twice)
        await self.step("connection usable after", lambda: conn.fetch_val("SELECT 42"))

    # ---- cursors ----------------------------------------------------------------
    async def cursors(self, conn) -> None:
        sql = "SELECT id, name FROM diff013.t WHERE id > $1 ORDER BY id"

        async def fetches():
            async with conn.transaction() as tx:
                cur = tx.cursor(sql, [0], array_size=3)
                await cur.start()
                out = [(await cur.fetchone()).result(),
                       (await cur.fetchmany(size=2)).result(),
                       (await cur.fetchmany()).result(),
                       (await cur.fetchall()).result(),
                       (await cur.fetchone()).result()]
                cur.close()
                return out
        await self.step("cursor fetchone/fetchmany/fetchall", fetches)

        async def iterate():
            async with conn.transaction() as tx:
                out = []
                async with tx.cursor(sql, [2], array_size=2) as cur:
                    async for chunk in cur:
                        out.append(chunk.result(as_tuple=True))
                return out
        await self.step("cursor async for", iterate)

        async def from_connection():
            async with conn.cursor(sql, [4], array_size=2) as cur:
                return [(await cur.fetchall()).result(),
                        await conn.fetch_val("SELECT 1")]
        await self.step("cursor from a connection", from_connection)

        async def attributes():
            cur = conn.cursor(sql, [4], array_size=5)
            return [cur.array_size, cur.querystring, cur.parameters]
        await self.step("cursor attributes", attributes)

        async def cursor_execute():
            async with conn.transaction() as tx:
                cur = tx.cursor(sql, [0], array_size=2)
                first = await cur.execute("SELECT id FROM diff013.t WHERE id > $1 ORDER BY id", [5])
                nxt = (await cur.fetchone()).result()
                cur.close()
                return [first, nxt]
        await self.step("cursor execute()", cursor_execute)

        async def after_close():
            async with conn.transaction() as tx:
                cur = tx.cursor(sql, [0])
                await cur.start()
                cur.close()
                await cur.fetchone()
        await self.step("cursor fetch after close", after_close)

        async def not_started():
            async with conn.transaction() as tx:
                cur = tx.cursor(sql, [0])
                await cur.fetchone()
        await self.step("cursor fetch before start", not_started)

        async def bad_query():
            async with conn.transaction() as tx:
                cur = tx.cursor("SELECT * FROM diff013.missing")
                await cur.start()
        await self.step("cursor on a bad query", bad_query)
        async def fetch_defaults():
            async with conn.transaction() as tx:
                cur = tx.cursor(sql, [0], array_size=2)
                await cur.start()
                out = [(await cur.fetchmany()).result(as_tuple=True),
                       (await cur.fetchone()).result(as_tuple=True),
                       (await cur.fetchall()).result(as_tuple=True)]
                cur.close()
                return out
        await self.step("cursor fetchmany() default size", fetch_defaults)

        async def connection_iterate():
            out = []
            async with conn.cursor(sql, [3], array_size=3) as cur:
                async for chunk in cur:
                    out.append(len(chunk.result()))
            return [out, await conn.fetch_val("SELECT 2")]
        await self.step("cursor async for from a connection", connection_iterate)

        async def records_from_cursor():
            async with conn.transaction() as tx, tx.cursor(sql, [5]) as cur:
                return (await cur.fetchall()).records()
        await self.step("cursor records()", records_from_cursor)
        await self.step("connection usable after cursors", lambda: conn.fetch_val("SELECT 43"))

    # ---- errors -----------------------------------------------------------------
    async def errors(self, conn) -> None:
        cases = [
            ("syntax error", "SELEC 1", None),
            ("missing table", "SELECT * FROM diff013.missing", None),
            ("unique violation", "INSERT INTO diff013.t VALUES (1, 'dup')", None),
            ("not null violation", "INSERT INTO diff013.t VALUES (99, NULL)", None),
            ("division by zero", "SELECT 1 / 0", None),
            ("bad cast", "SELECT 'x'::int", None),
            ("wrong parameter count", "SELECT $1::int", [1, 2]),
            ("parameter of the wrong type", "SELECT $1::int", ["text"]),
            ("unencodable parameter", "SELECT $1", [object()]),
        ]
        for name, sql, params in cases:
            await self.step(f"error: {name}",
                            lambda sql=sql, params=params: conn.execute(sql, params))
        await self.step("error: execute_batch", lambda: conn.execute_batch("SELECT 1; SELEC 2"))
        await self.step("error: execute_many", lambda: conn.execute_many(
            "INSERT INTO diff013.t VALUES ($1, $2)", [[50, "a"], [50, "b"]]))
        await self.step("error: fetch_val", lambda: conn.fetch_val("SELECT 1/0"))
        await self.step("connection usable after errors", lambda: conn.fetch_val("SELECT 44"))

        async def closed_conn():
            pool = ConnectionPool(dsn=self.dsn, max_db_pool_size=2)
            try:
                c = await pool.connection()
                c.close()
                await c.execute("SELECT 1")
            finally:
                pool.close()
        await self.step("error: connection closed", closed_conn)

        async def closed_pool():
            pool = ConnectionPool(dsn=self.dsn, max_db_pool_size=2)
            pool.close()
            await pool.connection()
        await self.step("error: pool closed", closed_pool)

        async def bad_config():
            ConnectionPool(dsn=self.dsn, connect_timeout_nanosec=5)
        await self.step("error: nanosec without sec", bad_config)

    async def listener(self) -> None:
        async def notify_and_receive():
            pool = ConnectionPool(dsn=self.dsn, max_db_pool_size=2)
            got: list = []
            done = asyncio.Event()

            async def cb(connection, payload, channel, process_id):
                got.append([payload, channel, isinstance(process_id, int)])
                done.set()
            listener = pool.listener()
            try:
                await listener.startup()
                await listener.add_callback("diff013_chan", cb)
                listener.listen()
                c = await pool.connection()
                for _ in range(50):   # LISTEN runs in the background: retry
                    await c.execute("SELECT pg_notify('diff013_chan', 'hello')")
                    try:
                        await asyncio.wait_for(done.wait(), 0.1)
                        break
                    except TimeoutError:
                        pass
                c.close()
                listener.abort_listen()
                return [listener.is_started, got[:1]]
            finally:
                await listener.shutdown()
                pool.close()
        await self.step("listener callback", notify_and_receive)

        async def listen_before_startup():
            pool = ConnectionPool(dsn=self.dsn, max_db_pool_size=2)
            try:
                pool.listener().listen()
            finally:
                pool.close()
        await self.step("listener listen() before startup()", listen_before_startup)

    async def standalone(self) -> None:
        async def attributes():
            pool = ConnectionPool(dsn=self.dsn, max_db_pool_size=2)
            try:
                c = await pool.connection()
                tx = c.transaction()
                out = [[type(getattr(o, a)).__name__ for a in
                        ("conn_dbname", "user", "host_addrs", "hosts", "ports")]
                       for o in (c, tx)]
                c.close()
                return out
            finally:
                pool.close()
        await self.step("connection and transaction attributes", attributes)

        async def resize():
            pool = ConnectionPool(dsn=self.dsn, max_db_pool_size=2)
            try:
                pool.resize(5)
                return pool.status().max_size
            finally:
                pool.close()
        await self.step("pool.resize()", resize)

        async def pool_with():
            with ConnectionPool(dsn=self.dsn, max_db_pool_size=2) as pool:
                c = await pool.connection()
                v = await c.fetch_val("SELECT 'with'")
                c.close()
                return v
        await self.step("with ConnectionPool", pool_with)

        async def via_connect():
            c = await connect(dsn=self.dsn)
            try:
                return [await c.fetch_val("SELECT 'connected'"),
                        (await c.execute("SELECT 2 AS two")).result()]
            finally:
                c.close()
        await self.step("connect()", via_connect)

        async def via_acquire():
            pool = ConnectionPool(dsn=self.dsn, max_db_pool_size=2)
            try:
                async with pool.acquire() as c:
                    return await c.fetch_val("SELECT 'acquired'")
            finally:
                pool.close()
        await self.step("pool.acquire()", via_acquire)

        async def status():
            pool = ConnectionPool(dsn=self.dsn, max_db_pool_size=3)
            try:
                c = await pool.connection()
                s = pool.status()
                out = [s.max_size, s.size, s.available, s.waiting]
                c.close()
                return out
            finally:
                pool.close()
        await self.step("pool.status()", status)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    steps = asyncio.run(Scenario(args.dsn).run())
    meta = {"psqlpy": getattr(psqlpy, "__file__", "?"), "python": sys.version.split()[0]}
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump({"meta": meta, "steps": steps}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
