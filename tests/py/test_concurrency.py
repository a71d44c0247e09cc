"""Many tasks over a small pool: every task gets its own answer, the pool
never opens more connections than allowed, and everything comes back."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from helpers import assert_pool_answers, observer, open_pool, wait_until  # noqa: F401
from psqlpy import exceptions as exc

HANG = 30                 # a hang guard, never a speed limit
QUERY = "SELECT $1::int8 AS i, md5($2::text) AS h, pg_backend_pid() AS pid"


def _params(i: int) -> list:
    return [i, f"task-{i}-é"]


def _check(i: int, res) -> int:
    rows = res.result()
    assert len(rows) == 1
    row = rows[0]
    assert row["i"] == i
    assert row["h"] == hashlib.md5(f"task-{i}-é".encode()).hexdigest()
    return row["pid"]


def _assert_all_back(p, max_size: int) -> None:
    st = p.status()
    assert st["max_size"] == max_size
    assert 1 <= st["size"] <= max_size
    assert st["idle"] == st["size"] and st["waiting"] == 0


@pytest.mark.parametrize("size", [2, 4])
async def test_gather_many_over_a_small_pool(dsn, size):
    async with open_pool(dsn, max_db_pool_size=size) as p:
        n = 200
        results = await asyncio.wait_for(
            asyncio.gather(*[p.execute(QUERY, _params(i)) for i in range(n)]), 30)
        pids = {_check(i, r) for i, r in enumerate(results)}
        assert 1 <= len(pids) <= size
        _assert_all_back(p, size)


async def test_create_task_many_awaited_in_reverse(dsn):
    async with open_pool(dsn, max_db_pool_size=3) as p:
        tasks = [asyncio.create_task(p.execute(QUERY, _params(i))) for i in range(200)]
        pids = set()
        for i in reversed(range(200)):
            pids.add(_check(i, await asyncio.wait_for(tasks[i], 30)))
        assert len(pids) <= 3
        _assert_all_back(p, 3)


async def test_connections_never_exceed_the_maximum(dsn, observer):
    async with open_pool(dsn, max_db_pool_size=3) as p:
        # each statement holds its connection long enough for all to overlap
        sql = "SELECT $1::int4 AS i, pg_backend_pid() AS pid FROM pg_sleep(0.05)"
        results = await asyncio.wait_for(
            asyncio.gather(*[p.execute(sql, [i]) for i in range(30)]), 30)
        rows = [r.result()[0] for r in results]
        assert [r["i"] for r in rows] == list(range(30))
        pids = {r["pid"] for r in rows}
        assert len(pids) == 3       # the pool did grow to its maximum, and no further
        res = await observer.execute(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ANY($1::int4[])",
            [sorted(pids)])
        assert res.result() == [{"n": 3}]
        _assert_all_back(p, 3)


async def test_lent_connections_and_pool_execute_mixed(dsn):
    async with open_pool(dsn, max_db_pool_size=2) as p:
        async def borrower(k: int) -> None:
            async with await p.connection() as conn:
                await conn.execute("SELECT set_config('psqlpy.k', $1::text, false)", [str(k)])
                for j in range(3):
                    res = await conn.execute(
                        "SELECT current_setting('psqlpy.k') AS k, $1::int4 AS j", [j])
                    assert res.result() == [{"k": str(k), "j": j}]

        async def executor(i: int) -> None:
            _check(i, await p.execute(QUERY, _params(i)))

        jobs = [borrower(k) if k % 4 == 0 else executor(k) for k in range(80)]
        await asyncio.wait_for(asyncio.gather(*jobs), 30)
        _assert_all_back(p, 2)


async def test_one_connection_shared_by_many_tasks(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        conn = await p.connection()
        try:
            results = await asyncio.wait_for(
                asyncio.gather(*[conn.execute(QUERY, _params(i)) for i in range(100)]), 30)
            pids = {_check(i, r) for i, r in enumerate(results)}
            assert len(pids) == 1
        finally:
            conn.close()
        _assert_all_back(p, 1)


async def test_errors_among_many_do_not_disturb_the_others(dsn):
    async with open_pool(dsn, max_db_pool_size=3) as p:
        def job(i: int):
            if i % 7 == 3:
                return p.execute("SELECT 1 / ($1::int4 - $1::int4) AS boom", [i])
            if i % 7 == 5:
                return p.execute("SELECT $1::int4 AS bad", ["not an int"])
            return p.execute(QUERY, _params(i))

        results = await asyncio.wait_for(
            asyncio.gather(*[job(i) for i in range(140)], return_exceptions=True), 30)
        for i, r in enumerate(results):
            if i % 7 == 3:
                assert isinstance(r, exc.DataError) and r.sqlstate == "22012"
            elif i % 7 == 5:
                assert isinstance(r, exc.ParameterError)
            else:
                _check(i, r)
        _assert_all_back(p, 3)
        await assert_pool_answers(p)


async def test_slow_statement_does_not_block_the_other_connection(dsn, observer):
    """One connection waits for an advisory lock another session holds; the
    pool serves twenty statements on the other connection meanwhile, and
    the waiting one completes once the lock is let go."""
    key = 0x7073716C7079          # any bigint nobody else locks
    async with open_pool(dsn, max_db_pool_size=2) as p:
        await asyncio.gather(assert_pool_answers(p), assert_pool_answers(p))  # open both
        async with open_pool(dsn, max_db_pool_size=1) as other, \
                await other.connection() as holder:
            await holder.execute("SELECT pg_advisory_lock($1::int8)", [key])
            slow = asyncio.create_task(p.execute(
                "SELECT count(*)::int AS one FROM (SELECT pg_advisory_lock($1::int8)) AS s",
                [key]))

            async def slow_is_waiting():
                res = await observer.execute(
                    "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' "
                    "AND NOT granted AND ((classid::int8 << 32) | objid::int8) = $1::int8",
                    [key])
                return res.result()[0]["n"] == 1
            assert await wait_until(slow_is_waiting, timeout=HANG)
            results = await asyncio.wait_for(
                asyncio.gather(*[p.execute(QUERY, _params(i)) for i in range(20)]), HANG)
            for i, r in enumerate(results):
                _check(i, r)
            assert not slow.done(), "the fast statements waited for the slow one"
            await holder.execute("SELECT pg_advisory_unlock($1::int8)", [key])
        assert (await asyncio.wait_for(slow, HANG)).result() == [{"one": 1}]
        await p.execute("SELECT pg_advisory_unlock_all()")


async def test_big_results_concurrently(dsn):
    async with open_pool(dsn, max_db_pool_size=3) as p:
        async def big(k: int) -> None:
            res = await p.execute(
                "SELECT g AS n, repeat(chr(65 + $1::int4 % 26), g % 50) AS s "
                "FROM generate_series($1::int4, $1::int4 + 1999) AS g", [k])
            rows = res.result()
            assert len(rows) == 2000
            assert [r["n"] for r in rows] == list(range(k, k + 2000))
            letter = chr(65 + k % 26)
            assert all(r["s"] == letter * (r["n"] % 50) for r in rows)

        await asyncio.wait_for(asyncio.gather(*[big(k) for k in range(12)]), 30)
        _assert_all_back(p, 3)


