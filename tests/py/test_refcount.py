"""Reference stability and leaks.

A release build has no sys.gettotalrefcount, so leaks are caught three
ways: the number of live objects of psqlpy's own types (and, for its
non-GC result types, the type object's reference count, one per live
instance) returns to its baseline after a workload; the reference counts
of the parameter objects, SQL strings and result classes we pass in do not
move; and neither Python's traced memory nor the process RSS keeps growing
over many statements.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
import sys
import time
import tracemalloc
import uuid
from decimal import Decimal

import pytest

from helpers import live_psqlpy_objects, open_pool, rss_kib, settle
from psqlpy import exceptions as exc
from psqlpy.extra_types import BigInt, PyJSON, PyUUID, SmallInt


@dataclasses.dataclass
class Row:
    i: int
    s: str


async def _workload(p, rounds: int) -> None:
    """A bit of every path: parameters of many types, results, as_class,
    errors, lent connections, gather, create_task, cancellation."""
    for k in range(rounds):
        res = await p.execute("SELECT $1::int8 AS i, $2::text AS s", [k, f"v{k}"])
        assert res.result() == [{"i": k, "s": f"v{k}"}]
        assert res.as_class(Row) == [Row(k, f"v{k}")]
        res = await p.execute(
            "SELECT $1::numeric AS n, $2::uuid AS u, $3::jsonb AS j, $4::timestamptz AS t, "
            "$5::int4[] AS a, $6::bytea AS b, $7 AS small, $8 AS big, $9 AS pu, "
            "$10::jsonb AS pj",
            [Decimal("1.25"), uuid.UUID(int=k), {"k": [k, None]},
             dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), [[k, None], [1, 2]],
             b"\x00" * (k % 40), SmallInt(k % 100), BigInt(k), PyUUID(str(uuid.UUID(int=k))),
             PyJSON([k])])
        row = res.result()[0]
        assert row["a"] == [[k, None], [1, 2]] and row["pj"] == [k]
        with pytest.raises(exc.DataError):
            await p.execute("SELECT 1 / $1::int4 AS x", [0])
        with pytest.raises(exc.ParameterError):
            await p.execute("SELECT $1::int4 AS x", ["nope"])
        async with await p.connection() as conn:
            res = await conn.execute("SELECT $1::text AS s", ["conn"])
            assert res.result() == [{"s": "conn"}]
        rs = await asyncio.gather(*[p.execute("SELECT $1::int4 AS i", [j]) for j in range(5)])
        assert [r.result()[0]["i"] for r in rs] == list(range(5))
        t = asyncio.create_task(p.execute("SELECT $1::int4 AS i", [k]))
        assert (await t).result() == [{"i": k}]
        if k % 10 == 0:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(p.execute("SELECT pg_sleep(5)"), 0.02)


async def test_live_objects_return_to_baseline(dsn):
    async with open_pool(dsn, max_db_pool_size=2) as p:
        await _workload(p, 20)          # warm up: both connections open, caches filled
        await settle()
        before = live_psqlpy_objects()
        await _workload(p, 200)
        await settle()
        after = live_psqlpy_objects()
        assert after == before


async def test_closed_pool_leaves_no_objects(dsn):
    async def use_a_pool() -> None:
        async with open_pool(dsn, max_db_pool_size=2) as p:
            await _workload(p, 3)

    await use_a_pool()                  # first use: imports, interned strings
    await settle()
    before = live_psqlpy_objects()
    for _ in range(5):
        await use_a_pool()
    await settle()
    assert live_psqlpy_objects() == before


async def test_parameter_and_argument_refcounts_are_stable(dsn):
    text = "".join(["stable-", "text"])          # built at run time: not shared
    blob = bytes(range(200))
    dec = Decimal("12345.678")
    uid = uuid.uuid4()
    doc = {"a": [1, 2, {"b": None}]}
    arr = [[1, None], [3, 4]]
    when = dt.datetime(2021, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
    small = SmallInt(7)
    sql = "".join(["SELECT $1::text AS t, $2::bytea AS b, $3::numeric AS d, $4::uuid AS u, ",
                   "$5::jsonb AS j, $6::int4[] AS a, $7::timestamptz AS w, $8 AS s"])
    params = [text, blob, dec, uid, doc, arr, when, small]
    watched = [text, blob, dec, uid, doc, arr, when, small, sql, params, Row]
    async with open_pool(dsn, max_db_pool_size=1) as p:
        async def run(n: int) -> None:
            for _ in range(n):
                res = await p.execute(sql, params)
                objs = res.as_class(lambda **kw: kw)
                assert objs[0]["t"] == text and objs[0]["a"] == arr
                assert res.as_class(as_class=lambda **kw: Row(i=1, s=kw["t"]))[0].s == text
            with pytest.raises(exc.ParameterError):   # an error path keeps them too
                await p.execute(sql, [text, blob, dec, uid, doc, arr, when, object()])

        await run(5)
        await settle()
        gc.collect()
        before = [sys.getrefcount(o) for o in watched]
        await run(300)
        await settle()
        gc.collect()
        after = [sys.getrefcount(o) for o in watched]
    assert after == before


async def test_result_object_refcount_is_stable(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        res = await p.execute("SELECT g AS n, 'x' || g AS s FROM generate_series(1, 50) AS g")
        before = sys.getrefcount(res)
        for _ in range(200):
            rows = res.result()
            assert len(rows) == 50 and rows[49] == {"n": 50, "s": "x50"}
            assert res.as_class(dict)[0] == {"n": 1, "s": "x1"}
            len(res)
        del rows
        assert sys.getrefcount(res) == before


async def test_traced_python_memory_does_not_grow(dsn):
    async with open_pool(dsn, max_db_pool_size=2) as p:
        await _workload(p, 20)
        tracemalloc.start()
        try:
            await _workload(p, 20)
            await settle()
            gc.collect()
            first = tracemalloc.get_traced_memory()[0]
            await _workload(p, 150)
            await settle()
            gc.collect()
            second = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    # 150 rounds are ~2,000 statements: allow well under 100 bytes each
    assert second - first < 150 * 1024, f"traced memory grew by {second - first} bytes"


async def test_rss_stays_bounded_over_20000_statements(dsn):
    async def burst(p, n: int) -> None:
        half = n // 2
        for i in range(half):
            res = await p.execute("SELECT $1::int8 AS i, $2::text AS s, $3::bytea AS b",
                                  [i, "x" * (i % 100), b"y" * (i % 64)])
            assert res.result()[0]["i"] == i
        for j in range(half // 100):
            rs = await asyncio.gather(*[p.execute("SELECT $1::int4 AS i, now() AS t", [k])
                                        for k in range(100)])
            assert [r.result()[0]["i"] for r in rs] == list(range(100))

    async with open_pool(dsn, max_db_pool_size=2) as p:
        await burst(p, 4000)               # warm up allocator arenas and caches
        await settle()
        gc.collect()
        start = rss_kib()
        t0 = time.monotonic()
        await burst(p, 20000)
        await settle()
        gc.collect()
        grown = rss_kib() - start
        assert time.monotonic() - t0 < 30
    # a leak of 100 bytes per statement would be ~2 MiB here
    assert grown < 1024, f"RSS grew by {grown} KiB over 20,000 statements"
