"""The driver's buffers come from the allocator the build promised."""

from __future__ import annotations

import os

import psqlpy
from psqlpy import _psqlpy


def test_allocator_is_the_one_the_build_promised():
    # scripts/run-tests.sh builds the private jemalloc and says so here
    expected = os.environ.get("PSQLPY_EXPECT_ALLOCATOR")
    assert _psqlpy.allocator in ("jemalloc", "system")
    if expected:
        assert _psqlpy.allocator == expected


async def test_queries_run_on_it(dsn):
    pool = psqlpy.PSQLPool(dsn=dsn)
    await pool.startup()
    try:
        # parameters and results large enough to grow the driver's buffers
        blob = os.urandom(1 << 20)
        res = await pool.execute("SELECT $1::bytea AS b, length($1::bytea) AS n", [blob])
        assert res.result() == [{"b": blob, "n": len(blob)}]
    finally:
        await pool.close()
