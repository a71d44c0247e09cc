"""Helpers shared by the pool, types, errors, cancellation, concurrency and
leak tests (test_pool.py, test_types.py, test_errors.py, test_cancel.py,
test_concurrency.py, test_refcount.py).

Fixtures defined here are imported by name into the test modules that use
them; pytest then finds them there.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import sys
import time
from typing import Any, AsyncIterator, Dict, Optional
from urllib.parse import quote

import pytest
import pytest_asyncio

from psqlpy import PSQLPool

# Session settings that fix the server's text output, so expected ::text
# forms do not depend on how the server under test is configured.
FIXED_SESSION = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}


def dsn_with_settings(dsn: str, settings: Dict[str, str]) -> str:
    """`dsn` with server settings added as startup options (-c name=value).

    Works for URIs and for key=value strings."""
    opts = " ".join(f"-c {k}={v.replace(' ', '')}" for k, v in settings.items())
    if dsn.startswith(("postgresql://", "postgres://")):
        sep = "&" if "?" in dsn else "?"
        return f"{dsn}{sep}options={quote(opts, safe='')}"
    return f"{dsn} options='{opts}'"


@contextlib.asynccontextmanager
async def open_pool(dsn: str, **kwargs: Any) -> AsyncIterator[PSQLPool]:
    """A started PSQLPool(dsn=dsn, **kwargs), closed on leaving the block."""
    pool = PSQLPool(dsn=dsn, **kwargs)
    await pool.startup()
    try:
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def pool(dsn: str) -> AsyncIterator[PSQLPool]:
    """A started pool of up to two connections on the test server."""
    async with open_pool(dsn, max_db_pool_size=2) as p:
        yield p


@pytest_asyncio.fixture
async def observer(dsn: str) -> AsyncIterator[PSQLPool]:
    """A second, independent pool for looking at the server from outside
    (pg_stat_activity and the like)."""
    async with open_pool(dsn, max_db_pool_size=1) as p:
        yield p


async def assert_pool_answers(pool: PSQLPool) -> None:
    """The pool still runs a query and returns that query's own answer."""
    n = random.randint(-(2 ** 40), 2 ** 40)
    word = f"w{random.getrandbits(32):08x}"
    res = await pool.execute("SELECT $1::int8 * 2 AS doubled, $2::text || '!' AS echo",
                             [n, word])
    assert res.result() == [{"doubled": 2 * n, "echo": word + "!"}]


async def backend_pid(executor: Any) -> int:
    """pg_backend_pid() of the connection `executor` (pool or connection) uses."""
    res = await executor.execute("SELECT pg_backend_pid() AS pid")
    return res.result()[0]["pid"]


async def activity(observer: PSQLPool, pid: int) -> Optional[Dict[str, Any]]:
    """pg_stat_activity's row (state, query) for backend `pid`, or None."""
    res = await observer.execute(
        "SELECT state, query FROM pg_stat_activity WHERE pid = $1", [pid])
    rows = res.result()
    return rows[0] if rows else None


async def wait_until(predicate, timeout: float = 5.0, interval: float = 0.02) -> bool:
    """Await `predicate()` (an async callable) until it is true or `timeout`
    seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        ok = await predicate()
        if ok or time.monotonic() >= deadline:
            return bool(ok)
        await asyncio.sleep(interval)


def rss_kib() -> int:
    """Resident set size of this process in KiB."""
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    import resource
    return resident_pages * resource.getpagesize() // 1024


PSQLPY_MODULES = ("psqlpy", "psqlpy._psqlpy")


def live_psqlpy_objects() -> Dict[str, int]:
    """Live instances of psqlpy's own types, by type name, after a full
    collection.

    GC-tracked instances are counted through gc.get_objects(); for the
    extension's types that are not GC-tracked (results) the count is the
    type object's reference count, which every live instance of a heap type
    holds one of."""
    gc.collect()
    counts: Dict[str, int] = {}
    for o in gc.get_objects():
        t = type(o)
        if t.__module__ in PSQLPY_MODULES and not isinstance(o, type):
            counts[t.__qualname__] = counts.get(t.__qualname__, 0) + 1
    from psqlpy import QueryResult, SingleQueryResult
    for t in (QueryResult, SingleQueryResult):
        counts[f"refs({t.__qualname__})"] = sys.getrefcount(t)
    return counts


async def settle() -> None:
    """Let the loop run its pending callbacks, so that objects held only by
    the handle that last woke the test are gone."""
    for _ in range(3):
        await asyncio.sleep(0)
