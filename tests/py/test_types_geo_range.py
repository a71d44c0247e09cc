"""Geometric, range and multirange types, both ways, checked against the
server's own text forms (test_types.py's scheme and helpers):

    SELECT $1::T, $1::T::text, $2::text::T, $2::text::T::text

with the Python value as $1 and the expected canonical text as $2.

Decoding gives psqlpy.extra_types named tuples (Point, Line, LineSegment,
Box, Path, Polygon, Circle, Range) and a list of Range for a multirange;
a str parameter goes to these types in text format, for the server to
parse.
An infinite range bound is None and its side exclusive, so `bounds` is
what the server's lower_inc()/upper_inc() say; the empty range is
Range(None, None, '()', True).  The server canonicalises discrete ranges
('[1,5]' is '[1,6)'), normalises boxes (upper right corner first) and
merges the ranges of a multirange, so the expected decoded value can differ
from the value sent.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

import pytest

from helpers import FIXED_SESSION, dsn_with_settings, open_pool
from test_types import roundtrip, same
from psqlpy import exceptions as E
from psqlpy.extra_types import Box, Circle, Line, LineSegment, Path, Point, Polygon, Range

UTC = dt.timezone.utc
NAN, INF = float("nan"), float("inf")


@pytest.fixture
async def tpool(dsn):
    async with open_pool(dsn_with_settings(dsn, FIXED_SESSION), max_db_pool_size=1) as p:
        yield p


def case(pgtype: str, value: Any, text: str, decoded: Any = None):
    return pytest.param(pgtype, value, text, value if decoded is None else decoded,
                        id=f"{pgtype}:{text[:50]}")


P = Point

GEOMETRIC = [
    # point: from a Point, a plain tuple or a list of int/float/Decimal
    case("point", P(1.5, -2.0), "(1.5,-2)"),
    case("point", (1, 2), "(1,2)", P(1.0, 2.0)),
    case("point", [3, 4.25], "(3,4.25)", P(3.0, 4.25)),
    case("point", (Decimal("0.1"), Decimal("-1E+3")), "(0.1,-1000)", P(0.1, -1000.0)),
    case("point", P(NAN, INF), "(NaN,Infinity)"),
    case("point", P(-INF, -0.0), "(-Infinity,-0)"),
    case("point", P(1.7976931348623157e308, 5e-324), "(1.7976931348623157e+308,5e-324)"),
    # a str goes in text format, for the server to parse
    case("point", " ( 1.5 , -2 ) ", "(1.5,-2)", P(1.5, -2.0)),
    case("point", (2 ** 70, 0), "(1.1805916207174113e+21,0)", P(2.0 ** 70, 0.0)),
    # line: a*x + b*y + c = 0 (A and B not both zero)
    case("line", Line(1.0, 2.0, 3.0), "{1,2,3}"),
    case("line", (0, -1, 0.5), "{0,-1,0.5}", Line(0.0, -1.0, 0.5)),
    case("line", Line(NAN, 1.0, -INF), "{NaN,1,-Infinity}"),
    case("line", Line(1.1e-06, 0.0, 1.0), "{1.1e-06,0,1}"),
    # lseg
    case("lseg", LineSegment(P(1.0, 2.0), P(3.0, 4.0)), "[(1,2),(3,4)]"),
    case("lseg", ((1, 2), [3, 4]), "[(1,2),(3,4)]", LineSegment(P(1.0, 2.0), P(3.0, 4.0))),
    # box: the server puts the upper right corner first
    case("box", Box(P(3.0, 4.0), P(1.0, 2.0)), "(3,4),(1,2)"),
    case("box", ((1, 4), (3, 2)), "(3,4),(1,2)", Box(P(3.0, 4.0), P(1.0, 2.0))),
    case("box", Box(P(0.0, 0.0), P(0.0, 0.0)), "(0,0),(0,0)"),
    # path: Path(points, closed), or a plain sequence of points (closed)
    case("path", Path((P(0.0, 0.0), P(1.0, 1.0), P(2.0, 0.0)), False), "[(0,0),(1,1),(2,0)]"),
    case("path", Path([(0, 0), (1, 1)], True), "((0,0),(1,1))",
         Path((P(0.0, 0.0), P(1.0, 1.0)), True)),
    case("path", [(0, 0), (1, 1)], "((0,0),(1,1))", Path((P(0.0, 0.0), P(1.0, 1.0)), True)),
    case("path", ((5, 6),), "((5,6))", Path((P(5.0, 6.0),), True)),
    case("path", Path((P(NAN, 0.0),), False), "[(NaN,0)]"),
    # polygon: Polygon(points), or a plain sequence of points
    case("polygon", Polygon((P(0.0, 0.0), P(0.0, 1.0), P(1.0, 0.0))), "((0,0),(0,1),(1,0))"),
    case("polygon", [(0, 0), (0, 1), (1, 0)], "((0,0),(0,1),(1,0))",
         Polygon((P(0.0, 0.0), P(0.0, 1.0), P(1.0, 0.0)))),
    case("polygon", Polygon([(2, 3)]), "((2,3))", Polygon((P(2.0, 3.0),))),
    case("polygon", [(2, 3)], "((2,3))", Polygon((P(2.0, 3.0),))),
    # circle
    case("circle", Circle(P(1.0, 2.0), 3.0), "<(1,2),3>"),
    case("circle", ((0, 0), 0), "<(0,0),0>", Circle(P(0.0, 0.0), 0.0)),
    case("circle", Circle(P(1.0, 1.0), NAN), "<(1,1),NaN>"),
    # arrays: a list of Point/Box/... tuples, NULL elements, more dimensions
    case("point[]", [P(1.0, 2.0), None, (3, 4)], '{"(1,2)",NULL,"(3,4)"}',
         [P(1.0, 2.0), None, P(3.0, 4.0)]),
    case("point[]", [[(1, 2)], [None]], '{{"(1,2)"},{NULL}}', [[P(1.0, 2.0)], [None]]),
    case("point[]", [], "{}"),
    case("point[]", [P(NAN, -0.0)], '{"(NaN,-0)"}'),
    case("box[]", [Box(P(1.0, 1.0), P(0.0, 0.0)), None, ((2, 2), (3, 3))],
         "{(1,1),(0,0);NULL;(3,3),(2,2)}",
         [Box(P(1.0, 1.0), P(0.0, 0.0)), None, Box(P(3.0, 3.0), P(2.0, 2.0))]),
    case("line[]", [Line(1.0, -1.0, 0.0)], '{"{1,-1,0}"}'),
    case("lseg[]", [LineSegment(P(0.0, 0.0), P(1.0, 1.0)), None], '{"[(0,0),(1,1)]",NULL}'),
    case("path[]", [Path((P(0.0, 0.0), P(1.0, 1.0)), False)], '{"[(0,0),(1,1)]"}'),
    case("polygon[]", [Polygon((P(0.0, 0.0), P(1.0, 0.0), P(0.0, 1.0))), None],
         '{"((0,0),(1,0),(0,1))",NULL}'),
    case("circle[]", [Circle(P(0.0, 0.0), 1.0)], '{"<(0,0),1>"}'),
    case("box[]", "{(0,0),(1,1)}", "{(1,1),(0,0)}", [Box(P(1.0, 1.0), P(0.0, 0.0))]),
]


R = Range
EMPTY = Range(None, None, "()", True)
D = dt.date
T = dt.datetime

RANGES = [
    case("int4range", R(1, 5), "[1,5)", R(1, 5, "[)", False)),
    case("int4range", R(1, 5, "[]"), "[1,6)", R(1, 6, "[)", False)),
    case("int4range", R(1, 5, "(]"), "[2,6)", R(2, 6, "[)", False)),
    case("int4range", (1, 5, "()"), "[2,5)", R(2, 5, "[)", False)),
    case("int4range", R(None, 5), "(,5)", R(None, 5, "()", False)),
    case("int4range", [3, None, "[]"], "[3,)", R(3, None, "[)", False)),
    case("int4range", R(None, None, "[]"), "(,)", R(None, None, "()", False)),
    case("int4range", R(empty=True), "empty", EMPTY),
    case("int4range", R(5, 5), "empty", EMPTY),
    case("int4range", "[1,5]", "[1,6)", R(1, 6, "[)", False)),  # text, parsed by the server
    case("int4range", R(-2 ** 31, 2 ** 31 - 1), "[-2147483648,2147483647)",
         R(-2 ** 31, 2 ** 31 - 1, "[)", False)),
    case("int8range", R(-2 ** 63, 2 ** 63 - 1), "[-9223372036854775808,9223372036854775807)",
         R(-2 ** 63, 2 ** 63 - 1, "[)", False)),
    case("numrange", R(Decimal("1.5"), Decimal("2.50"), "[]"), "[1.5,2.50]",
         R(Decimal("1.5"), Decimal("2.50"), "[]", False)),
    case("numrange", R(1.5, 2), "[1.5,2)", R(Decimal("1.5"), Decimal("2"), "[)", False)),
    case("numrange", R(None, Decimal("NaN"), "(]"), "(,NaN]",
         R(None, Decimal("NaN"), "(]", False)),
    case("daterange", R(D(2000, 1, 1), D(2000, 1, 31), "[]"), "[2000-01-01,2000-02-01)",
         R(D(2000, 1, 1), D(2000, 2, 1), "[)", False)),
    case("daterange", R(D(2000, 1, 1), D.max), "[2000-01-01,infinity)",
         R(D(2000, 1, 1), D.max, "[)", False)),
    case("tsrange", R(T(2000, 1, 1), T(2000, 1, 2, 12, 30, 0, 500000)),
         '["2000-01-01 00:00:00","2000-01-02 12:30:00.5")',
         R(T(2000, 1, 1), T(2000, 1, 2, 12, 30, 0, 500000), "[)", False)),
    case("tstzrange", R(T(2000, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))), None, "(]"),
         '("2000-01-01 00:00:00+00",)', R(T(2000, 1, 1, tzinfo=UTC), None, "()", False)),
    # multiranges: lists (or tuples) of ranges; the server sorts and merges
    case("int4multirange", [], "{}"),
    case("int4multirange", "{[5,6], [1,2]}", "{[1,3),[5,7)}",
         [R(1, 3, "[)", False), R(5, 7, "[)", False)]),
    case("int4multirange", [R(5, 7), R(1, 3), (2, 4), R(9, 9)], "{[1,4),[5,7)}",
         [R(1, 4, "[)", False), R(5, 7, "[)", False)]),
    case("int8multirange", ((None, 0), R(10, None, "[]")), "{(,0),[10,)}",
         [R(None, 0, "()", False), R(10, None, "[)", False)]),
    case("nummultirange", [R(Decimal("1.5"), 2)], "{[1.5,2)}",
         [R(Decimal("1.5"), Decimal("2"), "[)", False)]),
    case("datemultirange", [R(D(2000, 1, 1), D(2000, 1, 1), "[]")], "{[2000-01-01,2000-01-02)}",
         [R(D(2000, 1, 1), D(2000, 1, 2), "[)", False)]),
    case("tsmultirange", [R(T(2000, 1, 1), None)], '{["2000-01-01 00:00:00",)}',
         [R(T(2000, 1, 1), None, "[)", False)]),
    case("tstzmultirange", [R(T(2000, 1, 1, tzinfo=UTC), T(2001, 1, 1, tzinfo=UTC), "[]")],
         '{["2000-01-01 00:00:00+00","2001-01-01 00:00:00+00"]}',
         [R(T(2000, 1, 1, tzinfo=UTC), T(2001, 1, 1, tzinfo=UTC), "[]", False)]),
    # arrays: a list of Range tuples with NULLs; a multirange array's
    # elements go as tuples of ranges and come back as lists
    case("int4range[]", [R(1, 3), None, R(empty=True), (4, 6, "[]")],
         '{"[1,3)",NULL,empty,"[4,7)"}',
         [R(1, 3, "[)", False), None, EMPTY, R(4, 7, "[)", False)]),
    case("int4range[]", [[R(1, 2)], [None]], '{{"[1,2)"},{NULL}}',
         [[R(1, 2, "[)", False)], [None]]),
    case("daterange[]", [R(D(2020, 1, 1), None), None], '{"[2020-01-01,)",NULL}',
         [R(D(2020, 1, 1), None, "[)", False), None]),
    case("int4multirange[]", [(R(1, 3),), (), None], '{"{[1,3)}","{}",NULL}',
         [[R(1, 3, "[)", False)], [], None]),
]


@pytest.mark.parametrize("pgtype, value, text, decoded", GEOMETRIC + RANGES)
async def test_roundtrip(tpool, pgtype, value, text, decoded):
    await roundtrip(tpool, pgtype, value, text, decoded)


async def test_range_properties_follow_the_server(tpool):
    res = await tpool.execute(
        "SELECT r, lower_inc(r) AS li, upper_inc(r) AS ui, isempty(r) AS e "
        "FROM unnest($1::int4range[]) AS r",
        [[R(1, 5, "[]"), R(None, 5, "[]"), R(empty=True), R(None, None)]])
    for row in res.result():
        r = row["r"]
        assert (r.lower_inc, r.upper_inc, r.isempty) == (row["li"], row["ui"], row["e"])


@pytest.mark.parametrize("value, pgtype", [
    (P(1.0, 2.0), "point"),
    (Line(1.0, 2.0, 3.0), "line"),
    (LineSegment(P(0.0, 0.0), P(1.0, 1.0)), "lseg"),
    (Box(P(1.0, 1.0), P(0.0, 0.0)), "box"),
    (Path((P(0.0, 0.0), P(1.0, 1.0)), False), "path"),
    (Polygon((P(0.0, 0.0), P(1.0, 1.0), P(1.0, 0.0))), "polygon"),
    (Circle(P(0.0, 0.0), 2.0), "circle"),
], ids=lambda v: type(v).__name__ if isinstance(v, tuple) else v)
async def test_geometric_named_tuples_pin_their_type(tpool, value, pgtype):
    res = await tpool.execute("SELECT $1 AS v, pg_typeof($1)::text AS t", [value])
    row = res.result()[0]
    assert row["t"] == pgtype
    assert same(row["v"], value)


async def test_null_bounds_and_null_elements(tpool):
    res = await tpool.execute(
        "SELECT $1::int4range AS r, $2::point[] AS a, $3::int4range[] AS ra, "
        "NULL::point AS p, NULL::int4multirange AS m",
        [R(None, None), [None, P(0.0, 0.0), None], [None]])
    assert res.result() == [{"r": R(None, None, "()", False), "a": [None, P(0.0, 0.0), None],
                             "ra": [None], "p": None, "m": None}]


async def test_mixed_with_a_text_column(tpool):
    """A column without a binary codec puts the whole result in text
    format: every geometric and range type decodes from its text too."""
    res = await tpool.execute(
        "SELECT '(1,2)'::point AS p, '{(1,1),(0,0);(3,3),(2,2)}'::box[] AS b, "
        "'((0,0),(1,1))'::path AS pa, '[\"2000-01-01 00:00\",)'::tsrange AS r, "
        "'{[1,3),[5,7)}'::int4multirange AS m, "
        "makeaclitem(10, 10, 'SELECT', false) AS acl")  # aclitem: no binary form
    row = res.result()[0]
    assert row["p"] == P(1.0, 2.0)
    assert row["b"] == [Box(P(1.0, 1.0), P(0.0, 0.0)), Box(P(3.0, 3.0), P(2.0, 2.0))]
    assert row["pa"] == Path((P(0.0, 0.0), P(1.0, 1.0)), True)
    assert row["r"] == R(T(2000, 1, 1), None, "[)", False)
    assert row["m"] == [R(1, 3, "[)", False), R(5, 7, "[)", False)]
    assert isinstance(row["acl"], str)


@pytest.mark.parametrize("pgtype, value, message", [
    ("point", (1, 2, 3), "expected Point(x, y)"),
    ("point", ("1", 2), "a number must be an int, float or Decimal"),
    ("point", (Decimal("1E+400"), 0), "out of range for float8"),
    ("line", Line(0.0, 0.0, 1.0), "A and B cannot both be zero"),
    ("line", (1e-7, 0, 1), "A and B cannot both be zero"),
    ("circle", Circle(P(0.0, 0.0), -1.0), "negative radius"),
    ("path", [], "no points"),
    ("path", (1.0, 2.0), "expected Path(points, closed)"),
    ("polygon", Polygon(()), "no points"),
    ("polygon", [(1, 2, 3)], "not one of 3 items"),
    ("point[]", [[1, 2]], "cannot encode a int value as point"),
    ("int4range", R(1, 5, "[["), "bounds must be one of"),
    ("int4range", (1, 5, "[)", 0), "empty must be a bool"),
    ("int4range", R(1, None, "[)", True), "an empty range has no bounds"),
    ("int4range", (1,), "expected Range(lower, upper"),
    ("int4range", R(1, 2 ** 40), "out of range for int4"),
    ("int4multirange", R(1, 5), "not a range"),
    ("int4multirange", [None], "not a range"),
], ids=lambda v: v if isinstance(v, str) else None)
async def test_encode_errors_name_the_problem(tpool, pgtype, value, message):
    with pytest.raises(E.ParameterError, match="parameter \\$1") as ei:
        await tpool.execute(f"SELECT $1::{pgtype}", [value])
    assert message in str(ei.value)
    # the connection is still fine
    assert (await tpool.execute("SELECT 1 AS one")).result() == [{"one": 1}]


@pytest.fixture
async def upool(dsn):
    """A one-connection pool whose search_path is a fresh schema holding
    range types of the database's own; the schema is dropped afterwards."""
    schema = f"rng_{secrets.token_hex(4)}"
    async with open_pool(dsn, max_db_pool_size=1) as setup:
        await setup.execute(f"CREATE SCHEMA {schema}")
        await setup.execute(f"CREATE TYPE {schema}.floatrange AS RANGE (subtype = float8, "
                            f"multirange_type_name = {schema}.floatmulti)")
        await setup.execute(f"CREATE TYPE {schema}.textrange AS RANGE (subtype = text, "
                            f"collation = \"C\")")
    try:
        async with open_pool(dsn_with_settings(dsn, {**FIXED_SESSION, "search_path": schema}),
                             max_db_pool_size=1) as p:
            yield p
    finally:
        async with open_pool(dsn, max_db_pool_size=1) as setup:
            await setup.execute(f"DROP SCHEMA {schema} CASCADE")


USER_RANGES = [
    case("floatrange", R(1.5, 2.5), "[1.5,2.5)", R(1.5, 2.5, "[)", False)),
    case("floatrange", R(None, -0.0, "(]"), "(,-0]", R(None, -0.0, "(]", False)),
    case("floatrange", R(empty=True), "empty", EMPTY),
    case("floatrange", R(1, NAN), "[1,NaN)", R(1.0, NAN, "[)", False)),
    case("floatmulti", [R(3, 4), R(1, 2)], "{[1,2),[3,4)}",
         [R(1.0, 2.0, "[)", False), R(3.0, 4.0, "[)", False)]),
    case("floatrange[]", [R(1, 2), None], '{"[1,2)",NULL}', [R(1.0, 2.0, "[)", False), None]),
    case("textrange", R("a", 'b "c",\\d'), '[a,"b ""c"",\\\\d")',
         R("a", 'b "c",\\d', "[)", False)),
    case("textrange", R("", None), '["",)', R("", None, "[)", False)),
]


@pytest.mark.parametrize("pgtype, value, text, decoded", USER_RANGES)
async def test_range_types_of_the_database(upool, pgtype, value, text, decoded):
    await roundtrip(upool, pgtype, value, text, decoded)


async def test_range_types_of_the_database_from_text(upool):
    res = await upool.execute(
        "SELECT '[a,\"b \"\"c\"\",\\\\d\")'::textrange AS t, '{[1,2)}'::floatmulti AS m, "
        "makeaclitem(10, 10, 'SELECT', false) AS acl")  # aclitem: a text-format result
    row = res.result()[0]
    assert row["t"] == R("a", 'b "c",\\d', "[)", False)
    assert row["m"] == [R(1.0, 2.0, "[)", False)]


async def test_server_refusals_are_database_errors(tpool):
    with pytest.raises(E.DatabaseError, match="lower bound must be less than or equal"):
        await tpool.execute("SELECT $1::int4range", [R(5, 1)])
    assert (await tpool.execute("SELECT 1 AS one")).result() == [{"one": 1}]
