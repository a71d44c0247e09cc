"""LISTEN/NOTIFY: Listener on both APIs.

Notifications sent from a second connection (NOTIFY and pg_notify, payloads
up to the server's limit, many channels, a burst of 10,000 from two senders)
arrive complete and in order; a callback that raises is logged and reported
and the listener goes on; a listener whose backend is terminated, and then
whose server is restarted, reconnects by itself, LISTENs again, reports the
gap, and receives what is sent afterwards.  Runs on the loop the run selected
(PSQLPY_TEST_LOOP=uvloop for uvloop).
"""
from __future__ import annotations

import asyncio
import datetime
import logging
import time
from typing import Any, Callable, List, Tuple

import pytest

import pgcluster
from psqlpy import ConnectionPool, PSQLPool
from psqlpy._listener import Listener, ListenerNotificationMsg
from psqlpy.exceptions import (
    DatabaseError,
    ListenerCallbackError,
    ListenerStartError,
)

GUARD = 30.0   # a wait longer than this is a hang, not a slow machine


async def until(cond: Callable[[], bool], guard: float = GUARD) -> None:
    deadline = time.monotonic() + guard
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting (hang guard)")
        await asyncio.sleep(0.005)


class Collector:
    """An async callback that records (channel, payload, process_id)."""

    def __init__(self) -> None:
        self.got: List[Tuple[str, str, int]] = []
        self.conns: List[Any] = []

    async def __call__(self, connection: Any, payload: str, channel: str,
                       process_id: int) -> None:
        self.got.append((channel, payload, process_id))
        self.conns.append(connection)


def collector() -> Tuple[Collector, Callable[..., Any]]:
    c = Collector()

    async def cb(connection: Any, payload: str, channel: str, process_id: int) -> None:
        await c(connection, payload, channel, process_id)
    return c, cb


async def test_payloads_and_channel_names(dsn: str) -> None:
    pool = ConnectionPool(dsn=dsn, max_db_pool_size=3)
    sender = await pool.connection()
    listener = pool.listener()
    col, cb = collector()
    odd = 'Mixed "Case" chan'
    await listener.add_callback(odd, cb)
    await listener.startup()
    try:
        listener.listen()
        assert listener.is_started
        spid = await sender.fetch_val("SELECT pg_backend_pid()")
        payloads = ["", "x", "grüße ✓", "y" * 7999, "z" * 4000 + "é" * 1999]
        for p in payloads:
            await sender.execute("SELECT pg_notify($1, $2)", [odd, p])
        await sender.execute(f"NOTIFY \"{odd.replace(chr(34), chr(34) * 2)}\", 'plain'")
        await until(lambda: len(col.got) == len(payloads) + 1)
        assert [g[1] for g in col.got] == payloads + ["plain"]
        assert {g[0] for g in col.got} == {odd}
        assert {g[2] for g in col.got} == {spid}
        assert all(c is listener.connection for c in col.conns)
        # the server's limit: 8000 bytes is refused, and nothing arrives
        with pytest.raises(DatabaseError):
            await sender.execute("SELECT pg_notify($1, $2)", [odd, "w" * 8000])
        # the listener's connection stays usable for queries
        assert await listener.connection.fetch_val("SELECT 41 + 1") == 42
        await sender.execute("SELECT pg_notify($1, 'last')", [odd])
        await until(lambda: col.got[-1][1] == "last")
        assert len(col.got) == len(payloads) + 2
    finally:
        await listener.shutdown()
        sender.close()
        pool.close()
    assert not listener.is_started


async def test_many_channels_and_clearing(dsn: str) -> None:
    pool = ConnectionPool(dsn=dsn, max_db_pool_size=3)
    sender = await pool.connection()
    listener = pool.listener()
    col, cb = collector()
    channels = [f"chan_{i}" for i in range(60)]
    await listener.startup()   # channels added after startup LISTEN at once
    try:
        for ch in channels:
            await listener.add_callback(ch, cb)
        listener.listen()
        listening = await listener.connection.fetch("SELECT pg_listening_channels() AS c")
        assert sorted(r["c"] for r in listening.result()) == sorted(channels)
        for ch in reversed(channels):
            await sender.execute(f"NOTIFY {ch}, '{ch}'")
        await until(lambda: len(col.got) == len(channels))
        assert [g[1] for g in col.got] == list(reversed(channels))
        assert all(g[0] == g[1] for g in col.got)

        await listener.clear_channel_callbacks("chan_0")
        col.got.clear()
        await sender.execute_batch("NOTIFY chan_0, 'gone'; NOTIFY chan_1, 'kept'")
        await sender.execute("SELECT pg_notify('chan_0', 'gone')")
        await sender.execute("NOTIFY chan_2, 'end'")
        await until(lambda: len(col.got) == 2)
        assert [g[1] for g in col.got] == ["kept", "end"]

        await listener.clear_all_channels()
        res = await listener.connection.fetch("SELECT count(*) AS n FROM pg_listening_channels()")
        assert res.result()[0]["n"] == 0
    finally:
        await listener.shutdown()
        sender.close()
        pool.close()


@pytest.mark.parametrize("mode", ["async_for", "callbacks"])
async def test_burst_of_10000_in_order(dsn: str, mode: str, loop_name: str) -> None:
    """Two senders, 5,000 notifications each, at once: all 10,000 arrive, and
    each sender's in the order it sent them (read by ``async for``, or
    dispatched to a callback by ``listen()``)."""
    n_each = 5000
    pool = ConnectionPool(dsn=dsn, max_db_pool_size=4)
    a, b = await pool.connection(), await pool.connection()
    pids = [await a.fetch_val("SELECT pg_backend_pid()"),
            await b.fetch_val("SELECT pg_backend_pid()")]
    col = Collector()
    got: List[Tuple[str, int]] = []
    async with pool.listener() as listener:
        await listener.add_callback("burst", col)
        sql = ("SELECT count(pg_notify('burst', $1 || ':' || i)) "
               "FROM generate_series(1, $2::int) AS i")
        t0 = time.monotonic()
        sends = asyncio.gather(a.fetch_val(sql, ["a", n_each]), b.fetch_val(sql, ["b", n_each]))

        async def read() -> None:
            if mode == "callbacks":
                listener.listen()
                await until(lambda: len(col.got) >= 2 * n_each)
                got.extend((p, pid) for _, p, pid in col.got)
                return
            async for msg in listener:
                assert msg.channel == "burst"
                got.append((msg.payload, msg.process_id))
                if len(got) == 2 * n_each:
                    return
        await asyncio.wait_for(asyncio.gather(sends, read()), GUARD)
        elapsed = time.monotonic() - t0
    by_pid = {pid: [p for p, sender in got if sender == pid] for pid in pids}
    assert by_pid[pids[0]] == [f"a:{i}" for i in range(1, n_each + 1)]
    assert by_pid[pids[1]] == [f"b:{i}" for i in range(1, n_each + 1)]
    assert len(got) == 2 * n_each
    print(f"\n[listen] burst loop={loop_name} mode={mode}: {len(got)} notifications "
          f"from 2 senders, none lost, in order per sender, {elapsed:.3f} s")
    a.close()
    b.close()
    pool.close()


async def test_raising_callback_keeps_listening(dsn: str, caplog: pytest.LogCaptureFixture
                                               ) -> None:
    errors: List[Tuple[BaseException, ListenerNotificationMsg]] = []
    pool = ConnectionPool(dsn=dsn, max_db_pool_size=3)
    sender = await pool.connection()
    listener = pool.listener(on_error=lambda e, m: errors.append((e, m)))
    col, cb = collector()

    async def bad(connection: Any, payload: str, channel: str, process_id: int) -> None:
        if payload == "boom":
            raise RuntimeError("callback failed on purpose")

    await listener.add_callback("c", bad)
    await listener.add_callback("c", cb)
    caplog.set_level(logging.ERROR, logger="psqlpy")
    async with listener:
        listener.listen()
        for p in ["one", "boom", "two", "boom", "three"]:
            await sender.execute("SELECT pg_notify('c', $1)", [p])
        await until(lambda: len(col.got) == 5)
    assert [g[1] for g in col.got] == ["one", "boom", "two", "boom", "three"]
    assert [str(e) for e, _ in errors] == ["callback failed on purpose"] * 2
    assert all(m.payload == "boom" and m.channel == "c" for _, m in errors)
    recs = [r for r in caplog.records if r.name == "psqlpy" and r.levelno == logging.ERROR]
    assert len(recs) == 2 and all(r.exc_info for r in recs)
    sender.close()
    pool.close()


async def test_raising_callback_goes_to_loop_handler(dsn: str) -> None:
    pool = ConnectionPool(dsn=dsn, max_db_pool_size=3)
    sender = await pool.connection()
    listener = pool.listener()
    seen: List[dict] = []
    loop = asyncio.get_running_loop()
    old = loop.get_exception_handler()
    loop.set_exception_handler(lambda lp, ctx: seen.append(ctx))
    col, cb = collector()

    async def bad(connection: Any, payload: str, channel: str, process_id: int) -> None:
        raise ValueError(payload)
    try:
        await listener.add_callback("bad", bad)
        await listener.add_callback("good", cb)
        async with listener:
            listener.listen()
            await sender.execute_batch("NOTIFY bad, 'x'; NOTIFY good, 'y'")
            await until(lambda: len(col.got) == 1 and len(seen) == 1)
    finally:
        loop.set_exception_handler(old)
    assert isinstance(seen[0]["exception"], ValueError)
    sender.close()
    pool.close()


async def test_lifecycle_errors(dsn: str) -> None:
    pool = ConnectionPool(dsn=dsn, max_db_pool_size=2)
    listener = pool.listener()
    with pytest.raises(ListenerStartError):
        listener.listen()

    def not_async(*a: Any) -> None:
        pass
    with pytest.raises(ListenerCallbackError):
        await listener.add_callback("x", not_async)  # type: ignore[arg-type]
    await listener.startup()
    with pytest.raises(ListenerStartError):
        await listener.startup()
    listener.listen()
    with pytest.raises(ListenerStartError):
        listener.listen()
    listener.abort_listen()
    listener.listen()
    await listener.shutdown()
    assert not listener.is_started
    with pytest.raises(ListenerStartError):
        listener.connection
    with pytest.raises(ListenerStartError):
        await listener.__anext__()
    # a listener may be started again
    col, cb = collector()
    await listener.add_callback("again", cb)
    await listener.startup()
    reader = asyncio.ensure_future(listener.__anext__())
    other = await pool.connection()
    await other.execute("NOTIFY again, 'a'")
    other.close()
    assert (await asyncio.wait_for(reader, GUARD)).payload == "a"
    # shutting down ends an ``async for`` that waits
    async def drain() -> List[str]:
        return [m.payload async for m in listener]
    waiting = asyncio.ensure_future(drain())
    await asyncio.sleep(0.05)
    await listener.shutdown()
    assert await asyncio.wait_for(waiting, GUARD) == []
    # its connection went back to the pool, without its LISTENs
    assert pool.status().available >= 1
    conn = await pool.connection()
    res = await conn.fetch("SELECT count(*) AS n FROM pg_listening_channels()")
    assert res.result()[0]["n"] == 0
    conn.close()
    pool.close()


async def test_psqlpool_listener(dsn: str) -> None:
    pool = PSQLPool(dsn=dsn, max_db_pool_size=2)
    await pool.startup()
    col, cb = collector()
    gaps: List[Tuple[datetime.datetime, datetime.datetime]] = []

    async def on_gap(start: datetime.datetime, end: datetime.datetime) -> None:
        gaps.append((start, end))
    try:
        async with pool.listener(on_gap=on_gap) as listener:
            await listener.add_callback("old_api", cb)
            listener.listen()
            conn = await pool.connection()
            await conn.execute("SELECT pg_notify('old_api', 'p')")
            conn.close()
            await until(lambda: len(col.got) == 1)
            assert col.got[0][:2] == ("old_api", "p")
            res = await listener.connection.execute("SELECT pg_backend_pid() AS pid")
            pid = res.result()[0]["pid"]
            # its backend terminated: back by itself, gap reported (async hook)
            await pool.execute("SELECT pg_terminate_backend($1)", [pid])
            await until(lambda: len(gaps) == 1)
            assert gaps[0][0].tzinfo is not None and gaps[0][0] <= gaps[0][1]
            res = await listener.connection.execute("SELECT pg_backend_pid() AS pid")
            assert res.result()[0]["pid"] != pid
            await pool.execute("SELECT pg_notify('old_api', 'after')")
            await until(lambda: len(col.got) == 2)
            assert col.got[1][:2] == ("old_api", "after")
    finally:
        await pool.close()


# ---- connection loss: a private cluster this test may restart ---------------------

async def notify_retrying(pool: ConnectionPool, channel: str, payload: str) -> None:
    """Send one notification, retrying while the server comes back."""
    deadline = time.monotonic() + GUARD
    while True:
        try:
            conn = await pool.connection()
            try:
                await conn.execute("SELECT pg_notify($1, $2)", [channel, payload])
                return
            finally:
                conn.close()
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.02)


async def test_reconnects_after_terminate_and_restart(cluster: pgcluster.PgCluster,
                                                      loop_name: str,
                                                      caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    gaps: List[Tuple[datetime.datetime, datetime.datetime]] = []
    pool = ConnectionPool(dsn=cluster.dsn, max_db_pool_size=4)
    senders = ConnectionPool(dsn=cluster.dsn, max_db_pool_size=2)
    listener: Listener[Any] = pool.listener(on_gap=lambda s, e: gaps.append((s, e)))
    col, cb = collector()
    await listener.add_callback("alive", cb)
    await listener.add_callback("Other Chan", cb)
    caplog.set_level(logging.WARNING, logger="psqlpy")
    await listener.startup()
    try:
        listener.listen()
        await notify_retrying(senders, "alive", "before")
        await until(lambda: len(col.got) == 1)

        # 1. the backend is terminated
        pid = await listener.connection.fetch_val("SELECT pg_backend_pid()")
        killer = await senders.connection()
        assert await killer.fetch_val("SELECT pg_terminate_backend($1)", [pid])
        killer.close()
        await until(lambda: len(gaps) == 1)
        assert gaps[0][0] <= gaps[0][1]
        new_pid = await listener.connection.fetch_val("SELECT pg_backend_pid()")
        assert new_pid != pid
        for i in range(20):
            await notify_retrying(senders, "alive" if i % 2 else "Other Chan", f"t{i}")
        await until(lambda: len(col.got) == 21)
        assert [g[1] for g in col.got[1:]] == [f"t{i}" for i in range(20)]

        # 2. the server is restarted
        col.got.clear()
        t0 = time.monotonic()
        await asyncio.to_thread(cluster.restart)
        t_up = time.monotonic()
        # send until one arrives: the listener is back when it does
        seq = 0
        while not col.got:
            if time.monotonic() - t_up > GUARD:
                raise AssertionError("the listener did not come back (hang guard)")
            await notify_retrying(senders, "alive", f"probe{seq}")
            seq += 1
            await asyncio.sleep(0.01)
        recovered = time.monotonic() - t_up
        await until(lambda: len(gaps) == 2)
        col.got.clear()
        for i in range(100):
            await notify_retrying(senders, "Other Chan", f"r{i}")
        await until(lambda: len(col.got) == 100)
        assert [g[1] for g in col.got] == [f"r{i}" for i in range(100)]
        print(f"\n[listen] restart loop={loop_name} restart_s={t_up - t0:.3f} "
              f"recovery_after_up_s={recovered:.3f} probes_sent={seq} "
              f"gap_s={(gaps[1][1] - gaps[1][0]).total_seconds():.3f}")
    finally:
        await listener.shutdown()
        pool.close()
        senders.close()
    missed = [r for r in caplog.records if r.name == "psqlpy"
              and "may have been missed between" in r.getMessage()]
    assert len(missed) == 2
    assert pool.status().size >= 0
