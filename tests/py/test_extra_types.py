"""The pinning extra types and Interval: each fixes its parameter's type
(checked with pg_typeof on the server) and carries its value both ways."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import AsyncIterator

import pytest
import pytest_asyncio

from helpers import FIXED_SESSION, dsn_with_settings, open_pool
from psqlpy import PSQLPool
from psqlpy.exceptions import DatabaseError, ParameterError
from psqlpy.extra_types import (
    Array, Float32, Float64, Interval, Json, Jsonb, Text, VarChar,
)


@pytest_asyncio.fixture
async def tpool(dsn: str) -> AsyncIterator[PSQLPool]:
    async with open_pool(dsn_with_settings(dsn, FIXED_SESSION), max_db_pool_size=1) as p:
        yield p


async def typed(pool: PSQLPool, value):
    res = await pool.execute("SELECT pg_typeof($1)::text AS t, $1 AS v, $1::text AS s", [value])
    return res.result()[0]


@pytest.mark.parametrize("value, pg_type, back, text", [
    (Float32(1.5), "real", 1.5, "1.5"),
    (Float32(0.1), "real", 0.10000000149011612, "0.1"),
    (Float64(0.1), "double precision", 0.1, "0.1"),
    (Float64(3), "double precision", 3.0, "3"),
    (Text("héllo"), "text", "héllo", "héllo"),
    (VarChar("abc"), "character varying", "abc", "abc"),
    (Json({"b": 1, "a": [True, None]}), "json", {"b": 1, "a": [True, None]},
     '{"b":1,"a":[true,null]}'),
    (Jsonb({"b": 1, "a": 2}), "jsonb", {"a": 2, "b": 1}, '{"a": 2, "b": 1}'),
    (Jsonb([1, "x"]), "jsonb", [1, "x"], '[1, "x"]'),
    (Array([1, 2, None], "int8"), "bigint[]", [1, 2, None], "{1,2,NULL}"),
    (Array([], "text"), "text[]", [], "{}"),
    (Array([[1.5], [2.5]], "float4"), "real[]", [[1.5], [2.5]], "{{1.5},{2.5}}"),
    (Array([Decimal("1.10")], "numeric"), "numeric[]", [Decimal("1.10")], "{1.10}"),
])
async def test_pinned_types(tpool, value, pg_type, back, text):
    row = await typed(tpool, value)
    assert row == {"t": pg_type, "v": back, "s": text}


async def test_pinned_null_keeps_its_type(tpool):
    assert await typed(tpool, Float32(None)) == {"t": "real", "v": None, "s": None}
    assert await typed(tpool, Text(None)) == {"t": "text", "v": None, "s": None}


async def test_pinned_value_of_the_wrong_kind_is_a_parameter_error(tpool):
    with pytest.raises(ParameterError) as ei:
        await tpool.execute("SELECT $1", [Float32("1.5")])
    assert "$1" in str(ei.value)
    with pytest.raises(ParameterError):
        await tpool.execute("SELECT $1", [Array(["x"], "int4")])
    assert (await typed(tpool, Float64(2.0)))["v"] == 2.0


def test_array_refuses_unknown_element_types_and_non_lists():
    with pytest.raises(ValueError) as ei:
        Array([1], "int3")
    assert "int3" in str(ei.value)
    with pytest.raises(TypeError):
        Array("abc", "text")  # type: ignore[arg-type]


@pytest.mark.parametrize("text, value", [
    ("1 mon", Interval(1, 0, 0)),
    ("-1 years -2 mons +3 days -00:00:00.000004", Interval(-14, 3, -4)),
    ("1 mon 1 day", Interval(1, 1, 0)),
    ("178000000 years", Interval(178000000 * 12, 0, 0)),
])
async def test_interval_with_months_is_exact_both_ways(tpool, text, value):
    res = await tpool.execute("SELECT $1::text::interval AS parsed, $2::interval::text AS sent",
                              [text, value])
    row = res.result()[0]
    assert row["parsed"] == value and type(row["parsed"]) is Interval
    # the server prints what we sent as the same interval
    same = await tpool.execute("SELECT $1::interval = $2::text::interval AS same", [value, text])
    assert same.result()[0]["same"] is True


async def test_interval_without_months_is_a_timedelta(tpool):
    res = await tpool.execute("SELECT '3 days 04:05:06.7'::interval AS v")
    assert res.result()[0]["v"] == dt.timedelta(days=3, hours=4, minutes=5, seconds=6.7)


def test_interval_helpers():
    iv = Interval(months=2, days=3, microseconds=4)
    assert iv.to_timedelta() == dt.timedelta(days=63, microseconds=4)
    assert iv == Interval(2, 3, 4) and iv != Interval(2, 3, 5)
    assert hash(iv) == hash(Interval(2, 3, 4))
    assert "months=2" in repr(iv)


async def test_interval_out_of_range_parts_are_parameter_errors(tpool):
    with pytest.raises(ParameterError):
        await tpool.execute("SELECT $1::interval", [Interval(2 ** 31, 0, 0)])
    with pytest.raises((ParameterError, DatabaseError)):
        await tpool.execute("SELECT $1::interval", [Interval("x", 0, 0)])  # type: ignore[arg-type]
    assert (await typed(tpool, Float64(1.0)))["v"] == 1.0


async def test_interval_beyond_timedelta_is_an_exact_interval(tpool):
    res = await tpool.execute("SELECT '2000000000 days'::interval AS v,"
                              " '-2000000000 days -1 us'::interval AS w")
    assert res.result()[0] == {"v": Interval(0, 2000000000, 0),
                               "w": Interval(0, -2000000000, -1)}
