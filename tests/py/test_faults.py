"""Fault tests under load, on a private cluster the tests may terminate,
restart and signal (never the shared server of $PSQLPY_TEST_DSN).

Each test is bounded in time and prints its figures (run with ``-s`` to see
them): queries run and checked, faults injected, hangs, lost slots,
recovery times, RSS before/after.  PSQLPY_FAULT_SCALE (default 1) scales the
amount of work, for longer runs by hand.

Runs on the session's loop: PSQLPY_TEST_LOOP=uvloop or asyncio.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import time
from typing import Any, Dict, List

import pytest
import pytest_asyncio

import pgcluster
from helpers import rss_kib
from psqlpy import PSQLPool
from psqlpy.exceptions import ConnectionFailedError, DatabaseError, Error, QueryTimeoutError

SCALE = float(os.environ.get("PSQLPY_FAULT_SCALE", "1"))
APP = "psqlpy_faults"
HANG = 5.0   # a call still waiting after this long counts as a hang


def report(name: str, loop_name: str, **figures: Any) -> None:
    items = " ".join(f"{k}={v}" for k, v in figures.items())
    print(f"\n[faults] {name} loop={loop_name} {items}", flush=True)


def app_dsn(cluster: pgcluster.PgCluster, app: str = APP, **extra: Any) -> str:
    q = "&".join([f"application_name={app}"] + [f"{k}={v}" for k, v in extra.items()])
    return f"{cluster.dsn}?{q}"


@pytest_asyncio.fixture
async def observer(cluster):
    p = PSQLPool(dsn=app_dsn(cluster, "psqlpy_observer"), max_db_pool_size=1)
    await p.startup()
    try:
        yield p
    finally:
        await p.close()


async def sessions(observer: PSQLPool, app: str = APP) -> List[int]:
    res = await observer.execute(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND backend_type = "
        "'client backend' ORDER BY pid", [app])
    return [r["pid"] for r in res.result()]


async def terminate_all(observer: PSQLPool, app: str = APP) -> int:
    res = await observer.execute(
        "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity "
        "WHERE application_name = $1 AND backend_type = 'client backend'", [app])
    return res.result()[0]["n"]


async def no_lost_slots(pool: PSQLPool, observer: PSQLPool, guard: float = 10.0) -> Dict[str, int]:
    """Wait (bounded) until the pool's size equals the server's sessions of
    the pool's application; return both."""
    deadline = time.monotonic() + guard
    while True:
        size = pool.status()["size"]
        server = len(await sessions(observer))
        if size == server or time.monotonic() > deadline:
            return {"pool_size": size, "server_sessions": server}
        await asyncio.sleep(0.05)


class Load:
    """`tasks` tasks looping `SELECT $1::int8` with their own values; every
    result checked against its own query."""

    def __init__(self, pool: PSQLPool, tasks: int = 100, timeout: float = HANG) -> None:
        self.pool, self.ntasks, self.timeout = pool, tasks, timeout
        self.ok = self.hangs = self.wrong = 0
        self.errors: Dict[str, int] = {}
        self.last_error_at = 0.0
        self.last_ok_at = 0.0
        self.stop = False

    def reset(self) -> None:
        self.ok = self.hangs = self.wrong = 0
        self.errors = {}

    async def _task(self, t: int) -> None:
        i = 0
        while not self.stop:
            n = t * 1_000_000_000 + i
            i += 1
            try:
                res = await asyncio.wait_for(self.pool.execute("SELECT $1::int8 AS v", [n]),
                                             self.timeout)
            except asyncio.TimeoutError:
                self.hangs += 1
                continue
            except Error as e:
                name = type(e).__name__
                self.errors[name] = self.errors.get(name, 0) + 1
                self.last_error_at = time.monotonic()
                await asyncio.sleep(0.01)
                continue
            if res.result() == [{"v": n}]:
                self.ok += 1
                self.last_ok_at = time.monotonic()
            else:
                self.wrong += 1

    async def __aenter__(self) -> "Load":
        self.tasks = [asyncio.ensure_future(self._task(t)) for t in range(self.ntasks)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop = True
        await asyncio.wait_for(asyncio.gather(*self.tasks), self.timeout * 2)


async def test_terminate_backends_under_load(cluster, observer, loop_name) -> None:
    """pg_terminate_backend of every pool backend, 40 rounds 0.2 s apart,
    while 100 tasks query a pool of 10: no call hangs, every answer is its
    own query's, the only errors are ConnectionFailedError, and no slot is
    lost (the pool's size equals the server's sessions at the end).  40
    rounds rather than 10: on uvloop the lost wake-up (a reset reported once
    as POLLERR, after which libuv drops the watcher) showed in every run of
    40-60 rounds and in few of 10."""
    rounds = int(40 * SCALE)
    rss0 = rss_kib()
    pool = PSQLPool(dsn=app_dsn(cluster), max_db_pool_size=10)
    await pool.startup()
    try:
        killed = 0
        async with Load(pool) as load:
            await asyncio.sleep(0.3)
            for _ in range(rounds):
                killed += await terminate_all(observer)
                await asyncio.sleep(0.2)
            t_last = time.monotonic()
            while load.last_ok_at < t_last and time.monotonic() < t_last + HANG:
                await asyncio.sleep(0.001)
            recovery = load.last_ok_at - t_last
            await asyncio.sleep(0.5)
        ok_before = load.ok
        # the pool serves again, all of it
        res = await asyncio.wait_for(asyncio.gather(
            *(pool.execute("SELECT $1::int8 AS v", [i]) for i in range(50))), HANG)
        assert [r.result()[0]["v"] for r in res] == list(range(50))
        slots = await no_lost_slots(pool, observer)
        report("terminate", loop_name, rounds=rounds, backends_terminated=killed,
               queries_ok=ok_before, wrong=load.wrong, hangs=load.hangs, errors=load.errors,
               first_ok_after_last_kill_s=f"{recovery:.3f}", rss_kib_before=rss0,
               rss_kib_after=rss_kib(),
               **slots)
        assert load.hangs == 0
        assert load.wrong == 0
        assert set(load.errors) <= {"ConnectionFailedError"}, load.errors
        assert slots["pool_size"] == slots["server_sessions"], slots
        assert load.ok > 0 and killed > 0
    finally:
        await pool.close()


async def test_restart_under_load(cluster, observer, loop_name) -> None:
    """pg_ctl restart -m fast while 100 tasks query a pool of 10: the pool
    serves again without any manual step, and once it does, nothing fails."""
    rss0 = rss_kib()
    pool = PSQLPool(dsn=app_dsn(cluster), max_db_pool_size=10)
    await pool.startup()
    try:
        async with Load(pool) as load:
            await asyncio.sleep(0.5)
            before = load.ok
            t0 = time.monotonic()
            await asyncio.to_thread(cluster.restart)
            t_up = time.monotonic()
            # recovered: a query answered after the server came back
            deadline = t_up + 15
            while load.last_ok_at < t_up and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            recovered = load.last_ok_at - t_up
            failures_during = dict(load.errors)
            await asyncio.sleep(0.5)   # let calls that were already failing end
            load.reset()
            await asyncio.sleep(2.0)
            after = dict(ok=load.ok, errors=dict(load.errors), hangs=load.hangs,
                         wrong=load.wrong)
        slots = await no_lost_slots(pool, observer)
        report("restart", loop_name, queries_ok_before=before,
               restart_s=f"{t_up - t0:.3f}", recovery_after_up_s=f"{recovered:.3f}",
               errors_during=failures_during, after_recovery=after,
               rss_kib_before=rss0, rss_kib_after=rss_kib(), **slots)
        assert 0 <= recovered < 15, "the pool did not serve again after the restart"
        assert after["errors"] == {} and after["hangs"] == 0 and after["wrong"] == 0, after
        assert after["ok"] > 0
        assert set(failures_during) <= {"ConnectionFailedError"}, failures_during
        assert slots["pool_size"] == slots["server_sessions"], slots
    finally:
        await pool.close()


async def test_sigstop_backends_with_command_timeout(cluster, observer, loop_name) -> None:
    """SIGSTOP of every backend of a pool with command_timeout=2, for 10 s,
    under load: no call waits past its timeout by more than 1 s (a timed-out
    statement fails at once; the margin is the blocking cancel request and
    a loaded machine's scheduling, far below the freeze), the pool
    keeps serving on new connections during the freeze, and all is well
    after SIGCONT."""
    timeout, freeze = 2.0, 10.0 * min(SCALE, 3)
    rss0 = rss_kib()
    pool = PSQLPool(dsn=app_dsn(cluster), max_db_pool_size=4, command_timeout=timeout)
    await pool.startup()
    stats = dict(ok=0, ok_frozen=0, timeouts=0, wrong=0, other=0, hangs=0)
    overshoot: List[float] = []
    others: Dict[str, int] = {}
    frozen_at: List[float] = []
    first_ok_in_freeze: List[float] = []
    stop = False

    async def worker(t: int) -> None:
        i = 0
        while not stop:
            n = t * 1_000_000 + i
            i += 1
            t0 = time.monotonic()
            try:
                # the guard only detects a hang; the assertion is on elapsed time
                res = await asyncio.wait_for(
                    pool.execute("SELECT $1::int8 AS v", [n]), timeout + 5)
            except QueryTimeoutError:
                stats["timeouts"] += 1
                overshoot.append(time.monotonic() - t0 - timeout)
                continue
            except asyncio.TimeoutError:
                stats["hangs"] += 1
                continue
            except Error as e:
                others[type(e).__name__] = others.get(type(e).__name__, 0) + 1
                overshoot.append(time.monotonic() - t0 - timeout)
                await asyncio.sleep(0.01)
                continue
            if res.result() != [{"v": n}]:
                stats["wrong"] += 1
                continue
            stats["ok"] += 1
            if frozen_at:
                stats["ok_frozen"] += 1
                if stats["timeouts"] and not first_ok_in_freeze:
                    # served on a new connection, after the frozen ones timed out
                    first_ok_in_freeze.append(time.monotonic() - frozen_at[0])
            await asyncio.sleep(0.005)

    try:
        await asyncio.gather(*(pool.execute("SELECT pg_sleep(0.2)") for _ in range(4)))
        pids = await sessions(observer)
        assert len(pids) == 4
        tasks = [asyncio.ensure_future(worker(t)) for t in range(20)]
        await asyncio.sleep(0.3)
        try:
            for pid in pids:
                os.kill(pid, signal.SIGSTOP)
            frozen_at.append(time.monotonic())
            await asyncio.sleep(freeze)
        finally:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        ok_in_freeze = stats["ok_frozen"]
        await asyncio.sleep(1.0)
        stop = True
        await asyncio.wait_for(asyncio.gather(*tasks), timeout + 10)
        await asyncio.wait_for(asyncio.gather(
            *(pool.execute("SELECT $1::int8 AS v", [i]) for i in range(20))), HANG)
        slots = await no_lost_slots(pool, observer)
        worst = max(overshoot) if overshoot else 0.0
        report("sigstop", loop_name, frozen_backends=len(pids), freeze_s=freeze,
               command_timeout=timeout, queries_ok=stats["ok"], ok_during_freeze=ok_in_freeze,
               first_ok_on_new_conn_s=(f"{first_ok_in_freeze[0]:.3f}" if first_ok_in_freeze
                                       else None),
               timeouts=stats["timeouts"], other_errors=others, hangs=stats["hangs"],
               wrong=stats["wrong"], worst_overshoot_s=f"{worst:.3f}",
               rss_kib_before=rss0, rss_kib_after=rss_kib(), **slots)
        assert stats["hangs"] == 0 and stats["wrong"] == 0
        assert worst <= 1.0, f"a call waited {worst:.3f} s past its timeout"
        assert stats["timeouts"] > 0
        assert ok_in_freeze > 0, "the pool did not serve on new connections during the freeze"
        assert set(others) <= {"ConnectionFailedError"}, others
        assert slots["pool_size"] == slots["server_sessions"], slots
    finally:
        stop = True
        await pool.close()


# Queries of the chaos test per loop: the 100,000 run in about 10 s
# per loop on the 2-core machine (11,000-12,500 queries/s measured), so CI
# runs all of them.
CHAOS_QUERIES = int(os.environ.get("PSQLPY_CHAOS_QUERIES", str(int(100_000 * SCALE))))


async def test_result_integrity_under_chaos(cluster, observer, loop_name) -> None:
    """100 tasks share a pool of 10 for CHAOS_QUERIES queries (100,000 by
    default; PSQLPY_CHAOS_QUERIES to change it) with per-task values, random
    cancellations, random timeouts, failing statements, transactions and
    pipelines on lent connections: every result is checked against its own
    query, the only errors are the expected ones, and at the end the pool's
    size equals the server's sessions.  About 10 s per loop (measured:
    100,000 queries in 8.9 s on asyncio, 8.0 s on uvloop)."""
    rss0 = rss_kib()
    pool = PSQLPool(dsn=app_dsn(cluster), max_db_pool_size=10)
    await pool.startup()
    c = dict(run=0, checked=0, cancelled=0, cancel_late=0, timed_out=0, timeout_late=0,
             failing=0, tx=0, wrong=0)
    unexpected: Dict[str, int] = {}
    rnd = random.Random(1234)

    def check(res: Any, n: int, s: str, one: bool = False) -> None:
        want = {"v": n, "s": s}
        got = res.result()
        if (got if one else got) != (want if one else [want]):
            c["wrong"] += 1
        else:
            c["checked"] += 1

    def bad(e: BaseException) -> None:
        unexpected[type(e).__name__] = unexpected.get(type(e).__name__, 0) + 1

    q = "SELECT $1::int8 AS v, $2::text AS s"

    async def task(t: int) -> None:
        i = 0
        while c["run"] < CHAOS_QUERIES:
            i += 1
            n, s = t * 10_000_000 + i, f"t{t}-{i}"
            r = rnd.random()
            c["run"] += 1
            try:
                if r < 0.70:
                    check(await pool.execute(q, [n, s]), n, s)
                elif r < 0.78:
                    check(await pool.fetch_row(q, [n, s]), n, s, one=True)
                elif r < 0.83:
                    try:
                        await pool.execute("SELECT 1 / ($1::int8 - $1::int8) AS v", [n])
                        c["wrong"] += 1
                    except DatabaseError as e:
                        if e.sqlstate == "22012":
                            c["failing"] += 1
                        else:
                            bad(e)
                elif r < 0.90:
                    fut = asyncio.ensure_future(pool.execute(q, [n, s]))
                    await asyncio.sleep(rnd.choice([0, 0, 0.0005, 0.002]))
                    fut.cancel()
                    try:
                        res = await fut
                    except asyncio.CancelledError:
                        c["cancelled"] += 1
                    else:
                        c["cancel_late"] += 1
                        check(res, n, s)
                elif r < 0.95:
                    try:
                        res = await pool.execute(
                            "SELECT $1::int8 AS v, $2::text AS s FROM pg_sleep($3::float8)",
                            [n, s, rnd.choice([0.0, 0.0, 0.02])],
                            timeout=rnd.uniform(0.001, 0.03))
                    except QueryTimeoutError:
                        c["timed_out"] += 1
                    else:
                        c["timeout_late"] += 1
                        check(res, n, s)
                else:
                    c["tx"] += 1
                    async with await pool.connection() as conn:
                        tx = conn.transaction()
                        await tx.begin()
                        out = await tx.pipeline([(q, [n, s]), (q, [n + 1, s + "'"])])
                        check(out[0], n, s)
                        check(out[1], n + 1, s + "'")
                        c["run"] += 1
                        if r < 0.975:
                            await tx.commit()
                        else:
                            await tx.rollback()
            except asyncio.CancelledError:
                raise
            except BaseException as e:   # noqa: BLE001 - counted, asserted below
                bad(e)

    t0 = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.gather(*(task(t) for t in range(100))), 300)
        elapsed = time.monotonic() - t0
        await assert_answers(pool)
        slots = await no_lost_slots(pool, observer)
        report("chaos", loop_name, queries_run=c["run"], results_checked=c["checked"],
               cancelled=c["cancelled"], cancel_too_late=c["cancel_late"],
               timed_out=c["timed_out"], timeout_too_late=c["timeout_late"],
               failing_statements=c["failing"], transactions=c["tx"], wrong=c["wrong"],
               unexpected=unexpected, seconds=f"{elapsed:.1f}",
               rate_qps=int(c["run"] / elapsed), rss_kib_before=rss0,
               rss_kib_after=rss_kib(), **slots)
        assert c["wrong"] == 0
        assert unexpected == {}, unexpected
        assert c["cancelled"] > 0 and c["timed_out"] > 0 and c["failing"] > 0
        assert slots["pool_size"] == slots["server_sessions"], slots
    finally:
        await pool.close()


async def assert_answers(pool: PSQLPool) -> None:
    res = await asyncio.wait_for(asyncio.gather(
        *(pool.execute("SELECT $1::int8 AS v", [i]) for i in range(30))), HANG)
    assert [r.result()[0]["v"] for r in res] == list(range(30))
