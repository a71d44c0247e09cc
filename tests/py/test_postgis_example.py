"""The example codec plugin for PostGIS (codecs/examples/postgis) against a
real PostGIS: geometry and geography as GeoJSON-like dicts both ways, WKB
bytes and WKT text in, arrays, NULL, refusals.

The plugin is built and installed with the package (not loaded by default);
this module loads it into the test process with psqlpy.load_codec_plugin()
and opens new pools afterwards (a connection resolves a type the first time
it meets it).  No other test uses geometry, so the process-wide load does
not change what they see.

PostGIS must be installed on the test server (scripts/setup.sh installs
Debian's postgresql-15-postgis-3): without it these tests fail, they are
not skipped.  CREATE EXTENSION runs in the test database, which is
throwaway.
"""

from __future__ import annotations

import math
import os
from typing import Any, AsyncIterator

import pytest
import pytest_asyncio

import psqlpy
from helpers import assert_pool_answers, open_pool
from psqlpy import PSQLPool
from psqlpy.exceptions import (DatabaseError, ParameterError, PoolConfigurationError,
                               ResultError)

PLUGIN = os.path.join(os.path.dirname(psqlpy.__file__), "codecs", "examples", "postgis.so")


@pytest.fixture(scope="module")
def plugin() -> str:
    assert os.path.isfile(PLUGIN), f"the example plugin was not built and installed: {PLUGIN}"
    try:
        psqlpy.load_codec_plugin(PLUGIN)
    except PoolConfigurationError as e:  # loaded earlier in this process
        assert "already loaded" in str(e), e
    return PLUGIN


async def ensure_postgis(dsn: str) -> None:
    async with open_pool(dsn, max_db_pool_size=1) as setup:
        try:
            await setup.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except DatabaseError as e:
            # a concurrent run may have created it in between
            res = await setup.execute(
                "SELECT count(*) AS n FROM pg_extension WHERE extname = 'postgis'")
            if res.result()[0]["n"] == 0:
                pytest.fail(f"PostGIS is not available on the test server ({e}); "
                            "install postgresql-15-postgis-3 (scripts/setup.sh does)")


@pytest_asyncio.fixture
async def gis(dsn: str, plugin: str) -> AsyncIterator[PSQLPool]:
    """A pool opened after the plugin was loaded, on a database with PostGIS."""
    await ensure_postgis(dsn)
    async with open_pool(dsn, max_db_pool_size=2) as p:
        yield p


async def one(pool: PSQLPool, sql: str, params: Any = None) -> dict:
    rows = (await pool.execute(sql, params)).result()
    assert len(rows) == 1
    return rows[0]


# ---- both ways, checked by the server ------------------------------------------

SQUARE = [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]]
HOLE = [[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 1.0]]

CASES = [
    ("SRID=4326;POINT(1 2)", {"type": "Point", "coordinates": [1.0, 2.0], "srid": 4326}),
    ("POINT(-0.5 1e300)", {"type": "Point", "coordinates": [-0.5, 1e300]}),
    ("LINESTRING(0 0,1 1,2 0.5)",
     {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0], [2.0, 0.5]]}),
    ("POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 1))",
     {"type": "Polygon", "coordinates": [SQUARE, HOLE]}),
    ("MULTIPOINT((1 2),(3 4))", {"type": "MultiPoint", "coordinates": [[1.0, 2.0], [3.0, 4.0]]}),
    ("MULTILINESTRING((0 0,1 1),(2 2,3 3))",
     {"type": "MultiLineString",
      "coordinates": [[[0.0, 0.0], [1.0, 1.0]], [[2.0, 2.0], [3.0, 3.0]]]}),
    ("SRID=3857;MULTIPOLYGON(((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 1)),((5 5,6 5,6 6,5 5)))",
     {"type": "MultiPolygon", "srid": 3857,
      "coordinates": [[SQUARE, HOLE], [[[5.0, 5.0], [6.0, 5.0], [6.0, 6.0], [5.0, 5.0]]]]}),
    ("SRID=4326;GEOMETRYCOLLECTION(POINT(1 2),GEOMETRYCOLLECTION(LINESTRING(0 0,1 1)))",
     {"type": "GeometryCollection", "srid": 4326, "geometries": [
         {"type": "Point", "coordinates": [1.0, 2.0]},
         {"type": "GeometryCollection", "geometries": [
             {"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]]}]}]}),
    ("POINT Z (1 2 3)", {"type": "Point", "coordinates": [1.0, 2.0, 3.0]}),
    ("SRID=4326;LINESTRING Z (1 2 3,4 5 6)",
     {"type": "LineString", "coordinates": [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], "srid": 4326}),
    ("POINT M (1 2 3)", {"type": "Point", "coordinates": [1.0, 2.0, 3.0], "measured": True}),
    ("POINT ZM (1 2 3 4)",
     {"type": "Point", "coordinates": [1.0, 2.0, 3.0, 4.0], "measured": True}),
    ("POINT EMPTY", {"type": "Point", "coordinates": []}),
    ("LINESTRING EMPTY", {"type": "LineString", "coordinates": []}),
    ("POLYGON EMPTY", {"type": "Polygon", "coordinates": []}),
    ("MULTIPOINT EMPTY", {"type": "MultiPoint", "coordinates": []}),
    ("GEOMETRYCOLLECTION EMPTY", {"type": "GeometryCollection", "geometries": []}),
]


@pytest.mark.parametrize("ewkt, want", CASES, ids=[c[0] for c in CASES])
async def test_decode_and_send_back(gis, ewkt, want):
    row = await one(gis, "SELECT ST_GeomFromEWKT($1) AS g", [ewkt])
    assert row["g"] == want
    # our dict back to the server: the same geometry, SRID and dimensions
    back = await one(gis, "SELECT ST_AsEWKT($1::geometry) AS mine, "
                          "ST_AsEWKT(ST_GeomFromEWKT($2)) AS theirs, "
                          "ST_Equals($1::geometry, ST_GeomFromEWKT($2)) "
                          "OR ST_IsEmpty($1::geometry) AS same",
                     [row["g"], ewkt])
    assert back["mine"] == back["theirs"] and back["same"] is True


async def test_text_results_decode_the_same(gis):
    # box2d has no binary output: the whole result comes in text, and the
    # plugin reads geometry's hex form
    row = await one(gis, "SELECT 'SRID=4326;POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 1))'"
                         "::geometry AS g, 'BOX(0 0,1 1)'::box2d AS b")
    assert row == {"g": {"type": "Polygon", "coordinates": [SQUARE, HOLE], "srid": 4326},
                   "b": "BOX(0 0,1 1)"}


async def test_what_we_send_as_the_server_sees_it(gis):
    sql = ("SELECT ST_AsText(g) AS wkt, ST_AsEWKT(g) AS ewkt, ST_SRID(g) AS srid, "
           "ST_NPoints(g) AS npoints, GeometryType(g) AS type, ST_Zmflag(g) AS zm "
           "FROM (SELECT $1::geometry AS g) s")
    # shapely's __geo_interface__ has tuples
    assert await one(gis, sql, [{"type": "Point", "coordinates": (1, 2), "srid": 4326}]) == {
        "wkt": "POINT(1 2)", "ewkt": "SRID=4326;POINT(1 2)", "srid": 4326, "npoints": 1,
        "type": "POINT", "zm": 0}
    polygon = {"type": "Polygon", "coordinates": (
        ((0, 0), (10, 0), (10, 10), (0, 10), (0, 0)), ((1, 1), (2, 1), (2, 2), (1, 1)))}
    row = await one(gis, sql, [polygon])
    assert row["wkt"] == "POLYGON((0 0,10 0,10 10,0 10,0 0),(1 1,2 1,2 2,1 1))"
    assert (row["srid"], row["npoints"]) == (0, 9)
    row = await one(gis, "SELECT ST_NumInteriorRings($1::geometry) AS holes, "
                         "ST_Area($1::geometry) AS area", [polygon])
    assert row == {"holes": 1, "area": 99.5}
    row = await one(gis, sql, [{"type": "LineString", "srid": 3857,
                                "coordinates": [[0, 0, 1], [1, 1, 2], [2, 0, 3.5]]}])
    assert row == {"wkt": "LINESTRING Z (0 0 1,1 1 2,2 0 3.5)",
                   "ewkt": "SRID=3857;LINESTRING(0 0 1,1 1 2,2 0 3.5)", "srid": 3857,
                   "npoints": 3, "type": "LINESTRING", "zm": 2}
    row = await one(gis, sql, [{"type": "Point", "coordinates": [1, 2, 7], "measured": True}])
    assert (row["wkt"], row["type"], row["zm"]) == ("POINT M (1 2 7)", "POINTM", 1)
    row = await one(gis, sql, [{"type": "MultiPoint", "coordinates": [[1, 2], [3, 4], [5, 6]]}])
    assert (row["wkt"], row["npoints"]) == ("MULTIPOINT((1 2),(3 4),(5 6))", 3)
    row = await one(gis, sql, [{"type": "GeometryCollection", "srid": 4326, "geometries": [
        {"type": "Point", "coordinates": [1, 2]},
        {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]}]}])
    assert row["ewkt"] == "SRID=4326;GEOMETRYCOLLECTION(POINT(1 2),MULTILINESTRING((0 0,1 1)," \
                          "(2 2,3 3)))"
    assert row["npoints"] == 5
    row = await one(gis, sql, [{"type": "Point", "coordinates": []}])
    assert (row["wkt"], row["npoints"]) == ("POINT EMPTY", 0)
    # GeoJSON's "bbox" is ignored, type names in any case, srid None = none
    row = await one(gis, sql, [{"type": "linestring", "bbox": [0, 0, 1, 1], "srid": None,
                                "coordinates": [[0, 0], [1, 1]]}])
    assert (row["ewkt"], row["srid"]) == ("LINESTRING(0 0,1 1)", 0)


async def test_null(gis):
    row = await one(gis, "SELECT NULL::geometry AS g, $1::geometry IS NULL AS sent_null",
                    [None])
    assert row == {"g": None, "sent_null": True}


async def test_arrays_of_geometry(gis):
    row = await one(gis, "SELECT ARRAY['SRID=4326;POINT(1 2)'::geometry, NULL, "
                         "'LINESTRING EMPTY'] AS a")
    assert row["a"] == [{"type": "Point", "coordinates": [1.0, 2.0], "srid": 4326}, None,
                        {"type": "LineString", "coordinates": []}]
    wkb = (await one(gis, "SELECT ST_AsBinary('POINT(5 6)'::geometry) AS b"))["b"]
    rows = (await gis.execute(
        "SELECT ST_AsEWKT(g) AS t FROM unnest($1::geometry[]) WITH ORDINALITY u(g, i) "
        "ORDER BY i",
        [[{"type": "Point", "coordinates": [1, 2], "srid": 4326}, None, wkb,
          {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}]])).result()
    assert [r["t"] for r in rows] == ["SRID=4326;POINT(1 2)", None, "POINT(5 6)",
                                      "POLYGON((0 0,1 0,1 1,0 0))"]
    row = await one(gis, "SELECT $1::geometry[] AS a", [[[{"type": "Point", "coordinates": [1, 2]}],
                                                         [None]]])
    assert row["a"] == [[{"type": "Point", "coordinates": [1.0, 2.0]}], [None]]


@pytest.mark.parametrize("order", ["NDR", "XDR"])
async def test_bytes_pass_through_in_both_byte_orders(gis, order):
    ewkt = "SRID=4326;MULTIPOLYGON(((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 1)),((5 5,6 5,6 6,5 5)))"
    row = await one(gis, "SELECT ST_AsEWKB(ST_GeomFromEWKT($1), $2) AS ewkb, "
                         "ST_AsBinary(ST_GeomFromEWKT($1), $2) AS wkb", [ewkt, order])
    assert row["ewkb"][0] == (1 if order == "NDR" else 0)
    for value in (row["ewkb"], bytearray(row["ewkb"]), memoryview(row["ewkb"])):
        back = await one(gis, "SELECT ST_AsEWKT($1::geometry) AS t", [value])
        assert back == {"t": ewkt}
    back = await one(gis, "SELECT ST_AsEWKT($1::geometry) AS t", [row["wkb"]])
    assert back == {"t": ewkt.split(";", 1)[1]}  # plain WKB has no SRID


async def test_text_goes_to_the_server_to_parse(gis):
    row = await one(gis, "SELECT ST_AsEWKT($1::geometry) AS a, ST_AsEWKT($2::geometry) AS b, "
                         "ST_AsEWKT($3::geometry) AS c",
                    ["POINT(1 2)", "SRID=3857;LINESTRING(0 0,1 1)",
                     "0101000020E6100000000000000000F03F0000000000000040"])
    assert row == {"a": "POINT(1 2)", "b": "SRID=3857;LINESTRING(0 0,1 1)",
                   "c": "SRID=4326;POINT(1 2)"}
    with pytest.raises(DatabaseError):
        await gis.execute("SELECT $1::geometry", ["POINT(1"])
    await assert_pool_answers(gis)


async def test_geography(gis):
    row = await one(gis, "SELECT 'POINT(30 60)'::geography AS g, "
                         "ST_AsEWKT($1::geography) AS t, ST_SRID($1::geography) AS srid",
                    [{"type": "Point", "coordinates": [10, 20]}])
    assert row == {"g": {"type": "Point", "coordinates": [30.0, 60.0], "srid": 4326},
                   "t": "SRID=4326;POINT(10 20)", "srid": 4326}
    row = await one(gis, "SELECT ARRAY['LINESTRING(0 0,1 1)'::geography] AS a")
    assert row["a"] == [{"type": "LineString", "coordinates": [[0.0, 0.0], [1.0, 1.0]],
                         "srid": 4326}]


# ---- refusals ------------------------------------------------------------------

def nested(levels: int) -> dict:
    g: dict = {"type": "GeometryCollection", "geometries": []}
    for _ in range(levels - 1):
        g = {"type": "GeometryCollection", "geometries": [g]}
    return g


class GeoThing:
    """An object implementing the geo interface (as shapely's do)."""

    @property
    def __geo_interface__(self) -> dict:
        return {"type": "Point", "coordinates": (7.0, 8.0)}


BAD_PARAMS = [
    ({"type": "Pnt", "coordinates": [1, 2]}, '"Pnt" is not a GeoJSON geometry type'),
    ({"coordinates": [1, 2]}, 'needs a "type"'),
    ({"type": "Point"}, 'has "coordinates"'),
    ({"type": "Point", "cordinates": [1, 2]}, 'unexpected key "cordinates"'),
    ({"type": "Feature", "geometry": None, "properties": {}}, "unexpected key"),
    ({"type": "Point", "coordinates": [1]}, "2 to 4 numbers, not 1"),
    ({"type": "Point", "coordinates": ["1", 2]}, "coordinates are numbers, not str"),
    ({"type": "LineString", "coordinates": [[0, 0], [1, 1, 1]]}, "positions of 2 and of 3"),
    ({"type": "Polygon", "coordinates": [[0, 0], [1, 1]]}, "a position is a list"),
    ({"type": "Point", "coordinates": [1, 2], "srid": "4326"}, '"srid" is an int'),
    ({"type": "Point", "coordinates": [1, 2], "measured": True}, "measured geometry"),
    ({"type": "CircularString", "coordinates": []}, "CircularString is not supported"),
    ({"type": "GeometryCollection", "srid": 4326, "geometries": [
        {"type": "Point", "coordinates": [1, 2], "srid": 3857}]}, "srid 3857 differs"),
    ([1.0, 2.0], "a geometry is a dict"),
    (GeoThing(), "pass obj.__geo_interface__"),
    (b"\x01\x01\x00\x00\x00" + bytes(15), "invalid EWKB: a position at byte 5 needs 16 bytes"),
    (b"\x01\x07\x00\x00\x00\x00\x00\x00\x00\x00", "1 trailing bytes"),
    (b"\x02\x01\x00\x00\x00" + bytes(16), "byte order 2"),
    (b"\x01\x02\x00\x00\x00\xff\xff\xff\xff", "LineString of 4294967295 points"),
    (b"\x01\x08\x00\x00\x00\x00\x00\x00\x00", "CircularString is not supported"),
    (nested(40), "nested deeper"),
]


@pytest.mark.parametrize("value, message", BAD_PARAMS,
                         ids=[f"{i}-{m[:24]}" for i, (_, m) in enumerate(BAD_PARAMS)])
async def test_malformed_parameters_are_parameter_errors(gis, value, message):
    with pytest.raises(ParameterError) as ei:
        await gis.execute("SELECT $1::geometry AS g", [value])
    assert message in str(ei.value)
    assert "$1" in str(ei.value)
    await assert_pool_answers(gis)


async def test_geo_interface_and_deep_but_allowed_nesting(gis):
    row = await one(gis, "SELECT ST_AsText($1::geometry) AS t", [GeoThing().__geo_interface__])
    assert row == {"t": "POINT(7 8)"}
    row = await one(gis, "SELECT ST_AsText($1::geometry) AS t", [nested(20)])
    assert row == {"t": "GEOMETRYCOLLECTION(" * 19 + "GEOMETRYCOLLECTION EMPTY" + ")" * 19}


async def test_what_the_server_checks_is_a_database_error(gis):
    # structure is fine, geometry rules are the server's: too few points,
    # an unclosed ring
    for bad in ({"type": "LineString", "coordinates": [[0, 0]]},
                {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}):
        with pytest.raises(DatabaseError) as ei:
            await gis.execute("SELECT $1::geometry", [bad])
        assert not isinstance(ei.value, ParameterError)
        await assert_pool_answers(gis)


async def test_values_without_a_geojson_form_are_result_errors(gis):
    # rows are decoded when the result is read
    with pytest.raises(ResultError) as ei:
        (await gis.execute("SELECT 'CIRCULARSTRING(0 0,1 1,2 0)'::geometry AS g")).result()
    assert "ST_CurveToLine" in str(ei.value)
    deep = "GEOMETRYCOLLECTION(" * 40 + "POINT(1 2)" + ")" * 40
    with pytest.raises(ResultError) as ei:
        (await gis.execute("SELECT $1::text::geometry AS g", [deep])).result()
    assert "nested deeper than 32" in str(ei.value)
    # converted in SQL it decodes
    row = await one(gis, "SELECT ST_CurveToLine('CIRCULARSTRING(0 0,1 1,2 0)'::geometry) AS g")
    assert row["g"]["type"] == "LineString" and len(row["g"]["coordinates"]) > 3
    await assert_pool_answers(gis)


async def test_nan_coordinates_in_a_linestring_stay_nan(gis):
    # only a Point whose ordinates are all NaN is POINT EMPTY
    wkb = b"\x01\x02\x00\x00\x00\x02\x00\x00\x00" + bytes(16) + \
        b"\x00\x00\x00\x00\x00\x00\xf8\x7f" + bytes(8)
    row = await one(gis, "SELECT $1::geometry AS g", [wkb])
    (a, b) = row["g"]["coordinates"]
    assert a == [0.0, 0.0] and math.isnan(b[0]) and b[1] == 0.0


# ---- with shapely (a test dependency) --------------------------------------------

async def test_shapely_round_trip(gis):
    import shapely  # a test dependency (pyproject's [test] extras)
    from shapely.geometry import Polygon, shape

    row = await one(gis, "SELECT 'SRID=4326;POLYGON((0 0,4 0,4 4,0 4,0 0),(1 1,2 1,2 2,1 1))'"
                         "::geometry AS g")
    geom = shape(row["g"])
    assert geom.geom_type == "Polygon" and geom.area == 15.5
    poly = Polygon([(0, 0), (3, 0), (3, 3), (0, 0)])
    row = await one(gis, "SELECT ST_AsEWKT($1::geometry) AS a, ST_AsEWKT($2::geometry) AS b, "
                         "ST_AsEWKT($3::geometry) AS c",
                    [poly.wkb, poly.__geo_interface__,
                     shapely.to_wkb(shapely.set_srid(poly, 3857), include_srid=True)])
    assert row == {"a": "POLYGON((0 0,3 0,3 3,0 0))", "b": "POLYGON((0 0,3 0,3 3,0 0))",
                   "c": "SRID=3857;POLYGON((0 0,3 0,3 3,0 0))"}
