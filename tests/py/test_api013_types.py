"""The psqlpy 0.13 decoding profile: what ConnectionPool, connect_pool(),
connect() and ConnectionPoolBuilder hand out decodes uuid, inet, macaddr,
macaddr8 and the geometric types as psqlpy 0.13.1 does (checked against
it on the same server), while PSQLPool keeps its own decoding.  The values
the profile gives go back in as parameters (both directions)."""

from __future__ import annotations

import ipaddress
import uuid

import pgcluster
import pytest

from psqlpy import (
    ConnectionPool,
    ConnectionPoolBuilder,
    PSQLPool,
    connect,
    connect_pool,
)
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
