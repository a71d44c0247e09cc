"""Automatic pipelining: single statements that wait for a connection of the
pool go out together in libpq's pipeline mode, one Sync each (docs/design.md,
"Automatic pipelining").

Each test makes the burst happen for sure: the pool has one connection,
an "occupier" statement holds it (blocked on an advisory lock another
session holds) while the other calls queue up in the pool, and releasing
the lock lets them go out together.  ``status()`` counts the bursts and the
statements sent in them, so every test also checks that it tested a burst.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from psqlpy import PSQLPool
from psqlpy.exceptions import (ConnectionFailedError, DataError, Error, ParameterError,
                               PoolConfigurationError, QueryTimeoutError)

from helpers import (activity, assert_pool_answers, backend_pid, observer, open_pool,  # noqa: F401
                     pool, wait_until)

HANG = 30
# blocks while another session holds the advisory lock $1 exclusively
LOCKED = "SELECT pg_advisory_xact_lock_shared($1::int8) AS l, $2::int4 AS n"
PLAIN = "SELECT $1::int4 AS n"
DIV = "SELECT 100 / $1::int4 AS q"


@pytest.fixture
async def single(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        yield p


@pytest.fixture
async def locker(dsn):
    """A connection of its own, to hold advisory locks (session level)."""
    async with open_pool(dsn, max_db_pool_size=1) as p:
        conn = await p.connection()
        try:
            yield conn
        finally:
            await conn.execute("SELECT pg_advisory_unlock_all()")
            conn.close()


def _key() -> int:
    return random.getrandbits(40)


async def _warm(pool: PSQLPool, *stmts) -> None:
    """Run each statement once: prepared on the connection, and seen to leave
    the session outside a transaction block, so it may join bursts."""
    for sql, params in stmts:
        await pool.execute(sql, params)


async def _occupy(pool: PSQLPool, locker, observer) -> tuple:
    """Hold the pool's one connection with a statement blocked on a lock;
    returns (its task, the lock key, the backend pid)."""
    pid = await backend_pid(pool)
    key = _key()
    await locker.execute("SELECT pg_advisory_lock($1::int8)", [key])
    occupier = asyncio.ensure_future(pool.execute(LOCKED, [key, -1]))

    async def blocked():
        a = await activity(observer, pid)
        return a is not None and a["state"] == "active" and "advisory" in a["query"]
    assert await wait_until(blocked, timeout=HANG), "the occupier never blocked"
    return occupier, key, pid


async def _queued(pool: PSQLPool, n: int) -> None:
    async def waiting():
        return pool.status()["waiting"] >= n
    assert await wait_until(waiting, timeout=HANG), pool.status()


async def _burst_in_flight(pool: PSQLPool, locker, observer, n: int) -> tuple:
    """n callers whose statements are sent in one burst that stays in flight:
    the first blocks on the server on a second lock.  Returns (their tasks,
    that lock's key, the backend pid, the pool's status before the burst)."""
    await _warm(pool, (LOCKED, [0, 0]))
    occupier, key, pid = await _occupy(pool, locker, observer)
    key2 = _key()
    await locker.execute("SELECT pg_advisory_lock($1::int8)", [key2])
    before = pool.status()
    calls = [asyncio.ensure_future(pool.execute(LOCKED, [key2, i])) for i in range(n)]
    await _queued(pool, n)
    await locker.execute("SELECT pg_advisory_unlock($1::int8)", [key])
    await asyncio.wait_for(occupier, HANG)

    async def in_flight():
        a = await activity(observer, pid)
        return (pool.status()["bursts"] > before["bursts"] and a is not None
                and a["state"] == "active")
    assert await wait_until(in_flight, timeout=HANG)
    return calls, key2, pid, before


async def test_results_go_to_their_callers_in_order(single, locker, observer):
    await _warm(single, (PLAIN, [0]), (LOCKED, [0, 0]))
    occupier, key, _ = await _occupy(single, locker, observer)
    before = single.status()
    calls = [asyncio.ensure_future(single.execute(PLAIN, [i])) for i in range(40)]
    await _queued(single, 40)
    await locker.execute("SELECT pg_advisory_unlock($1::int8)", [key])
    results = await asyncio.wait_for(asyncio.gather(*calls), HANG)
    assert [r.result() for r in results] == [[{"n": i}] for i in range(40)]
    assert (await occupier).result()[0]["n"] == -1
    after = single.status()
    assert after["bursts"] > before["bursts"]
    assert after["pipelined"] - before["pipelined"] == 40  # every one of them
    await assert_pool_answers(single)


async def test_many_tasks_share_a_pool_of_two(pool):
    """The shape the feature is for: many tasks, few connections; every call
    gets its own answer."""
    await asyncio.gather(*(pool.execute(PLAIN, [0]) for _ in range(4)))

    async def worker(w):
        out = []
        for i in range(20):
            out.append((await pool.execute(PLAIN, [w * 100 + i])).result()[0]["n"])
        return out
    got = await asyncio.wait_for(asyncio.gather(*(worker(w) for w in range(50))), HANG)
    assert got == [[w * 100 + i for i in range(20)] for w in range(50)]
    assert pool.status()["pipelined"] > 0


async def test_an_error_fails_only_its_own_caller(single, locker, observer):
    await _warm(single, (DIV, [1]), (LOCKED, [0, 0]))
    occupier, key, pid = await _occupy(single, locker, observer)
    before = single.status()["pipelined"]
    divisors = [5, 4, 0, 2, 1, 0, 10]
    calls = [asyncio.ensure_future(single.execute(DIV, [d])) for d in divisors]
    await _queued(single, len(divisors))
    await locker.execute("SELECT pg_advisory_unlock($1::int8)", [key])
    got = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), HANG)
    for d, g in zip(divisors, got):
        if d == 0:
            assert isinstance(g, DataError) and g.sqlstate == "22012", g
        else:
            assert g.result() == [{"q": 100 // d}]
    await occupier
    assert single.status()["pipelined"] - before == len(divisors)
    # the same connection goes on
    assert await backend_pid(single) == pid
    await assert_pool_answers(single)


async def test_a_bad_parameter_fails_only_its_own_caller(single, locker, observer):
    await _warm(single, (PLAIN, [1]), (LOCKED, [0, 0]))
    occupier, key, pid = await _occupy(single, locker, observer)
    before = single.status()["pipelined"]
    params = [[1], ["not a number"], [3], [2 ** 40], [5]]
    calls = [asyncio.ensure_future(single.execute(PLAIN, p)) for p in params]
    await _queued(single, len(params))
    await locker.execute("SELECT pg_advisory_unlock($1::int8)", [key])
    got = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), HANG)
    assert [g.result() for i, g in enumerate(got) if i in (0, 2, 4)] == [
        [{"n": 1}], [{"n": 3}], [{"n": 5}]]
    assert isinstance(got[1], (ParameterError, DataError)), got[1]
    assert isinstance(got[3], (ParameterError, DataError)), got[3]
    await occupier
    assert single.status()["pipelined"] - before == len(params)
    assert await backend_pid(single) == pid
    await assert_pool_answers(single)


async def test_cancelling_one_pipelined_caller(single, locker, observer):
    calls, key2, pid, before = await _burst_in_flight(single, locker, observer, 5)
    calls[2].cancel()
    done, _ = await asyncio.wait({calls[2]}, timeout=HANG)
    assert calls[2] in done and calls[2].cancelled()
    await locker.execute("SELECT pg_advisory_unlock($1::int8)", [key2])
    got = await asyncio.wait_for(asyncio.gather(*(calls[i] for i in (0, 1, 3, 4))), HANG)
    assert [g.result()[0]["n"] for g in got] == [0, 1, 3, 4]
    assert single.status()["pipelined"] - before["pipelined"] == 5
    assert await backend_pid(single) == pid
    await assert_pool_answers(single)


async def test_a_timeout_within_a_burst(single, locker, observer):
    """A call with a timeout runs alone between bursts (a cancel request stops
    whatever statement runs, so only a statement alone can be stopped this
    way); it times out as documented while the others get their results."""
    sleep = "SELECT pg_sleep($1::float8) AS s"
    await _warm(single, (PLAIN, [0]), (sleep, [0]), (LOCKED, [0, 0]))
    occupier, key, pid = await _occupy(single, locker, observer)
    before = single.status()
    calls = [asyncio.ensure_future(single.execute(PLAIN, [i])) for i in range(3)]
    calls.append(asyncio.ensure_future(single.execute(sleep, [600], timeout=0.5)))
    calls += [asyncio.ensure_future(single.execute(PLAIN, [i])) for i in range(4, 7)]
    await _queued(single, 7)
    await locker.execute("SELECT pg_advisory_unlock($1::int8)", [key])
    got = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), HANG)
    assert isinstance(got[3], QueryTimeoutError), got[3]
    assert [g.result()[0]["n"] for i, g in enumerate(got) if i != 3] == [0, 1, 2, 4, 5, 6]
    await occupier
    after = single.status()
    assert after["bursts"] - before["bursts"] == 2
    assert after["pipelined"] - before["pipelined"] == 6

    async def stopped():
        a = await activity(observer, pid)
        return a is not None and "pg_sleep" not in (a["query"] if a["state"] == "active"
                                                    else "")
    assert await wait_until(stopped, timeout=HANG), "the timed-out statement still runs"
    await assert_pool_answers(single)


async def test_backend_terminated_mid_burst(single, locker, observer):
    calls, key2, pid, _ = await _burst_in_flight(single, locker, observer, 6)
    await observer.execute("SELECT pg_terminate_backend($1)", [pid])
    got = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), HANG)
    assert all(isinstance(g, ConnectionFailedError) for g in got), got
    await locker.execute("SELECT pg_advisory_unlock($1::int8)", [key2])
    # the pool opens a new connection
    assert await backend_pid(single) != pid
    await assert_pool_answers(single)


async def test_transaction_statements_never_join_a_burst(single, locker, observer):
    """BEGIN through pool.execute leaves its connection in a transaction block:
    it is never pipelined, and what waits behind it is not handed to its
    connection with it, so it cannot draw other callers' statements into its
    transaction (the pool rolls it back when the connection comes back)."""
    await single.execute("CREATE TEMP TABLE IF NOT EXISTS ap_t (n int4)")
    ins = "INSERT INTO ap_t VALUES ($1::int4)"
    await _warm(single, ("BEGIN", None), (ins, [0]), (LOCKED, [0, 0]))
    await single.execute("DELETE FROM ap_t")
    occupier, key, _ = await _occupy(single, locker, observer)
    calls = [asyncio.ensure_future(single.execute(ins, [1])),
             asyncio.ensure_future(single.execute(ins, [2])),
             asyncio.ensure_future(single.execute("BEGIN")),
             asyncio.ensure_future(single.execute(ins, [3])),
             asyncio.ensure_future(single.execute(ins, [4]))]
    await _queued(single, 5)
    await locker.execute("SELECT pg_advisory_unlock($1::int8)", [key])
    await asyncio.wait_for(asyncio.gather(*calls), HANG)
    await occupier
    rows = (await single.execute("SELECT n FROM ap_t ORDER BY n")).result()
    # 1 and 2 went in a burst; BEGIN stayed with the pool and ran alone, the
    # pool rolled its transaction back when the connection came back, and
    # only then did 3 and 4 run, each in a transaction of its own -- as
    # without pipelining: nobody's statement ran inside BEGIN's transaction
    assert rows == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]


async def test_switched_off(dsn):
    async with open_pool(dsn, max_db_pool_size=2, auto_pipeline=False) as p:
        await p.execute(PLAIN, [0])
        got = await asyncio.gather(*(p.execute(PLAIN, [i]) for i in range(50)))
        assert [g.result()[0]["n"] for g in got] == list(range(50))
        assert p.status()["bursts"] == 0 and p.status()["pipelined"] == 0
    with pytest.raises(PoolConfigurationError):
        PSQLPool(dsn=dsn, auto_pipeline="yes")
    assert issubclass(PoolConfigurationError, Error)


async def test_lent_connections_are_never_pipelined(single):
    conn = await single.connection()
    try:
        await conn.execute(PLAIN, [0])
        got = await asyncio.gather(*(conn.execute(PLAIN, [i]) for i in range(20)))
        assert [g.result()[0]["n"] for g in got] == list(range(20))
    finally:
        conn.close()
    assert single.status()["bursts"] == 0


async def test_calls_with_a_timeout_are_never_pipelined(dsn):
    """A pool command_timeout gives every call a timeout: nothing is pipelined,
    and the waiting calls stay with the pool for whichever connection is free."""
    async with open_pool(dsn, max_db_pool_size=2, command_timeout=30) as p:
        await p.execute(PLAIN, [0])
        got = await asyncio.gather(*(p.execute(PLAIN, [i]) for i in range(50)))
        assert [g.result()[0]["n"] for g in got] == list(range(50))
        assert p.status()["bursts"] == 0 and p.status()["pipelined"] == 0
