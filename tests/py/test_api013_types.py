"""The psqlpy 0.13 decoding profile: what ConnectionPool, connect_pool(),
connect() and ConnectionPoolBuilder hand out decodes uuid, inet, macaddr,
macaddr8, money and the geometric types as psqlpy 0.13.1 does (checked against
it on the same server), while PSQLPool keeps its own decoding.  The values
the profile gives go back in as parameters (both directions)."""

from __future__ import annotations

import datetime
import enum
import gc
import ipaddress
import struct
import sys
import uuid
from decimal import Decimal

import pgcluster
import pytest

from psqlpy import (
    ConnectionPool,
    ConnectionPoolBuilder,
    PSQLPool,
    connect,
    connect_pool,
)
from psqlpy import exceptions
from psqlpy import extra_types as et
from psqlpy._internal import extra_types as et013
from psqlpy.extra_types import Box, Circle, Line, LineSegment, Path, Point, Polygon

U = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"

# (SQL expression, what the 0.13 profile gives, what PSQLPool gives)
CASES = [
    (f"'{U}'::uuid", U, uuid.UUID(U)),
    ("'192.168.1.5'::inet", ipaddress.IPv4Address("192.168.1.5"),
     ipaddress.IPv4Interface("192.168.1.5/32")),
    ("'::1'::inet", ipaddress.IPv6Address("::1"), ipaddress.IPv6Interface("::1/128")),
    ("'192.168.1.5/24'::inet", ipaddress.IPv4Interface("192.168.1.5/24"),
     ipaddress.IPv4Interface("192.168.1.5/24")),
    ("'08:00:2b:0a:fe:03'::macaddr", "08:00:2B:0A:FE:03", "08:00:2b:0a:fe:03"),
    ("'08:00:2b:0a:fe:03:04:ab'::macaddr8", "08:00:2B:0A:FE:03:04:AB",
     "08:00:2b:0a:fe:03:04:ab"),
    ("'(1.5,2)'::point", (1.5, 2.0), Point(1.5, 2.0)),
    ("'((1,2),(3,4))'::box", ((3.0, 4.0), (1.0, 2.0)), Box(Point(3.0, 4.0), Point(1.0, 2.0))),
    ("'[(1,2),(3,4)]'::path", [(1.0, 2.0), (3.0, 4.0)],
     Path((Point(1.0, 2.0), Point(3.0, 4.0)), False)),
    ("'((1,2),(3,4),(5,0))'::path", [(1.0, 2.0), (3.0, 4.0), (5.0, 0.0)],
     Path((Point(1.0, 2.0), Point(3.0, 4.0), Point(5.0, 0.0)), True)),
    ("'{1,2,3}'::line", (1.0, 2.0, 3.0), Line(1.0, 2.0, 3.0)),
    ("'[(1,2),(3,4)]'::lseg", [(1.0, 2.0), (3.0, 4.0)],
     LineSegment(Point(1.0, 2.0), Point(3.0, 4.0))),
    ("'<(1,2),3>'::circle", ((1.0, 2.0), 3.0), Circle(Point(1.0, 2.0), 3.0)),
    (f"ARRAY['{U}'::uuid, NULL]", [U, None], [uuid.UUID(U), None]),
    ("ARRAY['10.0.0.1'::inet, '10.0.0.0/8'::inet]",
     [ipaddress.IPv4Address("10.0.0.1"), ipaddress.IPv4Interface("10.0.0.0/8")],
     [ipaddress.IPv4Interface("10.0.0.1/32"), ipaddress.IPv4Interface("10.0.0.0/8")]),
    ("ARRAY['08:00:2b:0a:fe:03'::macaddr]", ["08:00:2B:0A:FE:03"], ["08:00:2b:0a:fe:03"]),
    ("ARRAY['08:00:2b:0a:fe:03:04:ab'::macaddr8]", ["08:00:2B:0A:FE:03:04:AB"],
     ["08:00:2b:0a:fe:03:04:ab"]),
    ("ARRAY['(1,2)'::point, '(3,4)']", [(1.0, 2.0), (3.0, 4.0)],
     [Point(1.0, 2.0), Point(3.0, 4.0)]),
    ("ARRAY['<(1,2),3>'::circle]", [((1.0, 2.0), 3.0)], [Circle(Point(1.0, 2.0), 3.0)]),
    # money: an int of cents on 0.13 (int8 is money's own form), a Decimal on 0.2
    ("12.34::money", 1234, Decimal("12.34")),
    ("(-0.05)::money", -5, Decimal("-0.05")),
    ("0::money", 0, Decimal("0.00")),
    ("'92233720368547758.07'::money", 2**63 - 1, Decimal("92233720368547758.07")),
    ("'-92233720368547758.08'::money", -(2**63), Decimal("-92233720368547758.08")),
    ("ARRAY[[1.5::money], [NULL::money]]", [[150], [None]], [[Decimal("1.50")], [None]]),
    ("NULL::money", None, None),
    # the same in both profiles
    ("'10.0.0.0/8'::cidr", ipaddress.IPv4Network("10.0.0.0/8"),
     ipaddress.IPv4Network("10.0.0.0/8")),
    ("'hello'::text", "hello", "hello"),
    ("'AbC'::varchar", "AbC", "AbC"),
    ("NULL::uuid", None, None),
]

IDS = [c[0] for c in CASES]


def exact(a: object, b: object) -> bool:
    """Equal and of the same types all the way down (a NamedTuple Point is
    == a plain tuple, which is not what the profile promises)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(exact(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    return a == b


@pytest.fixture
async def pool013(dsn):
    p = ConnectionPool(dsn=dsn, max_db_pool_size=2)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
async def conn013(pool013):
    c = await pool013.connection()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
async def psqlpool(dsn):
    p = PSQLPool(dsn=dsn, max_db_pool_size=2)
    await p.startup()
    try:
        yield p
    finally:
        await p.close()


@pytest.mark.parametrize(("expr", "v013", "v02"), CASES, ids=IDS)
async def test_profile_013_decoding(conn013, expr, v013, v02):
    got = await conn013.fetch_val(f"SELECT {expr}")
    assert exact(got, v013), (got, v013)


@pytest.mark.parametrize(("expr", "v013", "v02"), CASES, ids=IDS)
async def test_psqlpool_decoding_is_unchanged(psqlpool, expr, v013, v02):
    res = await psqlpool.execute(f"SELECT {expr} AS v")
    got = res.result()[0]["v"]
    assert exact(got, v02), (got, v02)
    conn = await psqlpool.connection()
    got = (await conn.execute(f"SELECT {expr} AS v")).result(as_tuple=True)[0][0]
    assert exact(got, v02), (got, v02)


@pytest.mark.parametrize(
    ("typ", "text"),
    [("uuid", U), ("inet", "192.168.1.5"), ("inet", "::1"), ("inet", "10.1.2.3/8"),
     ("macaddr", "08:00:2b:0a:fe:03"), ("macaddr8", "08:00:2b:0a:fe:03:04:ab"),
     ("point", "(1.5,2)"), ("box", "(3,4),(1,2)"), ("path", "((1,2),(3,4))"),
     ("line", "{1,2,3}"), ("lseg", "[(1,2),(3,4)]"), ("circle", "<(1,2),3>")])
async def test_profile_013_values_go_back_in(conn013, typ, text):
    """What the profile decodes is accepted as a parameter of its type and
    means the same value to the server."""
    value = await conn013.fetch_val(f"SELECT $1::text::{typ}", [text])
    same = await conn013.fetch_val(f"SELECT ($1::{typ})::text = ($2::text::{typ})::text",
                                   [value, text])
    assert same is True, (value, text)


async def test_paths_go_back_closed(conn013):
    # 0.13 gives open and closed paths alike as a list; a list parameter is
    # a closed path (as the server reads path text without brackets), so an
    # open path comes back closed: Path(points, False) keeps it open
    for text in ("((1,2),(3,4),(5,0))", "[(1,2),(3,4),(5,0)]"):
        value = await conn013.fetch_val(f"SELECT '{text}'::path")
        assert await conn013.fetch_val("SELECT isclosed($1::path)", [value]) is True
    assert await conn013.fetch_val("SELECT isopen($1::path)",
                                   [Path([(1, 2), (3, 4)], False)]) is True


async def test_every_result_shape_and_path_uses_the_profile(conn013):
    sql = f"SELECT '{U}'::uuid AS u, '(1,2)'::point AS p"
    res = await conn013.execute(sql)
    assert res._profile == 1
    assert res.result() == [{"u": U, "p": (1.0, 2.0)}]
    assert res.result(as_tuple=True) == [(U, (1.0, 2.0))]
    assert type(res.result()[0]["p"]) is tuple
    assert dict(res.records()[0]) == {"u": U, "p": (1.0, 2.0)}
    assert list(res) == [{"u": U, "p": (1.0, 2.0)}]
    assert res[0] == {"u": U, "p": (1.0, 2.0)}
    assert res.row_factory(lambda r: r["u"]) == [U]
    assert (await conn013.fetch(sql)).result()[0]["u"] == U
    assert (await conn013.execute(sql, prepared=False)).result()[0]["u"] == U
    row = await conn013.fetch_row(sql)
    assert row._profile == 1 and row.result()["u"] == U

    (r1, r2) = await conn013.pipeline([(sql, None), ("SELECT $1::uuid AS u", [U])])
    assert r1.result()[0]["u"] == U and r2.result()[0]["u"] == U

    ps = await conn013.prepare(sql)
    assert (await ps.execute()).result()[0]["u"] == U

    async with conn013.transaction() as tx:
        assert await tx.fetch_val(f"SELECT '{U}'::uuid") == U
        assert (await tx.execute(sql)).result()[0]["p"] == (1.0, 2.0)
        async with tx.cursor(f"SELECT '{U}'::uuid AS u FROM generate_series(1, 3)") as cur:
            rows = (await cur.fetchall()).result()
            assert rows == [{"u": U}] * 3

    async with conn013.cursor(sql) as cur:
        assert (await cur.fetchone()).result() == [{"u": U, "p": (1.0, 2.0)}]


async def test_a_changed_profile_applies_to_the_next_call(psqlpool):
    """The builder tables a result resolves on its first call follow a later
    change of its profile, in every row shape."""
    res = await psqlpool.execute(f"SELECT '{U}'::uuid AS u, g AS i FROM generate_series(1, 3) AS g")
    assert res.result() == [{"u": uuid.UUID(U), "i": g} for g in (1, 2, 3)]
    res._profile = 1
    assert res.result() == [{"u": U, "i": g} for g in (1, 2, 3)]
    assert res.result(as_tuple=True)[0] == (U, 1) and res.records()[2]["u"] == U
    assert res[1] == {"u": U, "i": 2}
    res._profile = 0
    assert [r["u"] for r in res] == [uuid.UUID(U)] * 3


async def test_custom_decoders_still_win(conn013):
    res = await conn013.execute(f"SELECT '{U}'::uuid AS u")
    assert res.result(custom_decoders={"u": lambda b: uuid.UUID(bytes=b)}) == [
        {"u": uuid.UUID(U)}]


async def test_connect_connect_pool_and_builder_use_the_profile(dsn):
    c = await connect(dsn=dsn)
    try:
        assert await c.fetch_val(f"SELECT '{U}'::uuid") == U
    finally:
        c.close()
    p = connect_pool(dsn=dsn, max_db_pool_size=1)
    try:
        async with p.acquire() as c2:
            assert await c2.fetch_val("SELECT '08:00:2b:0a:fe:03'::macaddr") == "08:00:2B:0A:FE:03"
    finally:
        p.close()
    parts = pgcluster.dsn_parts(dsn)
    b = (ConnectionPoolBuilder().user(str(parts["username"])).password(str(parts["password"]))
         .host(str(parts["host"])).port(int(parts["port"] or 5432)))
    p = b.dbname(str(parts["db_name"])).max_pool_size(1).build()
    try:
        c3 = await p.connection()
        assert await c3.fetch_val("SELECT '(1,2)'::point") == (1.0, 2.0)
        c3.close()
    finally:
        p.close()


async def test_profiles_side_by_side_on_one_server(pool013, psqlpool):
    sql = f"SELECT '{U}'::uuid AS u"
    c = await pool013.connection()
    try:
        assert (await c.execute(sql)).result()[0]["u"] == U
        assert (await psqlpool.execute(sql)).result()[0]["u"] == uuid.UUID(U)
        assert (await c.execute(sql)).result()[0]["u"] == U
    finally:
        c.close()


async def test_polygon_keeps_its_wrapper(conn013):
    got = await conn013.fetch_val("SELECT '((1,2),(3,4))'::polygon")
    assert isinstance(got, Polygon)
    assert got.points == ((1.0, 2.0), (3.0, 4.0))


async def test_result_profile_is_checked(psqlpool):
    res = await psqlpool.execute("SELECT 1")
    assert res._profile == 0
    with pytest.raises(ValueError):
        res._profile = 7
    with pytest.raises(TypeError):
        res._profile = "x"  # type: ignore[assignment]
    with pytest.raises(TypeError):
        del res._profile


# ---------------------------------------------------------------------------
# The 0.13 parameter wrappers (psqlpy.extra_types; Money/MoneyArray of
# psqlpy._internal.extra_types count cents as 0.13 does)

class Mood(enum.Enum):
    HAPPY = "happy"
    ONE = 1
    HALF = 0.5


class Level(enum.IntEnum):
    HIGH = 3


D = datetime.date(2024, 2, 29)
T = datetime.time(12, 30, 1, 5)
DT = datetime.datetime(2024, 2, 29, 12, 30, 1)
DTZ = datetime.datetime(2024, 2, 29, 12, 30, 1, tzinfo=datetime.timezone.utc)

# (wrapper, the type the server sees, the value's text there)
WRAPPED = [
    (et.BoolArray([True, False, None]), "boolean[]", "{t,f,NULL}"),
    (et.UUIDArray([U, uuid.UUID(U)]), "uuid[]", "{" + U + "," + U + "}"),
    (et.VarCharArray(["a", "b c"]), "character varying[]", '{a,"b c"}'),
    (et.TextArray(("x",)), "text[]", "{x}"),
    (et.Int16Array([1, -2]), "smallint[]", "{1,-2}"),
    (et.Int32Array([[1, 2], [3, 4]]), "integer[]", "{{1,2},{3,4}}"),
    (et.Int64Array([2**62]), "bigint[]", "{" + str(2**62) + "}"),
    (et.Float32Array([1.5]), "real[]", "{1.5}"),
    (et.Float64Array([0.25, 2]), "double precision[]", "{0.25,2}"),
    (et.IpAddressArray([ipaddress.IPv4Address("10.0.0.1"), "::1"]), "inet[]", "{10.0.0.1,::1}"),
    (et.JSONBArray([{"a": 1}, {"b": [1, 2]}]), "jsonb[]",
     '{"{\\"a\\": 1}","{\\"b\\": [1, 2]}"}'),
    (et.JSONArray([{"a": 1}]), "json[]", '{"{\\"a\\":1}"}'),
    (et.DateArray([D]), "date[]", "{2024-02-29}"),
    (et.TimeArray([T]), "time without time zone[]", "{12:30:01.000005}"),
    (et.DateTimeArray([DT]), "timestamp without time zone[]", '{"2024-02-29 12:30:01"}'),
    (et.DateTimeTZArray([DTZ]), "timestamp with time zone[]", '{"2024-02-29 12:30:01+00"}'),
    (et.MacAddr6Array(["08:00:2B:0A:FE:03"]), "macaddr[]", "{08:00:2b:0a:fe:03}"),
    (et.MacAddr8Array(["08:00:2b:0a:fe:03:04:ab"]), "macaddr8[]", "{08:00:2b:0a:fe:03:04:ab}"),
    (et.NumericArray([Decimal("1.50"), 2]), "numeric[]", "{1.50,2}"),
    (et.PointArray([et.Point([1, 2]), (3, 4)]), "point[]", '{"(1,2)","(3,4)"}'),
    (et.BoxArray([et.Box([1, 2, 3, 4])]), "box[]", "{(3,4),(1,2)}"),
    (et.PathArray([et.Path([[1, 2], [3, 4]])]), "path[]", '{"[(1,2),(3,4)]"}'),
    (et.LineArray([et.Line([1, 2, 3])]), "line[]", '{"{1,2,3}"}'),
    (et.LsegArray([et.LineSegment([[1, 2], [3, 4]])]), "lseg[]", '{"[(1,2),(3,4)]"}'),
    (et.CircleArray([et.Circle([1, 2, 3])]), "circle[]", '{"<(1,2),3>"}'),
    (et.IntervalArray([datetime.timedelta(days=1, seconds=5)]), "interval[]",
     '{"1 day 00:00:05"}'),
    (et.JSON({"a": [1, 2]}), "json", '{"a":[1,2]}'),
    (et.JSONB([1, {"b": None}]), "jsonb", '[1, {"b": null}]'),
    (et.MacAddr6("08:00:2B:0A:FE:03"), "macaddr", "08:00:2b:0a:fe:03"),
    (et.MacAddr8("08:00:2B:0A:FE:03:04:AB"), "macaddr8", "08:00:2b:0a:fe:03:04:ab"),
    (et.Float32(1.5), "real", "1.5"),
    (et.Float64(-0.125), "double precision", "-0.125"),
    (et.VarChar("v"), "character varying", "v"),
    (et.Text("t"), "text", "t"),
    (et.Point([1.5, 2]), "point", "(1.5,2)"),
    (et.Box([[1, 2], [3, 4]]), "box", "(3,4),(1,2)"),
    (et.Box([1, 2, 3, 4]), "box", "(3,4),(1,2)"),
    (et.Path([[1, 2], [3, 4]]), "path", "[(1,2),(3,4)]"),
    (et.Path([1, 2, 3, 4, 5, 6]), "path", "[(1,2),(3,4),(5,6)]"),
    (et.Line([1, 2, 3]), "line", "{1,2,3}"),
    (et.LineSegment([[1, 2], [3, 4]]), "lseg", "[(1,2),(3,4)]"),
    (et.LineSegment([1, 2, 3, 4]), "lseg", "[(1,2),(3,4)]"),
    (et.Circle([1, 2, 3]), "circle", "<(1,2),3>"),
    (et.Circle((1.5, 2, 0.5)), "circle", "<(1.5,2),0.5>"),
    (et013.Money(100), "money", "$1.00"),
    (et013.Money(-5), "money", "-$0.05"),
    (et013.Money(2**63 - 1), "money", "$92,233,720,368,547,758.07"),
    (et013.Money(-(2**63)), "money", "-$92,233,720,368,547,758.08"),
    (et013.Money(Decimal("3.5")), "money", "$3.50"),
    (et013.MoneyArray([[100], [250]]), "money[]", "{{$1.00},{$2.50}}"),
]


@pytest.mark.parametrize(("value", "typ", "text"), WRAPPED, ids=[repr(w[0]) for w in WRAPPED])
async def test_wrapper_pins_type_and_value(conn013, psqlpool, value, typ, text):
    for runner in (conn013, await psqlpool.connection()):
        res = await runner.execute("SELECT pg_typeof($1)::text AS t, $1::text AS v", [value])
        assert res.result() == [{"t": typ, "v": text}]


# An int for money: cents on the 0.13 side (psqlpy 0.13.1 sends the int as
# money's own wire value), whole units on PSQLPool's (its money codec).
# (value, the type, the text on 0.13, the text on PSQLPool)
MONEY_INTS = [
    (1234, "money", "$12.34", "$1,234.00"),
    (-5, "money", "-$0.05", "-$5.00"),
    (0, "money", "$0.00", "$0.00"),
    (2**63 - 1, "money", "$92,233,720,368,547,758.07", None),
    (-(2**63), "money", "-$92,233,720,368,547,758.08", None),
    (et.Money(5), "money", "$0.05", "$5.00"),
    (et.MoneyArray([5, Decimal("1.25")]), "money[]", "{$0.05,$1.25}", "{$5.00,$1.25}"),
    ([[5, None], [-250, 7]], "money[]", "{{$0.05,NULL},{-$2.50,$0.07}}",
     "{{$5.00,NULL},{-$250.00,$7.00}}"),
    (Decimal("12.34"), "money", "$12.34", "$12.34"),
]


@pytest.mark.parametrize(("value", "typ", "text013", "text02"), MONEY_INTS,
                         ids=[repr(m[0]) for m in MONEY_INTS])
async def test_int_for_money_is_cents_on_013_only(conn013, psqlpool, value, typ, text013, text02):
    sql = f"SELECT $1::{typ}::text AS v"
    assert await conn013.fetch_val(sql, [value]) == text013
    if text02 is None:   # past the int8 range in whole units
        with pytest.raises(exceptions.ParameterError, match="out of range"):
            await psqlpool.execute(sql, [value])
    else:
        assert (await psqlpool.execute(sql, [value])).result() == [{"v": text02}]


async def test_int_for_money_is_cents_in_013_copy_and_batches(conn013, psqlpool):
    await conn013.execute("CREATE TEMP TABLE m013 (id int, m money, ms money[])")
    await conn013.copy_records_to_table("m013", records=[(1, 1234, [5, 250]), (2, -1, None)])
    await conn013.execute_many("INSERT INTO m013 VALUES ($1, $2, $3)", [[3, 99, [1]]])
    got = await conn013.fetch("SELECT id, m::text AS m, ms::text AS ms FROM m013 ORDER BY id")
    assert got.result() == [{"id": 1, "m": "$12.34", "ms": "{$0.05,$2.50}"},
                            {"id": 2, "m": "-$0.01", "ms": None},
                            {"id": 3, "m": "$0.99", "ms": "{$0.01}"}]
    # the value read back goes in again as the same amount
    v = await conn013.fetch_val("SELECT m FROM m013 WHERE id = 1")
    assert v == 1234
    assert await conn013.fetch_val("SELECT $1::money::text", [v]) == "$12.34"
    # PSQLPool's connections keep whole units
    c = await psqlpool.connection()
    assert (await c.execute("SELECT $1::money::text AS v", [1234])).result() == \
        [{"v": "$1,234.00"}]


async def test_typed_arrays_decode_per_profile(conn013, psqlpool):
    sql = "SELECT $1 AS v"
    got = (await conn013.execute(sql, [et.UUIDArray([U])])).result()[0]["v"]
    assert got == [U]
    got = (await psqlpool.execute(sql, [et.UUIDArray([U])])).result()[0]["v"]
    assert got == [uuid.UUID(U)]
    got = (await conn013.execute(sql, [et.PointArray([(1, 2)])])).result()[0]["v"]
    assert exact(got, [(1.0, 2.0)])
    got = (await psqlpool.execute(sql, [et.PointArray([et.Point([1, 2])])])).result()[0]["v"]
    assert exact(got, [Point(1.0, 2.0)])


async def test_typed_arrays_into_columns(conn013):
    await conn013.execute_batch("CREATE TEMP TABLE arr013 (i int4[], t text[], m money[])")
    await conn013.execute("INSERT INTO arr013 VALUES ($1, $2, $3)",
                          [et.Int32Array([1, 2]), et.TextArray(["a"]),
                           et013.MoneyArray([199])])
    assert (await conn013.fetch_row("SELECT i, t, m::text[] AS m FROM arr013")).result() == {
        "i": [1, 2], "t": ["a"], "m": ["$1.99"]}


def test_wrapper_shapes_and_errors():
    assert et.Point([1, 2]) == et.Point(1, 2) == (1, 2)
    assert type(et.Point((1, 2))) is et.Point and et.Point(x=1, y=2).x == 1
    assert et.Box([1, 2, 3, 4]) == et.Box(et.Point(1, 2), et.Point(3, 4))
    assert et.Path([[1, 2]]) == et.Path((et.Point(1, 2),), False)
    assert et.Circle([1, 2, 3]) == et.Circle(et.Point(1, 2), 3)
    assert et.Line([1, 2, 3]) == et.Line(1, 2, 3)
    assert et.LineSegment([[1, 2], [3, 4]]) == et.LineSegment(et.Point(1, 2), et.Point(3, 4))
    assert et.Int32Array(range(3)).inner_value == [0, 1, 2]
    assert et.Int32Array([1]) == et.Array([1], "int4")
    assert repr(et.Int16Array([1])) == "Int16Array([1])"
    assert isinstance(et.JSONB({}), et.Jsonb) and isinstance(et.JSON([]), et.Json)
    assert isinstance(et.MacAddr6("x"), et.MacAddr)
    assert et.PgVector([1, 2.5]).inner_value == "[1.0,2.5]"
    assert isinstance(et013.Money(1), et.Money) and et013.Point is et.Point
    for bad in (lambda: et.Point([1]), lambda: et.Point([1, "a"]), lambda: et.Box([1, 2, 3]),
                lambda: et.Box([[1, 2]]), lambda: et.Line([1, 2]), lambda: et.Circle([1, 2]),
                lambda: et.LineSegment([1, 2, 3, 4, 5, 6]), lambda: et013.Money(2**63),
                lambda: et013.Money(-(2**63) - 1)):
        with pytest.raises(ValueError):
            bad()
    for bad in (lambda: et.Point(5), lambda: et.Int32Array("abc"), lambda: et.Int32Array(5)):
        with pytest.raises(TypeError):
            bad()


async def test_wrapper_out_of_range_is_a_parameter_error(conn013):
    with pytest.raises(exceptions.ParameterError, match="out of range for int2"):
        await conn013.execute("SELECT $1", [et.Int16Array([70000])])


async def test_enum_members_go_as_their_value(conn013, psqlpool):
    assert await conn013.fetch_val("SELECT $1::text", [Mood.HAPPY]) == "happy"
    assert await conn013.fetch_val("SELECT $1::int4 + 1", [Mood.ONE]) == 2
    assert await conn013.fetch_val("SELECT $1::float8", [Mood.HALF]) == 0.5
    assert await conn013.fetch_val("SELECT $1::int8", [Level.HIGH]) == 3
    assert await conn013.fetch_val("SELECT $1::text[]", [[Mood.HAPPY, "x"]]) == ["happy", "x"]
    res = await psqlpool.execute("SELECT $1::text AS v", [Mood.HAPPY])
    assert res.result() == [{"v": "happy"}]
    await conn013.execute_batch("CREATE TYPE pg_mood013 AS ENUM ('happy', 'sad')")
    try:
        assert await conn013.fetch_val("SELECT $1::pg_mood013::text", [Mood.HAPPY]) == "happy"
    finally:
        await conn013.execute_batch("DROP TYPE pg_mood013")


async def test_pgvector_goes_as_the_text_its_type_reads(conn013):
    # the vector extension is not packaged for this server; a domain over
    # text stands in for a type without a codec of ours, and the text is
    # the form vector_in reads
    assert await conn013.fetch_val("SELECT $1::text", [et.PgVector([1, 2.5, -3])]) == \
        "[1.0,2.5,-3.0]"
    await conn013.execute_batch(
        "CREATE TEMP TABLE vec013 (v float8[]);")
    await conn013.execute(
        "INSERT INTO vec013 SELECT translate($1::text, '[]', '{}')::float8[]",
        [et.PgVector((1, 2))])
    assert await conn013.fetch_val("SELECT v FROM vec013") == [1.0, 2.0]


async def test_custom_type_sends_its_bytes_as_they_are(conn013, psqlpool):
    for runner in (conn013, await psqlpool.connection()):
        res = await runner.execute(
            "SELECT $1::int4 AS i, $2::text AS t, $3::bytea AS b, length($4::text) AS n,"
            " $5::point::text AS p",
            [et.CustomType(b"\x00\x00\x00\x05"), et.CustomType(bytearray(b"hello")),
             et.CustomType(b"\x00\x01"), et.CustomType(b""),
             et.CustomType(struct.pack("!dd", 1.5, -2))])
        assert res.result() == [{"i": 5, "t": "hello", "b": b"\x00\x01", "n": 0,
                                 "p": "(1.5,-2)"}]
    await conn013.execute_batch("CREATE TEMP TABLE ct013 (a int8)")
    await conn013.execute("INSERT INTO ct013 VALUES ($1)", [et.CustomType(struct.pack("!q", -7))])
    assert await conn013.fetch_val("SELECT a FROM ct013") == -7
    # bytes the type does not read are the server's error; the connection goes on
    with pytest.raises(exceptions.ConnectionExecuteError):
        await conn013.execute("SELECT $1::int4", [et.CustomType(b"\x00\x05")])
    assert await conn013.fetch_val("SELECT 1") == 1
    with pytest.raises(TypeError):
        et.CustomType("text")  # type: ignore[arg-type]


async def test_profile_and_new_parameters_keep_refcounts_stable(conn013):
    """The 0.13 builders and the Enum/CustomType/typed-array conversions
    neither leak nor over-release what they touch."""
    member = Mood.HAPPY
    raw = bytes([0, 0, 0, 9])
    arr = et.Int32Array([1, 2])
    params = [member, et.CustomType(raw), arr]
    sql = ("SELECT $1::text AS m, $2::int4 AS r, $3 AS a, gen_random_uuid() AS u,"
           " '(1,2)'::point AS p, '[(1,2),(3,4)]'::path AS pa, '<(1,2),3>'::circle AS c,"
           " '08:00:2b:0a:fe:03'::macaddr AS mac, '10.0.0.1'::inet AS ip")
    watched = [member, raw, arr, params, Mood.HAPPY.value]

    async def run(n: int) -> None:
        for _ in range(n):
            res = await conn013.execute(sql, params)
            row = res.result()[0]
            assert row["m"] == "happy" and row["r"] == 9 and row["pa"] == [(1.0, 2.0), (3.0, 4.0)]
            res.records()
            res.result(as_tuple=True)

    await run(5)
    gc.collect()
    before = [sys.getrefcount(o) for o in watched]
    await run(300)
    gc.collect()
    assert [sys.getrefcount(o) for o in watched] == before
