"""Randomised round trips over every type a built-in codec family codes.

For each type T a strategy draws cases (value, literal, want): a Python
value, a text literal for the same value built here independently of the
driver, and the value the driver should decode (the value itself, or its
documented normalisation).  Each case runs

    SELECT $1::T, $1::T::text, $2::text::T, $2::text::T::text

with the value as $1 and the literal as $2 (test_types.py's scheme), and

  1. our encoding of the value, decoded again by us, is `want`, and so is
     the server's parse of the literal, decoded by us;
  2. the server's text of our parameter is its text of the literal, so the
     encoder is checked against the server's own parser;
  3. in a text-format result (which a column without a binary decoder
     brings about) both decode to `want` through the text decoders, or to
     the server's text where a codec has none (reg*, composite types,
     hstore).

Normalisations expected in `want`: discrete ranges canonicalised and
multiranges sorted and merged by the server; boxes with the upper right
corner first; char(n) blank-padded, varchar(n) and char(n) cut to n
characters; numeric with the server's scale (no exponent); money with two
fraction digits; timestamptz in UTC; an interval without months as a
timedelta; macaddr in the server's form (macaddr8 from 6 bytes with ff:fe
in the middle); pg_lsn in upper case; xml without a newline at its
start (the server's output function drops it).  For jsonpath, tsvector and tsquery,
whose text the server rewrites, `want` is the server's text of the literal.

Every type also goes as an array: nested lists of 1 to 3 dimensions with
NULLs, and empty.  Enums, composite types, domains, a range type of float8
with its multirange and hstore are created in a schema of this module's
own, dropped at the end.

Left out: `unknown` has no cast from text (only the first check runs for
it); a finite 9999-12-31 or 0001-01-01 date, and the timestamps at
datetime.max/min, decode as the infinities; an interval without months
beyond timedelta's range (about 2.7 million years) cannot be decoded.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import math
import secrets
import string
import struct
import uuid
from decimal import Decimal
from typing import Any, Callable, NamedTuple, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import FIXED_SESSION
from psqlpy.extra_types import (
    Box, Circle, Interval, Line, LineSegment, Path, Point, Polygon, PyJSON, Range,
)
from test_types import PoolRunner

UTC = dt.timezone.utc
NAN, INF = float("nan"), float("inf")
SCHEMA = f"hyp_{secrets.token_hex(4)}"
# money's text form and its two fraction digits depend on lc_monetary
SESSION = {**FIXED_SESSION, "lc_monetary": "C"}

HYP = settings(max_examples=40, deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HYP_ARRAY = settings(HYP, max_examples=20)


# ---------------------------------------------------------------------------
# comparison


def same(got: Any, want: Any) -> bool:
    """Equal and of the same Python type, item by item in lists, tuples
    (named tuples: the same class) and dicts; NaN equals NaN; the sign of a
    float zero, a Decimal's exponent and the UTC offset of a time or
    datetime count."""
    if type(got) is not type(want):
        return False
    if isinstance(want, (list, tuple)):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    if isinstance(want, dict):
        return got.keys() == want.keys() and all(same(got[k], want[k]) for k in want)
    if isinstance(want, float):
        if math.isnan(want):
            return math.isnan(got)
        return got == want and math.copysign(1, got) == math.copysign(1, want)
    if isinstance(want, Decimal):
        if want.is_nan():
            return got.is_nan()
        return got == want and (not want.is_finite()
                                or got.as_tuple().exponent == want.as_tuple().exponent)
    if isinstance(want, (dt.datetime, dt.time)):
        return got == want and got.utcoffset() == want.utcoffset()
    return got == want


class Case(NamedTuple):
    value: Any      # sent as $1
    literal: str    # sent as $2, text the server parses
    want: Any       # what both decode to


TEXT = object()     # want: the server's text of the literal (str types it rewrites)
PARSED = object()   # want: whatever the server's parse of the literal decodes to


class Spec(NamedTuple):
    cases: st.SearchStrategy        # of Case
    textcast: str = "::text"        # how the server's text is taken
    array: bool = True              # also test T[]
    parse: str = "$2::text::{}"     # how the server parses the literal as T
    delim: str = ","                # array element delimiter (box: ';')


def check(r: PoolRunner, pgtype: str, case: Case, textcast: str = "::text",
          parse: str = "$2::text::{}") -> None:
    parsed = parse.format(pgtype)
    row = r.row(
        f"SELECT $1::{pgtype} AS sent, $1::{pgtype}{textcast} AS sent_text, "
        f"{parsed} AS parsed, {parsed}{textcast} AS parsed_text",
        [case.value, case.literal])
    assert row["sent_text"] == row["parsed_text"], (
        f"{case.value!r} reached the server as {row['sent_text']!r}, "
        f"the literal {case.literal!r} as {row['parsed_text']!r}")
    want = case.want
    if want is TEXT:
        want = row["parsed_text"]
    elif want is PARSED:
        want = row["parsed"]
    assert same(row["sent"], want), f"{case.value!r} came back as {row['sent']!r}"
    assert same(row["parsed"], want), f"{case.literal!r} was decoded as {row['parsed']!r}"


def check_text_result(r: PoolRunner, pgtype: str, case: Case, parse: str = "$2::text::{}",
                      text_as: Optional[str] = None) -> None:
    """The same in a text-format result (a tsvector column brings the whole
    result in text): the codecs' text decoders give `want` too.  A type
    whose codec has none comes back as its text: `text_as` is the cast
    that gives that (::text, for an array ::text[])."""
    parsed = parse.format(pgtype)
    row = r.row(
        f"SELECT $1::{pgtype} AS sent, {parsed} AS parsed, {parsed}::text AS parsed_text, "
        + (f"$1::{pgtype}{text_as} AS as_text, " if text_as else "")
        + "NULL::tsvector AS text_only", [case.value, case.literal])
    want = case.want
    if text_as:
        want = row["as_text"]
    elif want is TEXT:
        want = row["parsed_text"]
    elif want is PARSED:
        want = row["parsed"]
    assert same(row["sent"], want), f"{case.value!r} came back in text as {row['sent']!r}"
    assert same(row["parsed"], want), (
        f"{case.literal!r} was decoded from text as {row['parsed']!r}")


# ---------------------------------------------------------------------------
# literals


def quoted(text: str, q: str = '"') -> str:
    """`text` in double quotes with '"' and '\\' backslash-escaped: an
    array element, a range bound, an hstore key or value."""
    return q + text.replace("\\", "\\\\").replace('"', '\\"') + q


def float_lit(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)


def decimal_lit(d: Decimal) -> str:
    return {"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity"}.get(str(d)) \
        or format(d, "f")


def server_decimal(d: Decimal) -> Decimal:
    """`d` as numeric keeps it: positional, the scale its exponent's (0 at
    least), no negative zero."""
    if not d.is_finite():
        return Decimal(str(d).lstrip("+"))
    return Decimal(format(d, "f").lstrip("-")) if d.is_zero() else Decimal(format(d, "f"))


# ---------------------------------------------------------------------------
# scalar strategies, one per type


def ints(lo: int, hi: int) -> st.SearchStrategy:
    n = st.one_of(st.sampled_from([v for v in (lo, hi, -1, 0, 1) if lo <= v <= hi]),
                  st.integers(lo, hi))
    return n.map(lambda v: Case(v, str(v), v))


CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
ASTRAL = st.characters(min_codepoint=0x10000, blacklist_categories=("Cs",))
TEXTS = st.text(alphabet=st.one_of(CHARS, ASTRAL, st.sampled_from(' "\\{},()\'\n\t')),
                max_size=40)


def floats8() -> st.SearchStrategy:
    x = st.one_of(st.sampled_from([NAN, INF, -INF, -0.0, 5e-324, 1.7976931348623157e308]),
                  st.floats())
    return x.map(lambda v: Case(v, float_lit(v), v))


def floats4() -> st.SearchStrategy:
    # float4 values are exact in a double; a double sent as float4 is rounded
    # to the nearest float4 (width=32 draws only exact ones; the second
    # strategy draws doubles within float4's range and rounds them here)
    def f4(v: float) -> float:
        return struct.unpack("f", struct.pack("f", v))[0]
    exact = st.floats(width=32).map(lambda v: Case(v, float_lit(v), v))
    # (one that would round to zero is refused, as the server's float8 to
    # float4 cast refuses it)
    rounded = st.floats(-3.4e38, 3.4e38).filter(lambda v: v == 0 or f4(v) != 0).map(
        lambda v: Case(v, float_lit(f4(v)), f4(v)))
    return st.one_of(exact, rounded)


@st.composite
def decimals(draw) -> Decimal:
    if draw(st.integers(0, 9)) == 0:
        return Decimal(draw(st.sampled_from(["NaN", "Infinity", "-Infinity"])))
    digits = draw(st.one_of(st.integers(0, 10 ** 40), st.integers(0, 10 ** 200)))
    exp = draw(st.one_of(st.integers(-40, 40), st.integers(-1100, 100)))
    sign = "-" if draw(st.booleans()) else ""
    return Decimal(f"{sign}{digits}E{exp}")


def numerics() -> st.SearchStrategy:
    dec = decimals().map(lambda d: Case(d, decimal_lit(d), server_decimal(d)))
    # ints beyond int64 are sent as numeric too
    big = st.integers(-10 ** 60, 10 ** 60).map(lambda n: Case(n, str(n), Decimal(n)))
    # a float goes as its repr
    flo = floats8().map(lambda c: Case(c.value, c.literal,
                                       server_decimal(Decimal(repr(c.value)))))
    return st.one_of(dec, big, flo)


def bools() -> st.SearchStrategy:
    forms = st.sampled_from([("false", "true"), ("f", "t"), ("no", "yes"), ("0", "1")])
    return st.builds(lambda b, f: Case(b, f[b], b), st.booleans(), forms)


def texts() -> st.SearchStrategy:
    return TEXTS.map(lambda s: Case(s, s, s))


def varchar_n(n: int) -> st.SearchStrategy:
    return TEXTS.map(lambda s: Case(s, s, s[:n]))


def bpchar_n(n: int) -> st.SearchStrategy:
    return TEXTS.map(lambda s: Case(s, s, s[:n].ljust(n)))


def names() -> st.SearchStrategy:
    return TEXTS.filter(lambda s: len(s.encode()) <= 63).map(lambda s: Case(s, s, s))


def chars() -> st.SearchStrategy:
    # "char": one byte; its text is the character for 1..127, "" for 0 and
    # \ooo for 128..255 (charout), and that text is what decodes
    def one(b: int) -> Case:
        t = "" if b == 0 else chr(b) if b < 128 else f"\\{b:03o}"
        return Case(t, t, t)
    return st.integers(0, 255).map(one)


def byteas() -> st.SearchStrategy:
    def one(b: bytes, hexform: bool) -> Case:
        lit = "\\x" + b.hex() if hexform else "".join(f"\\{c:03o}" for c in b)
        return Case(b, lit, b)
    return st.builds(one, st.binary(max_size=80), st.booleans())


def uuids() -> st.SearchStrategy:
    forms = [str, lambda u: u.hex.upper(), lambda u: "{" + str(u) + "}"]
    return st.builds(lambda u, f: Case(u, f(u), u),
                     st.one_of(st.sampled_from([uuid.UUID(int=0), uuid.UUID(int=2 ** 128 - 1)]),
                               st.uuids()),
                     st.sampled_from(forms))


JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()),
    TEXTS)
JSON_DOCS = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXTS, inner, max_size=4),
    max_leaves=12)


def jsons(elements: bool = False) -> st.SearchStrategy:
    """A dict or list goes as itself, or as PyJSON, or as JSON text; in an
    array (elements) a list would be a dimension, so only dicts go as they
    are."""
    def one(doc: Any, how: int) -> Case:
        lit = json.dumps(doc)
        if isinstance(doc, dict) and how == 0:
            return Case(doc, lit, doc)
        if isinstance(doc, list) and how == 0 and not elements:
            return Case(doc, lit, doc)
        if how == 1 and not elements:
            return Case(PyJSON(doc), lit, doc)
        return Case(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), lit, doc)
    return st.builds(one, JSON_DOCS, st.integers(0, 2))


DATE_LO, DATE_HI = dt.date(1, 1, 2), dt.date(9999, 12, 30)
TS_LO = dt.datetime.min + dt.timedelta(microseconds=1)
TS_HI = dt.datetime.max - dt.timedelta(microseconds=1)


def date_lit(d: dt.date) -> str:
    return {dt.date.max: "infinity", dt.date.min: "-infinity"}.get(d) or d.isoformat()


def dates() -> st.SearchStrategy:
    d = st.one_of(st.sampled_from([dt.date.max, dt.date.min, DATE_LO, DATE_HI,
                                   dt.date(2000, 2, 29), dt.date(1970, 1, 1)]),
                  st.dates(DATE_LO, DATE_HI))
    return d.map(lambda v: Case(v, date_lit(v), v))


def times() -> st.SearchStrategy:
    t = st.one_of(st.sampled_from([dt.time(0), dt.time(23, 59, 59, 999999)]), st.times())
    return t.map(lambda v: Case(v, v.isoformat(), v))


# timetz and timestamptz input take offsets of less than 16 hours
OFFSET_MAX = 16 * 3600 - 1
OFFSETS = st.one_of(
    st.sampled_from([0, OFFSET_MAX, -OFFSET_MAX, 19800, -34200]),
    st.integers(-(OFFSET_MAX // 60), OFFSET_MAX // 60).map(lambda m: m * 60),
    st.integers(-OFFSET_MAX, OFFSET_MAX),
).map(lambda s: UTC if s == 0 else dt.timezone(dt.timedelta(seconds=s)))


def timetzs() -> st.SearchStrategy:
    t = st.times(timezones=OFFSETS)
    return t.map(lambda v: Case(v, v.isoformat(), v))


def ts_lit(v: dt.datetime) -> str:
    if v.replace(tzinfo=None) == dt.datetime.max:
        return "infinity"
    if v.replace(tzinfo=None) == dt.datetime.min:
        return "-infinity"
    return v.isoformat(" ")


def timestamps() -> st.SearchStrategy:
    t = st.one_of(st.sampled_from([dt.datetime.max, dt.datetime.min, TS_LO, TS_HI,
                                   dt.datetime(1970, 1, 1), dt.datetime(2000, 1, 1)]),
                  st.datetimes(TS_LO, TS_HI))
    return t.map(lambda v: Case(v, ts_lit(v), v))


def aware_datetimes() -> st.SearchStrategy:
    # local times whose UTC time stays within datetime's range; fixed
    # offsets (seconds too) and the zones of the tz database
    local = st.datetimes(dt.datetime(1, 1, 2), dt.datetime(9999, 12, 30),
                         timezones=st.one_of(OFFSETS, st.timezones()))
    return st.one_of(st.sampled_from([dt.datetime.max.replace(tzinfo=UTC),
                                      dt.datetime.min.replace(tzinfo=UTC)]), local)


def timestamptzs() -> st.SearchStrategy:
    def one(v: dt.datetime) -> Case:
        if v.replace(tzinfo=None) in (dt.datetime.max, dt.datetime.min):
            return Case(v, ts_lit(v), v)
        return Case(v, ts_lit(v), v.astimezone(UTC))
    return aware_datetimes().map(one)


def intervals() -> st.SearchStrategy:
    # timedelta: days and seconds, sent as days and microseconds
    tds = st.one_of(st.sampled_from([dt.timedelta.max, dt.timedelta.min, dt.timedelta(0),
                                     dt.timedelta(microseconds=-1)]), st.timedeltas())
    td_cases = tds.map(lambda v: Case(
        v, f"{v.days} days {v.seconds * 10 ** 6 + v.microseconds} microseconds", v))

    # Interval with months; without months it decodes as a timedelta, so
    # then its days stay within timedelta's range
    def one(months: int, days: int, us: int) -> Case:
        v = Interval(months, days, us)
        lit = f"{months} mons {days} days {us} microseconds"
        if months:
            return Case(v, lit, v)
        return Case(v, lit, dt.timedelta(days=days, microseconds=us))
    i32 = st.one_of(st.sampled_from([0, 2 ** 31 - 1, -2 ** 31]), st.integers(-2 ** 31, 2 ** 31 - 1))
    us = st.one_of(st.sampled_from([0, 2 ** 63 - 1, -2 ** 63]), st.integers(-2 ** 63, 2 ** 63 - 1),
                   st.integers(-10 ** 11, 10 ** 11))
    months = st.one_of(i32, st.integers(-1000, 1000))
    with_months = st.builds(one, months.filter(bool), i32, us)
    no_months = st.builds(one, st.just(0), st.integers(-10 ** 8, 10 ** 8),
                          st.integers(-10 ** 15, 10 ** 15))
    return st.one_of(td_cases, with_months, no_months)


# ---- geometric


def coord() -> st.SearchStrategy:
    return st.one_of(st.floats(-1e6, 1e6), st.floats(),
                     st.sampled_from([NAN, INF, -INF, -0.0, 0.0]))


def point_lit(p) -> str:
    return f"({float_lit(p[0])},{float_lit(p[1])})"


def points() -> st.SearchStrategy:
    def one(x: float, y: float, plain: bool) -> Case:
        p = Point(x, y)
        return Case((x, y) if plain else p, point_lit(p), p)
    return st.builds(one, coord(), coord(), st.booleans())


def lines() -> st.SearchStrategy:
    # line_in and line_recv refuse A and B both zero (within 1e-6)
    def one(a: float, b: float, c: float) -> Case:
        v = Line(a, b, c)
        return Case(v, "{" + ",".join(map(float_lit, v)) + "}", v)
    return st.builds(one, coord(), coord(), coord()).filter(
        lambda c: not (abs(c.want.a) <= 1e-6 and abs(c.want.b) <= 1e-6))


def lsegs() -> st.SearchStrategy:
    def one(a: float, b: float, c: float, d: float) -> Case:
        v = LineSegment(Point(a, b), Point(c, d))
        return Case(v, f"[{point_lit(v.start)},{point_lit(v.end)}]", v)
    return st.builds(one, coord(), coord(), coord(), coord())


def float8_lt(a: float, b: float) -> bool:
    """The server's float8 order: NaN above everything, equal to NaN."""
    if math.isnan(a):
        return False
    return math.isnan(b) or a < b


def boxes() -> st.SearchStrategy:
    # the server swaps coordinates so that high is the upper right corner
    def one(x1: float, y1: float, x2: float, y2: float) -> Case:
        hx, lx = (x2, x1) if float8_lt(x1, x2) else (x1, x2)
        hy, ly = (y2, y1) if float8_lt(y1, y2) else (y1, y2)
        v = ((x1, y1), (x2, y2))
        return Case(v, f"{point_lit(v[0])},{point_lit(v[1])}",
                    Box(Point(hx, hy), Point(lx, ly)))
    return st.builds(one, coord(), coord(), coord(), coord())


POINT_LISTS = st.lists(st.tuples(coord(), coord()).map(lambda p: Point(*p)),
                       min_size=1, max_size=6).map(tuple)


def paths() -> st.SearchStrategy:
    def one(pts: tuple, closed: bool) -> Case:
        v = Path(pts, closed)
        body = ",".join(map(point_lit, pts))
        return Case(v, f"({body})" if closed else f"[{body}]", v)
    return st.builds(one, POINT_LISTS, st.booleans())


def polygons() -> st.SearchStrategy:
    def one(pts: tuple) -> Case:
        v = Polygon(pts)
        return Case(v, "(" + ",".join(map(point_lit, pts)) + ")", v)
    return POINT_LISTS.map(one)


def circles() -> st.SearchStrategy:
    radius = st.one_of(st.floats(0, 1e6), st.floats(min_value=0.0),
                       st.sampled_from([0.0, -0.0, INF, NAN]))

    def one(x: float, y: float, rad: float) -> Case:
        v = Circle(Point(x, y), rad)
        return Case(v, f"<{point_lit(v.center)},{float_lit(rad)}>", v)
    return st.builds(one, coord(), coord(), radius)


# ---- ranges


class Sub(NamedTuple):
    """A range subtype: how to draw a bound, write it, order it, and the
    next value for discrete types (None: continuous)."""
    values: st.SearchStrategy       # of (value, want)
    lit: Callable[[Any], str]
    key: Callable[[Any], Any]
    succ: Optional[Callable[[Any], Any]] = None
    finite: Callable[[Any], bool] = lambda v: True
    top: Any = None                 # the largest finite value (no successor)
    # for multiranges, values written one way only: of two equal bounds
    # (1.0 and 1.00, 0.0 and -0.0) which one a merged range keeps is the
    # server's sort's choice
    mvalues: Optional[st.SearchStrategy] = None


I4, I8 = (-2 ** 31, 2 ** 31 - 1), (-2 ** 63, 2 ** 63 - 1)


def int_sub(lo: int, hi: int) -> Sub:
    vals = st.one_of(st.sampled_from([lo, hi, 0]), st.integers(-20, 20), st.integers(lo, hi))
    return Sub(vals.map(lambda v: (v, v)), str, lambda v: v, lambda v: v + 1, top=hi)


def decimal_key(d: Decimal):
    return (1, 0) if d.is_nan() else (0, d)


def float_key(x: float):
    return (1, 0.0) if math.isnan(x) else (0, x)


SUBS = {
    "int4range": int_sub(*I4),
    "int8range": int_sub(*I8),
    "numrange": Sub(
        st.one_of(decimals(), st.integers(-50, 50).map(Decimal),
                  st.floats(-1e6, 1e6).map(lambda x: Decimal(repr(x))))
        .map(lambda d: (d, server_decimal(d))),
        lambda d: decimal_lit(d), lambda d: decimal_key(server_decimal(d)),
        mvalues=st.one_of(st.sampled_from([Decimal("Infinity"), Decimal("-Infinity")]),
                          st.integers(-10 ** 6, 10 ** 6).map(lambda n: Decimal(n).scaleb(-2)))
        .map(lambda d: (d, d))),
    "daterange": Sub(
        st.one_of(st.sampled_from([dt.date.max, dt.date.min]),
                  st.dates(DATE_LO, dt.date(9999, 12, 29)),
                  st.dates(dt.date(2000, 1, 1), dt.date(2000, 1, 10)))
        .map(lambda d: (d, d)),
        date_lit, lambda d: d, lambda d: d + dt.timedelta(days=1),
        lambda d: d not in (dt.date.max, dt.date.min)),
    "tsrange": Sub(timestamps().map(lambda c: (c.value, c.want)), ts_lit, lambda v: v),
    "tstzrange": Sub(timestamptzs().map(lambda c: (c.value, c.want)), ts_lit,
                     lambda v: v.astimezone(UTC)),
    f"{SCHEMA}.floatrange": Sub(
        st.one_of(coord(), st.integers(-5, 5).map(float)).map(lambda x: (x, x)),
        float_lit, float_key,
        mvalues=st.one_of(coord(), st.integers(-5, 5).map(float)).map(
            lambda x: (x + 0.0, x + 0.0))),  # no -0.0
}
MULTI = {"int4range": "int4multirange", "int8range": "int8multirange",
         "numrange": "nummultirange", "daterange": "datemultirange",
         "tsrange": "tsmultirange", "tstzrange": "tstzmultirange",
         f"{SCHEMA}.floatrange": f"{SCHEMA}.floatmulti"}
EMPTY = Range(None, None, "()", True)


class Bound(NamedTuple):
    value: Any          # as sent
    want: Any           # as decoded
    inc: bool


def canonical(sub: Sub, lo: Optional[Bound], hi: Optional[Bound]) -> Optional[tuple]:
    """What the server makes of a range with these bounds (None: unbounded,
    lo not above hi): None for empty, else (lo, hi) with discrete bounds
    made '[)'."""
    if lo is not None and hi is not None:
        if sub.key(lo.want) == sub.key(hi.want) and not (lo.inc and hi.inc):
            return None
    if sub.succ is not None:
        if lo is not None and not lo.inc and sub.finite(lo.want):
            lo = Bound(None, sub.succ(lo.want), True)
        if hi is not None and hi.inc and sub.finite(hi.want):
            hi = Bound(None, sub.succ(hi.want), False)
        if (lo is not None and hi is not None and sub.key(lo.want) >= sub.key(hi.want)
                and not (lo.inc and hi.inc)):  # [infinity,infinity] stays
            return None
    return lo, hi


def bounds_of(lo: Optional[Bound], hi: Optional[Bound]) -> str:
    return ("[" if lo is not None and lo.inc else "(") + ("]" if hi is not None and hi.inc else ")")


def range_want(c: Optional[tuple]) -> Range:
    if c is None:
        return EMPTY
    lo, hi = c
    return Range(None if lo is None else lo.want, None if hi is None else hi.want,
                 bounds_of(lo, hi), False)


def range_lit(sub: Sub, lo: Optional[Bound], hi: Optional[Bound], empty: bool) -> str:
    if empty:
        return "empty"
    b = bounds_of(lo, hi)
    return (b[0] + ("" if lo is None else quoted(sub.lit(lo.value))) + ","
            + ("" if hi is None else quoted(sub.lit(hi.value))) + b[1])


@st.composite
def range_parts(draw, sub: Sub):
    """(lo, hi, empty): bounds in order, None for unbounded."""
    if draw(st.integers(0, 15)) == 0:
        return None, None, True
    a, b = draw(sub.values), draw(sub.values)
    if sub.key(a[1]) > sub.key(b[1]):
        a, b = b, a
    lo = None if draw(st.integers(0, 5)) == 0 else Bound(a[0], a[1], draw(st.booleans()))
    hi = None if draw(st.integers(0, 5)) == 0 else Bound(b[0], b[1], draw(st.booleans()))
    if sub.top is not None:  # no successor of the largest value
        if lo is not None and lo.want == sub.top:
            lo = lo._replace(inc=True)
        if hi is not None and hi.want == sub.top:
            hi = hi._replace(inc=False)
    return lo, hi, False


def range_value(lo: Optional[Bound], hi: Optional[Bound], empty: bool, form: int):
    if empty:
        return Range(empty=True) if form else (None, None, "()", True)
    bounds = bounds_of(lo, hi)
    lv, hv = None if lo is None else lo.value, None if hi is None else hi.value
    if form == 0:
        return (lv, hv, bounds)
    if form == 1 and bounds == "[)":
        return Range(lv, hv)
    return Range(lv, hv, bounds)


def ranges(pgtype: str) -> st.SearchStrategy:
    sub = SUBS[pgtype]

    def one(parts, form: int) -> Case:
        lo, hi, empty = parts
        want = EMPTY if empty else range_want(canonical(sub, lo, hi))
        return Case(range_value(lo, hi, empty, form), range_lit(sub, lo, hi, empty), want)
    return st.builds(one, range_parts(sub), st.integers(0, 2))


def merged(sub: Sub, parts: list) -> list:
    """The ranges of a multirange as the server keeps them: canonical, no
    empty ones, sorted by lower bound, overlapping and adjacent ones merged."""
    rs = [c for lo, hi, empty in parts if not empty
          for c in [canonical(sub, lo, hi)] if c is not None]

    def lower_key(c):
        lo = c[0]
        return (0,) if lo is None else (1, sub.key(lo.want), not lo.inc)
    rs.sort(key=lower_key)
    out: list = []
    for lo, hi in rs:
        if out:
            clo, chi = out[-1]
            touches = (chi is None or lo is None or sub.key(lo.want) < sub.key(chi.want)
                       or (sub.key(lo.want) == sub.key(chi.want) and (lo.inc or chi.inc)))
            if touches:
                if chi is None or hi is None:
                    nhi = None
                elif sub.key(hi.want) > sub.key(chi.want):
                    nhi = hi
                elif sub.key(hi.want) == sub.key(chi.want):
                    nhi = chi._replace(inc=chi.inc or hi.inc)
                else:
                    nhi = chi
                out[-1] = (clo, nhi)
                continue
        out.append((lo, hi))
    return [range_want(c) for c in out]


def multiranges(pgtype: str) -> st.SearchStrategy:
    sub = SUBS[pgtype]
    if sub.mvalues is not None:
        sub = sub._replace(values=sub.mvalues)

    def one(parts: list, form: int) -> Case:
        value = tuple(range_value(lo, hi, e, form) for lo, hi, e in parts)
        lit = "{" + ",".join(range_lit(sub, lo, hi, e) for lo, hi, e in parts) + "}"
        return Case(value, lit, merged(sub, parts))
    return st.builds(one, st.lists(range_parts(sub), max_size=5), st.integers(0, 2))


# ---- net, money, bits


def addresses() -> st.SearchStrategy:
    v4 = st.one_of(st.integers(0, 2 ** 32 - 1), st.sampled_from([0, 2 ** 32 - 1])).map(
        ipaddress.IPv4Address)
    v6 = st.one_of(
        st.integers(0, 2 ** 128 - 1),
        st.sampled_from([0, 1, 2 ** 128 - 1, 0xFFFF << 32, (0xFFFF << 32) | 0x01020304,
                         0x01020304, 0x20010DB8 << 96, 1 << 64]),
        # runs of zero groups in various places
        st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xABC]), min_size=8, max_size=8)
        .map(lambda gs: int("".join(f"{g:04x}" for g in gs), 16)),
    ).map(ipaddress.IPv6Address)
    return st.one_of(v4, v6)


@st.composite
def inets(draw) -> Case:
    addr = draw(addresses())
    bits = draw(st.one_of(st.integers(0, addr.max_prefixlen), st.just(addr.max_prefixlen)))
    iface = ipaddress.ip_interface((addr, bits))
    form = draw(st.integers(0, 2))
    value = str(iface) if form == 1 else addr if form == 2 and bits == addr.max_prefixlen \
        else iface
    return Case(value, str(iface), iface)


@st.composite
def cidrs(draw) -> Case:
    addr = draw(addresses())
    bits = draw(st.integers(0, addr.max_prefixlen))
    net = ipaddress.ip_network((addr, bits), strict=False)
    form = draw(st.integers(0, 2))
    value = str(net) if form == 1 else net.network_address \
        if form == 2 and bits == addr.max_prefixlen else net
    return Case(value, str(net), net)


def mac_forms(h: str, n: int) -> list:
    pairs = [h[i:i + 2] for i in range(0, 2 * n, 2)]
    quads = [h[i:i + 4] for i in range(0, 2 * n, 4)]
    forms = [":".join(pairs), "-".join(pairs), ".".join(quads), h]
    if n == 6:
        forms += [h[:6] + ":" + h[6:], h[:6] + "-" + h[6:], "-".join(quads)]
    return forms


@st.composite
def macaddrs(draw, n: int) -> Case:
    raw = draw(st.binary(min_size=n, max_size=n))
    h = raw.hex()
    forms = mac_forms(h, n)
    value, lit = draw(st.sampled_from(forms)), draw(st.sampled_from(forms))
    if draw(st.booleans()):
        value = value.upper()
    return Case(value, lit, ":".join(h[i:i + 2] for i in range(0, 2 * n, 2)))


@st.composite
def macaddr8s(draw) -> Case:
    if draw(st.booleans()):
        return draw(macaddrs(8))
    # six bytes: the server puts ff:fe in the middle
    raw = draw(st.binary(min_size=6, max_size=6))
    h = raw.hex()
    pairs = [h[i:i + 2] for i in range(0, 12, 2)]
    value = draw(st.sampled_from([":".join(pairs), "-".join(pairs), h]))
    return Case(value, ":".join(pairs), ":".join(pairs[:3] + ["ff", "fe"] + pairs[3:]))


@st.composite
def moneys(draw) -> Case:
    cents = draw(st.one_of(st.sampled_from([2 ** 63 - 1, -2 ** 63, 0, 1, -1, 100]),
                           st.integers(-2 ** 63, 2 ** 63 - 1), st.integers(-10 ** 6, 10 ** 6)))
    sign, whole, frac = "-" if cents < 0 else "", abs(cents) // 100, abs(cents) % 100
    want = Decimal(f"{sign}{whole}.{frac:02d}")
    form = draw(st.integers(0, 3))
    if form == 0:
        value: Any = want
    elif form == 1:
        value = f"{sign}{whole}.{frac:02d}"
    elif form == 2 and frac == 0:
        value = -whole if sign else whole
    else:
        value = want.normalize() if want else want   # fewer fraction digits, or an exponent
    return Case(value, f"{sign}{whole}.{frac:02d}", want)


def bit_lit(b: str, hexform: bool) -> str:
    if hexform and b and len(b) % 4 == 0:
        return "X" + "".join(f"{int(b[i:i + 4], 2):X}" for i in range(0, len(b), 4))
    return "B" + b


def bits_n(n: int) -> st.SearchStrategy:
    b = st.text(alphabet="01", min_size=n, max_size=n)
    return st.builds(lambda s, h: Case(s, bit_lit(s, h), s), b, st.booleans())


def varbits() -> st.SearchStrategy:
    b = st.one_of(st.text(alphabet="01", max_size=20), st.text(alphabet="01", max_size=300))
    return st.builds(lambda s, h: Case(s, bit_lit(s, h), s), b, st.booleans())


# ---- sysid

# reg* types: real OIDs of the catalog (the server's text is a name) and
# any others (their text is the number); the literal is always the number
REG_CATALOGS = {
    "regproc": "pg_proc", "regprocedure": "pg_proc", "regoper": "pg_operator",
    "regoperator": "pg_operator", "regclass": "pg_class", "regtype": "pg_type",
    "regconfig": "pg_ts_config", "regdictionary": "pg_ts_dict",
    "regnamespace": "pg_namespace", "regrole": "pg_authid", "regcollation": "pg_collation",
}
CATALOG_OIDS: dict = {}


def regs(pgtype: str) -> st.SearchStrategy:
    oid = st.one_of(st.deferred(lambda: st.sampled_from(CATALOG_OIDS[pgtype])),
                    st.integers(0, 2 ** 32 - 1))
    return oid.map(lambda o: Case(o, str(o), o))


def tids(elements: bool = False) -> st.SearchStrategy:
    """A tuple, or a list but not in an array (where it is a dimension)."""
    def one(b: int, o: int, plain: bool) -> Case:
        return Case([b, o] if plain and not elements else (b, o), f"({b},{o})", (b, o))
    return st.builds(one, st.integers(0, 2 ** 32 - 1), st.integers(0, 65535), st.booleans())


def lsns() -> st.SearchStrategy:
    def one(n: int, form: int) -> Case:
        hi, lo = n >> 32, n & 0xFFFFFFFF
        value: Any = n if form == 0 else f"{hi:X}/{lo:X}" if form == 1 else f"{hi:x}/{lo:x}"
        return Case(value, f"{hi:x}/{lo:08x}", f"{hi:X}/{lo:X}")
    return st.builds(one, st.one_of(st.integers(0, 2 ** 64 - 1),
                                    st.sampled_from([0, 2 ** 64 - 1, 2 ** 32])),
                     st.integers(0, 2))


# ---- textlike

XML_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff")
XML_TEXT = st.text(alphabet=st.one_of(XML_CHARS, st.sampled_from("\n\t")), max_size=20)
XML_NAMES = st.text(alphabet=string.ascii_letters, min_size=1, max_size=6)


def xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


XML_NODES = st.recursive(
    XML_TEXT.map(xml_escape),
    lambda inner: st.builds(
        lambda tag, attrs, kids: f"<{tag}" + "".join(f' {k}="{xml_escape(v)}"'
                                                    for k, v in attrs.items())
        + (f">{''.join(kids)}</{tag}>" if kids else "/>"),
        XML_NAMES, st.dictionaries(XML_NAMES, XML_TEXT, max_size=2),
        st.lists(inner, max_size=3)),
    max_leaves=6)


def xmls() -> st.SearchStrategy:
    # the server's output function (xml_send too) drops one newline at the
    # start, where an XML declaration it leaves out would end
    return XML_NODES.map(lambda s: Case(s, s, s[1:] if s.startswith("\n") else s))


JP_KEYS = st.text(alphabet=st.one_of(CHARS.filter(lambda c: c.isprintable()),
                                     st.sampled_from('"\\')), max_size=8)


def jp_key(k: str) -> str:
    return '"' + k.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def jsonpaths(draw) -> Case:
    steps = draw(st.lists(st.one_of(
        JP_KEYS.map(lambda k: "." + jp_key(k)),
        st.integers(0, 100).map(lambda n: f"[{n}]"),
        st.just("[*]"), st.just(".*"), st.just(".**"),
        st.sampled_from([".type()", ".size()", ".double()", ".abs()"]),
        st.integers(-50, 50).map(lambda n: f" ? (@ > {n})"),
        JP_KEYS.map(lambda k: f" ? (@.{jp_key(k)} == {json.dumps(k)})"),
    ), max_size=5))
    mode = draw(st.sampled_from(["", "lax ", "strict "]))
    text = mode + "$" + "".join(steps)
    return Case(text, text.replace(" ? ", "?"), TEXT)


LEXEMES = st.text(alphabet=st.one_of(st.sampled_from(string.ascii_lowercase + "é日😀"),
                                     st.sampled_from("'\\ :")), min_size=1, max_size=8)


def ts_quote(w: str) -> str:
    return "'" + w.replace("\\", "\\\\").replace("'", "''") + "'"


@st.composite
def tsvectors(draw) -> Case:
    # each lexeme once: the server merges a lexeme's positions, and which of
    # two equal positions keeps its weight follows the input's order (the
    # literal has the lexemes in the other order)
    entries = draw(st.lists(st.tuples(
        LEXEMES, st.lists(st.tuples(st.integers(1, 16383), st.sampled_from(["", "A", "B", "C"])),
                          max_size=3)), max_size=6, unique_by=lambda e: e[0]))

    def write(es) -> str:
        return " ".join(ts_quote(w) + (":" + ",".join(f"{p}{wt}" for p, wt in pos) if pos else "")
                        for w, pos in es)
    return Case(write(entries), write(list(reversed(entries))), TEXT)


TSQ = st.recursive(
    st.builds(lambda w, pre, wt: ts_quote(w) + (":" if pre or wt else "") + ("*" if pre else "")
              + wt, LEXEMES, st.booleans(), st.sampled_from(["", "A", "BC"])),
    lambda inner: st.one_of(
        st.builds(lambda a, op, b: f"( {a} {op} {b} )", inner,
                  st.sampled_from(["&", "|", "<->", "<2>"]), inner),
        inner.map(lambda a: f"!( {a} )")),
    max_leaves=5)


def tsqueries() -> st.SearchStrategy:
    return TSQ.map(lambda q: Case(q, q.replace("( ", "(").replace(" )", ")"), TEXT))


# ---- types of this module's schema

LABELS = ["sad", "ok", "très bien", 'with "quotes"', "back\\slash", "emoji 😀", "a,b (c)",
          " spaced ", "NULL"]


def enums() -> st.SearchStrategy:
    return st.sampled_from(LABELS).map(lambda s: Case(s, s, s))


def domain_ints() -> st.SearchStrategy:
    return ints(1, 2 ** 31 - 1)


def domain_tags() -> st.SearchStrategy:
    return array_cases(texts(), max_dims=1)


def rec_lit(fields: list) -> str:
    """A composite literal: NULL fields empty, the others in double quotes
    with '"' and '\\' doubled."""
    return "(" + ",".join("" if f is None else
                          '"' + f.replace("\\", "\\\\").replace('"', '""') + '"'
                          for f in fields) + ")"


def nullable(cases: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), cases)


def composites(parts: list) -> st.SearchStrategy:
    def one(cs: list) -> Case:
        return Case(tuple(None if c is None else c.value for c in cs),
                    rec_lit([None if c is None else c.literal for c in cs]),
                    tuple(None if c is None else c.want for c in cs))
    return st.tuples(*[nullable(p) for p in parts]).map(lambda cs: one(list(cs)))


def inner_rows() -> st.SearchStrategy:
    return composites([floats8(), texts()])


def outer_rows() -> st.SearchStrategy:
    return composites([ints(*I8), texts(), numerics(),
                       bools(), enums(), inner_rows(), array_cases(ints(*I4), max_dims=1),
                       timestamptzs(), ranges("int4range"), inets(), byteas()])


def hstores() -> st.SearchStrategy:
    def one(d: dict) -> Case:
        lit = ", ".join(quoted(k) + "=>" + ("NULL" if v is None else quoted(v))
                        for k, v in d.items())
        return Case(d, lit, d)
    return st.dictionaries(TEXTS, st.one_of(st.none(), TEXTS), max_size=6).map(one)


# ---------------------------------------------------------------------------
# arrays


@st.composite
def array_cases(draw, elem: st.SearchStrategy, max_dims: int = 3, delim: str = ",") -> Case:
    """Nested lists of 1 to max_dims dimensions of elements or NULLs, or an
    empty array (also written [[]])."""
    if draw(st.integers(0, 9)) == 0:
        value = draw(st.sampled_from([[], [[]]] if max_dims > 1 else [[]]))
        return Case(value, "{}", [])
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=max_dims))
    cells = []

    def build(dims: list):
        if not dims:
            c = draw(nullable(elem))
            cells.append(c)
            return c
        return [build(dims[1:]) for _ in range(dims[0])]
    tree = build(shape)
    sentinel = any(c is not None and c.want in (TEXT, PARSED) for c in cells)

    def part(t, f):
        if isinstance(t, list):
            return [part(x, f) for x in t]
        return None if t is None else f(t)

    def lit(t) -> str:
        if isinstance(t, list):
            return "{" + delim.join(lit(x) for x in t) + "}"
        return "NULL" if t is None else quoted(t.literal)
    return Case(part(tree, lambda c: c.value), lit(tree),
                PARSED if sentinel else part(tree, lambda c: c.want))


# ---------------------------------------------------------------------------
# the types


SPECS = {
    # int
    "int2": Spec(ints(-2 ** 15, 2 ** 15 - 1)),
    "int4": Spec(ints(*I4)),
    "int8": Spec(ints(*I8)),
    "oid": Spec(ints(0, 2 ** 32 - 1)),
    # float
    "float4": Spec(floats4()),
    "float8": Spec(floats8()),
    # numeric
    "numeric": Spec(numerics()),
    # bool
    "bool": Spec(bools()),
    # text
    "text": Spec(texts()),
    "varchar": Spec(texts()),
    "varchar(5)": Spec(varchar_n(5)),
    "bpchar": Spec(texts()),
    "char(4)": Spec(bpchar_n(4)),
    "name": Spec(names()),
    '"char"': Spec(chars()),
    # bytea, uuid
    "bytea": Spec(byteas()),
    "uuid": Spec(uuids()),
    # json: json's own text keeps the input's spacing, so compare as jsonb
    "json": Spec(jsons(), textcast="::jsonb::text"),
    "jsonb": Spec(jsons()),
    # datetime
    "date": Spec(dates()),
    "time": Spec(times()),
    "timetz": Spec(timetzs()),
    "timestamp": Spec(timestamps()),
    "timestamptz": Spec(timestamptzs()),
    "interval": Spec(intervals()),
    # geometric
    "point": Spec(points()),
    "line": Spec(lines()),
    "lseg": Spec(lsegs()),
    "box": Spec(boxes(), delim=";"),
    "path": Spec(paths()),
    "polygon": Spec(polygons()),
    "circle": Spec(circles()),
    # range and multirange
    **{t: Spec(ranges(t)) for t in SUBS},
    **{MULTI[t]: Spec(multiranges(t)) for t in SUBS},
    # net
    "inet": Spec(inets()),
    "cidr": Spec(cidrs()),
    "macaddr": Spec(macaddrs(6)),
    "macaddr8": Spec(macaddr8s()),
    # money, bits
    "money": Spec(moneys()),
    "bit(1)": Spec(bits_n(1)),
    "bit(12)": Spec(bits_n(12)),
    "bit(67)": Spec(bits_n(67)),
    "varbit": Spec(varbits()),
    # sysid
    # (the cast from text to regclass looks a name up, regclassin takes a number)
    **{t: Spec(regs(t), parse="regclassin($2::text::cstring)" if t == "regclass"
               else "$2::text::{}") for t in REG_CATALOGS},
    "xid": Spec(ints(0, 2 ** 32 - 1)),
    "cid": Spec(ints(0, 2 ** 32 - 1)),
    "xid8": Spec(ints(0, 2 ** 64 - 1)),
    "tid": Spec(tids()),
    "pg_lsn": Spec(lsns()),
    # textlike (tsvector and tsquery are text-only: their arrays go as text)
    "xml": Spec(xmls()),
    "jsonpath": Spec(jsonpaths()),
    "tsvector": Spec(tsvectors(), array=False),
    "tsquery": Spec(tsqueries(), array=False),
    # the schema's own: enum, domains, composite types, hstore
    f"{SCHEMA}.mood": Spec(enums()),
    f"{SCHEMA}.posint": Spec(domain_ints()),
    f"{SCHEMA}.tags": Spec(domain_tags(), array=False),
    f"{SCHEMA}.inner_t": Spec(inner_rows()),
    f"{SCHEMA}.outer_t": Spec(outer_rows()),
    "hstore": Spec(hstores()),
}

# arrays whose elements need another form than the scalar's
ARRAY_ELEMENTS = {
    "json": jsons(elements=True),
    "jsonb": jsons(elements=True),
    "tid": tids(elements=True),
}
ARRAY_TEXTCAST = {"json[]": "::jsonb[]::text"}
# codecs without a text decoder: in a text-format result such a value is
# its text (reg*: a name)
NO_TEXT_DECODER = {*REG_CATALOGS, f"{SCHEMA}.inner_t", f"{SCHEMA}.outer_t", "hstore"}


def short_id(pgtype: str) -> str:
    return pgtype.replace(f"{SCHEMA}.", "")


@pytest.fixture(scope="module")
def r(dsn, loop_name):
    """A runner whose search_path is a fresh schema holding the enum,
    domains, composite and range types, and the hstore extension's schema;
    the schema is dropped afterwards."""
    setup = PoolRunner(dsn, loop_name)
    s = SCHEMA
    for sql in [
        f"CREATE SCHEMA {s}",
        f"CREATE TYPE {s}.mood AS ENUM ("
        + ", ".join("'" + lab.replace("'", "''") + "'" for lab in LABELS) + ")",
        f"CREATE DOMAIN {s}.posint AS int4 CHECK (VALUE > 0)",
        f"CREATE DOMAIN {s}.tags AS text[]",
        f"CREATE TYPE {s}.inner_t AS (x float8, label text)",
        f"CREATE TYPE {s}.outer_t AS (id int8, t text, n numeric, b bool, m {s}.mood, "
        f"i {s}.inner_t, arr int4[], at timestamptz, r int4range, ip inet, raw bytea)",
        f"CREATE TYPE {s}.floatrange AS RANGE (subtype = float8, "
        f"multirange_type_name = {s}.floatmulti)",
        f"CREATE EXTENSION IF NOT EXISTS hstore SCHEMA {s}",
    ]:
        setup.rows(sql)
    try:
        hstore_schema = setup.row(
            "SELECT extnamespace::regnamespace::text AS s FROM pg_extension "
            "WHERE extname = 'hstore'", [])["s"]
        for pgtype, catalog in REG_CATALOGS.items():
            CATALOG_OIDS[pgtype] = [row["o"] for row in setup.rows(
                f"SELECT oid::int8 AS o FROM {catalog} ORDER BY random() LIMIT 200")]
        runner = PoolRunner(dsn, loop_name, {**SESSION, "search_path": f"{s},{hstore_schema}"})
        try:
            yield runner
        finally:
            runner.close()
    finally:
        setup.rows(f"DROP SCHEMA {s} CASCADE")
        setup.close()


@pytest.mark.parametrize("pgtype", SPECS, ids=short_id)
@HYP
@given(data=st.data())
def test_hyp_roundtrip(r, pgtype, data):
    spec = SPECS[pgtype]
    case = data.draw(spec.cases, label=pgtype)
    check(r, pgtype, case, spec.textcast, spec.parse)
    check_text_result(r, pgtype, case, spec.parse,
                      "::text" if pgtype in NO_TEXT_DECODER else None)


ARRAY_TYPES = [t for t, spec in SPECS.items() if spec.array]


@pytest.mark.parametrize("pgtype", ARRAY_TYPES, ids=short_id)
@HYP_ARRAY
@given(data=st.data())
def test_hyp_array_roundtrip(r, pgtype, data):
    spec = SPECS[pgtype]
    elem = ARRAY_ELEMENTS.get(pgtype, spec.cases)
    atype = pgtype + "[]"
    case = data.draw(array_cases(elem, delim=spec.delim), label=atype)
    check(r, atype, case, ARRAY_TEXTCAST.get(atype, spec.textcast))
    check_text_result(r, atype, case, text_as="::text[]" if pgtype in NO_TEXT_DECODER else None)


@HYP
@given(texts())
def test_hyp_unknown(r, case):
    # no cast from text to unknown: only our own encoding, decoded again
    row = r.row("SELECT $1::unknown AS v", [case.value])
    assert same(row["v"], case.want)
