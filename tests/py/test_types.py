"""Type round trips, both ways, checked against the server's own text forms.

For every case the same Python value goes out as $1 and the expected
canonical text goes out as $2 (plain text, parsed by the server itself):

    SELECT $1::T          -- our encoding, decoded again by us
         , $1::T::text    -- what the server made of our encoding
         , $2::text::T    -- the server's parse of the text, decoded by us
         , $2::text::T::text

so the encoder is checked against the server's parser, the decoder against
the server's output, and the expected text against the server's own
canonical form.  The sessions run with fixed TimeZone/DateStyle/
IntervalStyle (helpers.FIXED_SESSION) so text forms do not depend on the
server's configuration.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import math
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import FIXED_SESSION, dsn_with_settings, open_pool
from psqlpy import PSQLPool
from psqlpy.extra_types import BigInt, Integer, PyJSON, PyUUID, SmallInt

UTC = dt.timezone.utc


def tz(hours: int = 0, minutes: int = 0) -> dt.timezone:
    return dt.timezone(dt.timedelta(hours=hours, minutes=minutes))


@pytest.fixture
async def tpool(dsn):
    async with open_pool(dsn_with_settings(dsn, FIXED_SESSION), max_db_pool_size=1) as p:
        yield p


def same(got: Any, want: Any) -> bool:
    """Equal values of the same Python type; NaN equals NaN, the sign of a
    float zero counts, lists and tuples (a Point, a Range) compare item by
    item."""
    if isinstance(want, (list, tuple)):
        return (type(got) is type(want) and len(got) == len(want)
                and all(same(g, w) for g, w in zip(got, want)))
    if type(got) is not type(want):
        return False
    if isinstance(want, float):
        if math.isnan(want):
            return math.isnan(got)
        return got == want and math.copysign(1, got) == math.copysign(1, want)
    if isinstance(want, Decimal) and want.is_nan():
        return got.is_nan()
    if isinstance(want, (dt.datetime, dt.time)):
        return got == want and (got.tzinfo is None) == (want.tzinfo is None)
    return got == want


async def roundtrip(pool: PSQLPool, pgtype: str, value: Any, text: str,
                    decoded: Any = None) -> None:
    """`value` sent as `pgtype` must be the server's `text`, and both it and
    the server's parse of `text` must decode to `decoded` (default: value)."""
    want = value if decoded is None else decoded
    as_text = "::jsonb::text" if pgtype == "json" else "::text"  # json keeps input spacing
    res = await pool.execute(
        f"SELECT $1::{pgtype} AS sent, $1::{pgtype}{as_text} AS sent_text, "
        f"$2::text::{pgtype} AS parsed, $2::text::{pgtype}{as_text} AS parsed_text",
        [value, text])
    row = res.result()[0]
    assert row["parsed_text"] == text, "the expected text is not the server's canonical form"
    assert row["sent_text"] == text, f"{value!r} was encoded as {row['sent_text']!r}"
    assert same(row["sent"], want), f"{value!r} came back as {row['sent']!r}"
    assert same(row["parsed"], want), f"{text!r} was decoded as {row['parsed']!r}"


def case(pgtype: str, value: Any, text: str, decoded: Any = None):
    return pytest.param(pgtype, value, text, decoded, id=f"{pgtype}:{text[:40]}")


SCALARS = [
    # integers at their limits
    case("int2", -32768, "-32768"), case("int2", 32767, "32767"), case("int2", 0, "0"),
    case("int4", -2147483648, "-2147483648"), case("int4", 2147483647, "2147483647"),
    case("int8", -9223372036854775808, "-9223372036854775808"),
    case("int8", 9223372036854775807, "9223372036854775807"),
    # floats: limits, subnormals, signed zero, NaN, infinities
    case("float4", 3.4028234663852886e+38, "3.4028235e+38"),
    case("float4", 1.401298464324817e-45, "1e-45"),
    case("float4", -1.5, "-1.5"),
    case("float4", float("nan"), "NaN"),
    case("float4", float("inf"), "Infinity"), case("float4", float("-inf"), "-Infinity"),
    case("float8", 1.7976931348623157e+308, "1.7976931348623157e+308"),
    case("float8", 5e-324, "5e-324"),
    case("float8", -0.0, "-0"), case("float8", 0.1, "0.1"),
    case("float8", float("nan"), "NaN"),
    case("float8", float("inf"), "Infinity"), case("float8", float("-inf"), "-Infinity"),
    # numeric: NaN, infinities, huge integers, large scales, scale kept
    case("numeric", Decimal("NaN"), "NaN"),
    case("numeric", Decimal("Infinity"), "Infinity"),
    case("numeric", Decimal("-Infinity"), "-Infinity"),
    case("numeric", 10 ** 40, "1" + "0" * 40, Decimal(10 ** 40)),
    case("numeric", -(2 ** 64) + 1, "-18446744073709551615", Decimal(-(2 ** 64) + 1)),
    case("numeric", Decimal("1.50"), "1.50"),
    case("numeric", Decimal("0"), "0"),
    case("numeric", Decimal("-1E-30"), "-0." + "0" * 29 + "1"),
    case("numeric", Decimal("123456789012345678901234567890.123456789012345678901234567890"),
         "123456789012345678901234567890.123456789012345678901234567890"),
    case("numeric", Decimal("1E+5"), "100000", Decimal("100000")),
    case("numeric", Decimal("0.000100"), "0.000100"),
    # bool
    case("bool", True, "true"), case("bool", False, "false"),
    # strings
    case("text", "héllo wörld ☃ 𝄞 日本語", "héllo wörld ☃ 𝄞 日本語"),
    case("text", "", ""),
    case("text", "quote's \"dq\" \\back\\ \n\ttab", "quote's \"dq\" \\back\\ \n\ttab"),
    case("varchar", "ünïcödé", "ünïcödé"),
    case("varchar(3)", "日本語", "日本語"),
    case("char(5)", "ab", "ab", "ab   "),
    case("bpchar", "x ☃", "x ☃"),
    case("name", "ünï_name", "ünï_name"),
    # bytea
    case("bytea", b"", "\\x"),
    case("bytea", b"\x00\xff\x00abc\\", "\\x00ff00616263" + "5c"),
    case("bytea", bytes(range(256)), "\\x" + bytes(range(256)).hex()),
    case("bytea", bytearray(b"\x01\x02"), "\\x0102", b"\x01\x02"),
    # uuid
    case("uuid", uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
         "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    case("uuid", uuid.UUID(int=0), "00000000-0000-0000-0000-000000000000"),
    case("uuid", uuid.UUID(int=2 ** 128 - 1), "ffffffff-ffff-ffff-ffff-ffffffffffff"),
    # json / jsonb (jsonb text: keys ordered by length, then bytes)
    case("jsonb", {"b": {"c": "é"}, "a": [1, 2.5, None, True, False, "x"]},
         '{"a": [1, 2.5, null, true, false, "x"], "b": {"c": "é"}}'),
    case("json", {"nested": {"deeper": [{"k": [1, [2, [3]]]}]}},
         '{"nested": {"deeper": [{"k": [1, [2, [3]]]}]}}'),
    case("jsonb", {}, "{}"),
    # a float in a list is written as its repr, also where the nearest 16
    # digits are not it (2^-24)
    case("jsonb", [2.0 ** -24, 0.1], "[0.00000005960464477539063, 0.1]"),
    case("numeric", 2.0 ** -24, "0.00000005960464477539063", Decimal("5.960464477539063E-8")),
    # dates and times, with infinities
    case("date", dt.date(2000, 2, 29), "2000-02-29"),
    case("date", dt.date(1, 1, 2), "0001-01-02"),
    case("date", dt.date(9999, 12, 30), "9999-12-30"),
    case("date", dt.date(1999, 12, 31), "1999-12-31"),
    case("date", dt.date.max, "infinity"),
    case("date", dt.date.min, "-infinity"),
    case("time", dt.time(0, 0), "00:00:00"),
    case("time", dt.time(23, 59, 59, 999999), "23:59:59.999999"),
    case("time", dt.time(12, 30, 15, 500), "12:30:15.0005"),
    case("timetz", dt.time(1, 2, 3, 4, tzinfo=tz(5, 30)), "01:02:03.000004+05:30"),
    case("timetz", dt.time(23, 0, tzinfo=tz(-8)), "23:00:00-08"),
    case("timetz", dt.time(12, 0, tzinfo=UTC), "12:00:00+00"),
    case("timestamp", dt.datetime(2000, 1, 1), "2000-01-01 00:00:00"),
    case("timestamp", dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
         "1969-12-31 23:59:59.999999"),
    case("timestamp", dt.datetime(1, 1, 1, 0, 0, 0, 1), "0001-01-01 00:00:00.000001"),
    case("timestamp", dt.datetime(9999, 12, 31, 23, 59, 59, 999998),
         "9999-12-31 23:59:59.999998"),
    case("timestamp", dt.datetime.max, "infinity"),
    case("timestamp", dt.datetime.min, "-infinity"),
    case("timestamptz", dt.datetime(2020, 5, 17, 10, 20, 30, 123456, tzinfo=UTC),
         "2020-05-17 10:20:30.123456+00"),
    case("timestamptz", dt.datetime(2020, 5, 17, 12, 20, 30, tzinfo=tz(2)),
         "2020-05-17 10:20:30+00", dt.datetime(2020, 5, 17, 10, 20, 30, tzinfo=UTC)),
    case("timestamptz", dt.datetime(1900, 1, 1, 0, 0, tzinfo=tz(-5, -30)),
         "1900-01-01 05:30:00+00"),
    case("timestamptz", dt.datetime.max.replace(tzinfo=UTC), "infinity"),
    case("timestamptz", dt.datetime.min.replace(tzinfo=UTC), "-infinity"),
    case("interval", dt.timedelta(days=1, seconds=3661, microseconds=1),
         "1 day 01:01:01.000001"),
    case("interval", dt.timedelta(days=-3, seconds=5, microseconds=7),
         "-3 days +00:00:05.000007"),
    case("interval", dt.timedelta(0), "00:00:00"),
    # timedelta keeps days and seconds apart, seconds never negative
    case("interval", dt.timedelta(microseconds=-1), "-1 days +23:59:59.999999"),
    case("interval", dt.timedelta(days=999999), "999999 days"),
]


@pytest.mark.parametrize("pgtype, value, text, decoded", SCALARS)
async def test_scalar_roundtrip(tpool, pgtype, value, text, decoded):
    await roundtrip(tpool, pgtype, value, text, decoded)


@pytest.mark.parametrize("pgtype, value", [("text", ""), ("bytea", b""), ("varchar", "")])
async def test_empty_value_is_the_first_parameter_of_a_new_connection(dsn, pgtype, value):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        res = await p.execute(f"SELECT $1::{pgtype} AS v, length($1::{pgtype}) AS n", [value])
        assert res.result() == [{"v": value, "n": 0}]


ARRAYS = [
    case("int4[]", [[1, None], [3, 4]], "{{1,NULL},{3,4}}"),
    case("int4[]", [], "{}"),
    case("int2[]", [-32768, 32767, None], "{-32768,32767,NULL}"),
    case("int8[]", [[[1, 2], [3, 4]], [[5, 6], [7, None]]],
         "{{{1,2},{3,4}},{{5,6},{7,NULL}}}"),
    case("float8[]", [float("nan"), float("inf"), float("-inf"), None, 1.5],
         "{NaN,Infinity,-Infinity,NULL,1.5}"),
    case("float4[]", [[0.5], [None]], "{{0.5},{NULL}}"),
    case("numeric[]", [Decimal("1.10"), None, Decimal("NaN"), Decimal("-1E-20")],
         "{1.10,NULL,NaN,-0.00000000000000000001}"),
    case("bool[]", [True, False, None], "{t,f,NULL}"),
    case("text[]", ["a b", "", None, 'q"uo\\te', "NULL", "é"],
         '{"a b","",NULL,"q\\"uo\\\\te","NULL",é}'),
    case("text[]", [["x", None], [None, "y"]], "{{x,NULL},{NULL,y}}"),
    case("varchar[]", ["☃"], "{☃}"),
    case("bytea[]", [b"\x01", b"", None], '{"\\\\x01","\\\\x",NULL}'),
    case("uuid[]", [uuid.UUID(int=1), None],
         "{00000000-0000-0000-0000-000000000001,NULL}"),
    case("jsonb[]", [{"a": 1}, None, {"b": [True]}], '{"{\\"a\\": 1}",NULL,"{\\"b\\": [true]}"}'),
    case("date[]", [dt.date(2020, 1, 1), None, dt.date.max, dt.date.min],
         "{2020-01-01,NULL,infinity,-infinity}"),
    case("timestamp[]", [[dt.datetime(2001, 2, 3, 4, 5, 6)], [dt.datetime.max]],
         '{{"2001-02-03 04:05:06"},{infinity}}'),
    case("timestamptz[]", [dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC), None],
         '{"2001-02-03 04:05:06+00",NULL}'),
    case("time[]", [dt.time(1, 2, 3), None], "{01:02:03,NULL}"),
    case("timetz[]", [dt.time(1, 2, 3, tzinfo=tz(1))], "{01:02:03+01}"),
    case("interval[]", [dt.timedelta(hours=1), None, dt.timedelta(days=-1)],
         '{01:00:00,NULL,"-1 days"}'),
]


@pytest.mark.parametrize("pgtype, value, text, decoded", ARRAYS)
async def test_array_roundtrip(tpool, pgtype, value, text, decoded):
    await roundtrip(tpool, pgtype, value, text, decoded)


async def test_array_with_other_lower_bound_decodes_to_a_list(tpool):
    res = await tpool.execute("SELECT '[0:2]={7,8,9}'::int4[] AS a, "
                              "'[2:3][5:5]={{1},{2}}'::int8[] AS b")
    assert res.result() == [{"a": [7, 8, 9], "b": [[1], [2]]}]


ALL_TYPES = ["int2", "int4", "int8", "float4", "float8", "numeric", "bool", "text",
             "varchar", "bpchar", "name", "bytea", "uuid", "json", "jsonb", "date", "time",
             "timetz", "timestamp", "timestamptz", "interval", "int4[]", "text[]",
             "point", "inet", "tsvector"]


@pytest.mark.parametrize("pgtype", ALL_TYPES)
async def test_null_both_ways(tpool, pgtype):
    res = await tpool.execute(
        f"SELECT NULL::{pgtype} AS v, $1::{pgtype} AS p, $1::{pgtype} IS NULL AS isnull",
        [None])
    assert res.result() == [{"v": None, "p": None, "isnull": True}]


# Types without a codec come back as their text form; a str goes to them as text.
NO_CODEC = [
    ("pg_snapshot", "10:20:12,15", "10:20:12,15"),
    ("tsvector", "b a b", "'a' 'b'"),
    ("pg_snapshot[]", '{"10:20:12,15",NULL}', '{"10:20:12,15",NULL}'),
]


@pytest.mark.parametrize("pgtype, literal, text", NO_CODEC, ids=[c[0] for c in NO_CODEC])
async def test_type_without_codec_is_text(tpool, pgtype, literal, text):
    res = await tpool.execute(
        f"SELECT $1::text::{pgtype} AS parsed, $2::{pgtype} AS sent, "
        f"$2::{pgtype}::text AS sent_text", [literal, literal])
    row = res.result()[0]
    assert row == {"parsed": text, "sent": text, "sent_text": text}
    assert type(row["parsed"]) is str


async def test_timestamptz_decoding_does_not_depend_on_session_timezone(dsn):
    want = dt.datetime(2020, 1, 1, 0, 0, tzinfo=UTC)
    for zone in ("UTC", "Asia/Kolkata", "America/St_Johns"):
        async with open_pool(dsn_with_settings(dsn, {"TimeZone": zone}),
                             max_db_pool_size=1) as p:
            res = await p.execute(
                "SELECT '2020-01-01 00:00:00+00'::timestamptz AS a, $1::timestamptz AS b, "
                "$1::timestamptz = '2020-01-01 00:00:00+00'::timestamptz AS same, "
                "current_setting('TimeZone') AS zone", [want])
            row = res.result()[0]
            assert row == {"a": want, "b": want, "same": True, "zone": zone}


# ---------------------------------------------------------------------------
# extra types pin the parameter's type where the query does not


@pytest.mark.parametrize("wrapped, pgtype, value", [
    (SmallInt(5), "smallint", 5),
    (SmallInt(-32768), "smallint", -32768),
    (SmallInt(32767), "smallint", 32767),
    (Integer(-2 ** 31), "integer", -2 ** 31),
    (Integer(2 ** 31 - 1), "integer", 2 ** 31 - 1),
    (BigInt(-2 ** 63), "bigint", -2 ** 63),
    (BigInt(2 ** 63 - 1), "bigint", 2 ** 63 - 1),
    (PyUUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), "uuid",
     uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
    (PyUUID("A0EEBC999C0B4EF8BB6D6BB9BD380A11"), "uuid",
     uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")),
    (PyUUID(uuid.UUID(int=12345)), "uuid", uuid.UUID(int=12345)),
], ids=repr)
async def test_extra_type_pins_type(tpool, wrapped, pgtype, value):
    res = await tpool.execute("SELECT $1 AS v, pg_typeof($1)::text AS t, $1::text AS txt",
                              [wrapped])
    assert res.result() == [{"v": value, "t": pgtype, "txt": str(value)}]


async def test_pinned_int_goes_into_wider_column(tpool):
    res = await tpool.execute(
        "SELECT $1::int8 AS a, $2::numeric AS b, pg_typeof($3)::text AS c",
        [SmallInt(7), Integer(-9), BigInt(1)])
    assert res.result() == [{"a": 7, "b": Decimal(-9), "c": "bigint"}]


@pytest.mark.parametrize("doc", [
    {"we": "have", "n": [1, 2, {"deep": None}]},
    [{"we": "have"}, {"list": "of"}, {"dicts": True}],
    [],
], ids=["dict", "list", "empty-list"])
@pytest.mark.parametrize("pgtype", ["json", "jsonb"])
async def test_pyjson_into_json_placeholders(tpool, doc, pgtype):
    text = json.dumps(doc)
    res = await tpool.execute(
        f"SELECT $1::{pgtype} AS v, $1::{pgtype}::jsonb = $2::text::jsonb AS same",
        [PyJSON(doc), text])
    assert res.result() == [{"v": doc, "same": True}]


async def test_pyjson_pins_a_json_type(tpool):
    doc = [{"a": 1}, {"b": [None, 2.5]}]
    res = await tpool.execute("SELECT $1 AS v, pg_typeof($1)::text AS t", [PyJSON(doc)])
    row = res.result()[0]
    assert row["t"] in ("json", "jsonb")
    assert row["v"] == doc


async def test_dict_param_is_json(tpool):
    res = await tpool.execute("SELECT $1::jsonb -> 'k' ->> 0 AS first, "
                              "jsonb_typeof($1::jsonb) AS kind", [{"k": ["é", 2]}])
    assert res.result() == [{"first": "é", "kind": "object"}]


async def test_plain_list_into_json_placeholder_is_a_json_array(tpool):
    """pyext/src/params.c documents lists as JSON arrays when the
    placeholder is json/jsonb."""
    res = await tpool.execute("SELECT $1::jsonb AS v, jsonb_typeof($1::jsonb) AS kind",
                              [[1, "two", None]])
    assert res.result() == [{"v": [1, "two", None], "kind": "array"}]


# ---------------------------------------------------------------------------
# randomized round trips (bounded, so the suite stays fast)


def _new_loop(loop_name: str) -> asyncio.AbstractEventLoop:
    if loop_name == "uvloop":
        import uvloop
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class PoolRunner:
    """A pool on a loop of its own, for synchronous hypothesis tests; its
    connection runs with the server settings `session`."""

    def __init__(self, dsn: str, loop_name: str, session: dict = FIXED_SESSION) -> None:
        self.loop = _new_loop(loop_name)
        self.pool = PSQLPool(dsn=dsn_with_settings(dsn, session), max_db_pool_size=1)

        async def start() -> None:
            await self.pool.startup()
        self.loop.run_until_complete(start())

    def row(self, sql: str, params: list) -> dict:
        return self.rows(sql, params)[0]

    def rows(self, sql: str, params: list | None = None) -> list:
        async def go() -> list:
            return (await self.pool.execute(sql, params)).result()
        return self.loop.run_until_complete(go())

    def close(self) -> None:
        async def stop() -> None:
            await self.pool.close()
        self.loop.run_until_complete(stop())
        self.loop.close()


@pytest.fixture(scope="module")
def runner(dsn, loop_name):
    r = PoolRunner(dsn, loop_name)
    yield r
    r.close()


HYP = settings(max_examples=60, deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow])


@HYP
@given(st.integers(-2 ** 63, 2 ** 63 - 1))
def test_hyp_int8(runner, n):
    row = runner.row("SELECT $1::int8 AS v, $1::int8::text AS t", [n])
    assert row == {"v": n, "t": str(n)}


@HYP
@given(st.integers(-32768, 32767))
def test_hyp_smallint_pinned(runner, n):
    row = runner.row("SELECT $1 AS v, $1::text AS t, pg_typeof($1)::text AS ty", [SmallInt(n)])
    assert row == {"v": n, "t": str(n), "ty": "smallint"}


@HYP
@given(st.floats())
def test_hyp_float8(runner, x):
    # repr() is the shortest exact form; the server parses it on its own
    row = runner.row("SELECT $1::float8 AS v, $1::float8 = $2::text::float8 AS same",
                     [x, repr(x)])
    assert row["same"] is True
    assert same(row["v"], x)


@st.composite
def decimals(draw):
    sign = "-" if draw(st.booleans()) else ""
    digits = draw(st.integers(0, 10 ** 40))
    exp = draw(st.integers(-40, 40))
    return Decimal(f"{sign}{digits}E{exp}")


@HYP
@given(decimals())
def test_hyp_numeric(runner, d):
    row = runner.row("SELECT $1::numeric AS v, $1::numeric::text AS t, "
                     "$1::numeric = $2::text::numeric AS same", [d, str(d)])
    assert row["same"] is True
    assert row["v"] == d
    # the scale survives: the decoded value has the server text's exponent
    assert row["v"].as_tuple().exponent == Decimal(row["t"]).as_tuple().exponent


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                      blacklist_characters="\x00"), max_size=200)


@HYP
@given(TEXT)
def test_hyp_text(runner, s):
    row = runner.row("SELECT $1::text AS v, length($1::text) AS n, "
                     "octet_length($1::text) AS bytes, md5($1::text) AS h", [s])
    assert row == {"v": s, "n": len(s), "bytes": len(s.encode()),
                   "h": hashlib.md5(s.encode()).hexdigest()}


@HYP
@given(st.binary(max_size=300))
def test_hyp_bytea(runner, b):
    row = runner.row("SELECT $1::bytea AS v, length($1::bytea) AS n, md5($1::bytea) AS h",
                     [b])
    assert row == {"v": b, "n": len(b), "h": hashlib.md5(b).hexdigest()}


@HYP
@given(st.uuids())
def test_hyp_uuid(runner, u):
    row = runner.row("SELECT $1::uuid AS v, $1::uuid::text AS t, $2 AS pinned",
                     [u, PyUUID(str(u))])
    assert row == {"v": u, "t": str(u), "pinned": u}


@HYP
@given(st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 30)))
def test_hyp_date(runner, d):
    row = runner.row("SELECT $1::date AS v, $1::date = $2::text::date AS same",
                     [d, d.isoformat()])
    assert row == {"v": d, "same": True}


@HYP
@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)))
def test_hyp_timestamp(runner, ts):
    row = runner.row("SELECT $1::timestamp AS v, "
                     "$1::timestamp = $2::text::timestamp AS same", [ts, ts.isoformat(" ")])
    assert row["same"] is True
    assert same(row["v"], ts)


OFFSETS = st.integers(-15 * 60, 15 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))


@HYP
@given(st.datetimes(min_value=dt.datetime(1, 1, 3), max_value=dt.datetime(9999, 12, 29),
                    timezones=OFFSETS))
def test_hyp_timestamptz(runner, ts):
    row = runner.row("SELECT $1::timestamptz AS v, "
                     "$1::timestamptz = $2::text::timestamptz AS same", [ts, ts.isoformat(" ")])
    assert row["same"] is True
    assert row["v"] == ts and row["v"].utcoffset() == dt.timedelta(0)


@HYP
@given(st.timedeltas(min_value=dt.timedelta(days=-10 ** 6), max_value=dt.timedelta(days=10 ** 6)))
def test_hyp_interval(runner, td):
    text = f"{td.days} days {td.seconds} seconds {td.microseconds} microseconds"
    row = runner.row("SELECT $1::interval AS v, "
                     "$1::interval::text = $2::text::interval::text AS same", [td, text])
    assert row == {"v": td, "same": True}


@HYP
@given(st.lists(st.one_of(st.none(), st.integers(-2 ** 31, 2 ** 31 - 1)), max_size=30))
def test_hyp_int4_array(runner, xs):
    text = "{" + ",".join("NULL" if x is None else str(x) for x in xs) + "}"
    row = runner.row("SELECT $1::int4[] AS v, $1::int4[]::text AS t", [xs])
    assert row == {"v": xs, "t": text}


@HYP
@given(st.lists(st.lists(st.one_of(st.none(), TEXT.filter(lambda s: len(s) < 20)),
                         min_size=2, max_size=2), min_size=1, max_size=5))
def test_hyp_text_2d_array(runner, rows):
    row = runner.row("SELECT $1::text[] AS v, array_ndims($1::text[]) AS nd, "
                     "array_length($1::text[], 1) AS n1", [rows])
    assert row == {"v": rows, "nd": 2, "n1": len(rows)}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 53, 2 ** 53) | TEXT.filter(lambda s: len(s) < 30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT.filter(lambda s: len(s) < 10),
                                                                inner, max_size=4),
    max_leaves=15)


@HYP
@given(JSON)
def test_hyp_jsonb(runner, doc):
    row = runner.row("SELECT $1::jsonb AS v, $1::jsonb = $2::text::jsonb AS same",
                     [PyJSON(doc), json.dumps(doc)])
    assert row == {"v": doc, "same": True}
