"""Every promise of the README's Cancellation section, for each method it
names (execute, fetch_row, execute_many, pipeline) on the pool, a lent
connection and a transaction (conn.transaction() and pool.transaction()).

The states are made by events, never by timing:

- waiting for a connection: the pool's only connection is lent (status()
  shows the waiter), or another statement runs before it on the connection;
- still unsent: the proxy holds what the connection sends
  (WireProxy.hold_clients), so libpq keeps most of a large request queued;
- sent, the server busy: the statement waits for a table lock another
  session holds (pg_stat_activity shows the wait);
- sent, the server done: its effect is visible, and the proxy holds the
  server's answer (WireProxy.hold_server).

"At once" is an ordering: the call is over while the lock, or the proxy,
still holds back what it would otherwise have waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from helpers import assert_pool_answers, backend_pid, observer, wait_until  # noqa: F401
from helpers3 import SlowPool, WireProxy, open_pool
from psqlpy.exceptions import ConnectionFailedError, DatabaseError, TransactionError

KINDS = ("execute", "fetch_row", "execute_many", "pipeline")
SINGLE = ("execute", "fetch_row")
BATCH = ("execute_many", "pipeline")
PAD = "x" * 60            # a row's Bind/Execute is about 110 bytes
BIG_ROWS = 20_000         # a batch of ~2 MB
BIG_TEXT = "y" * 2_000_000
RATE = 20_000_000         # bytes/s the proxy passes on from the client, once released
HANG = 30                 # a hang guard, never a speed limit


def _sql(table: str) -> str:
    return f"INSERT INTO {table} VALUES ($1, $2) RETURNING id"


def call(target, kind: str, table: str, ids, pad: str = PAD):
    """Insert rows `ids` with the method `kind` of `target` (pool,
    connection or transaction); returns the PendingQuery."""
    sql = _sql(table)
    if kind == "execute":
        return target.execute(sql, [ids[0], pad])
    if kind == "fetch_row":
        return target.fetch_row(sql, [ids[0], pad])
    if kind == "execute_many":
        return target.execute_many(sql, [[i, pad] for i in ids])
    return target.pipeline([(sql, [i, pad]) for i in ids])


def check_result(kind: str, result, ids) -> None:
    """`result` is the normal outcome of call(kind, ids)."""
    if kind == "execute":
        assert result.result() == [{"id": ids[0]}]
    elif kind == "fetch_row":
        assert result.result() == {"id": ids[0]}
    elif kind == "execute_many":
        assert result is None
    else:
        assert [r.result() for r in result] == [[{"id": i}] for i in ids]


def small(kind: str) -> list:
    return [0] if kind in SINGLE else [0, 1, 2]


def big(kind: str) -> tuple[list, str]:
    """ids and pad of a request far larger than what the sockets buffer."""
    if kind in SINGLE:
        return [0], BIG_TEXT
    return list(range(BIG_ROWS)), PAD


async def prepare(target, kind: str, table: str) -> None:
    """Have the connection's statement cache hold the INSERT (row id -1,
    which the counts leave out), so that a later call sends Bind/Execute
    at once instead of waiting for a Describe first."""
    if kind in SINGLE:
        await call(target, "execute", table, [-1])
    elif hasattr(target, "execute_many"):
        await call(target, "execute_many", table, [-1])
    else:                                   # a pool of one: its only connection
        async with await target.connection() as conn:
            await call(conn, "execute_many", table, [-1])


async def count(observer, table: str) -> int:
    res = await observer.fetch_row(f"SELECT count(*)::int AS n FROM {table} WHERE id >= 0")
    return res.result()["n"]


async def finished(task: asyncio.Future) -> None:
    """Wait until `task` is done (a hang guard, not a time limit)."""
    await asyncio.wait({task}, timeout=HANG)
    assert task.done(), "the call did not end"


async def wait_blocked(observer, pid: int) -> None:
    """Backend `pid` waits for a lock."""
    async def blocked():
        res = await observer.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1", [pid])
        rows = res.result()
        return bool(rows) and rows[0]["wait_event_type"] == "Lock"
    assert await wait_until(blocked, timeout=HANG), f"backend {pid} never waited for the lock"


async def wait_state(observer, pid: int, state: str, query: str) -> None:
    async def reached():
        res = await observer.execute(
            "SELECT state, query FROM pg_stat_activity WHERE pid = $1", [pid])
        rows = res.result()
        return bool(rows) and rows[0]["state"] == state and rows[0]["query"].startswith(query)
    assert await wait_until(reached, timeout=HANG), f"backend {pid} never got {state!r}"


async def backend_gone(observer, pid: int) -> None:
    async def gone():
        res = await observer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = $1", [pid])
        return res.result() == []
    assert await wait_until(gone, timeout=HANG), f"backend {pid} is still there"


async def assert_tx_failed(tx) -> None:
    """The transaction is failed: statements get 25P02, and COMMIT commits
    nothing (the caller checks the table)."""
    with pytest.raises(DatabaseError) as err:
        await asyncio.wait_for(tx.execute("SELECT 1"), HANG)
    assert err.value.sqlstate == "25P02"


class Locker:
    """ACCESS EXCLUSIVE lock on a table, held by a transaction of another
    session until unlock()."""

    def __init__(self, pool, table: str) -> None:
        self.pool, self.table, self.conn, self.tx = pool, table, None, None

    async def __aenter__(self) -> Locker:
        self.conn = await self.pool.connection()
        self.tx = self.conn.transaction()
        await self.tx.begin()
        await self.tx.execute(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE")
        return self

    async def unlock(self) -> None:
        if self.conn is not None:
            await self.tx.rollback()
            self.conn.close()
            self.conn = None

    async def __aexit__(self, *exc) -> None:
        await self.unlock()


async def cancel_while_locked(direct, observer, table: str, target, kind: str,
                              pid: int) -> None:
    """Start the insert on `target` (backend `pid`) and cancel it while it
    waits for a lock another session holds: the call ends cancelled before
    the lock is let go."""
    async with Locker(direct, table) as lock:
        task = asyncio.ensure_future(call(target, kind, table, small(kind)))
        await wait_blocked(observer, pid)
        task.cancel()
        await finished(task)
        assert task.cancelled()
        assert lock.conn is not None            # the lock was never let go


# ---------------------------------------------------------------------------
# fixtures


@pytest.fixture
async def direct(dsn):
    """Two connections straight to the server, for set-up and locks."""
    async with open_pool(dsn, 2) as p:
        yield p


@pytest.fixture
async def single(dsn):
    """A pool of one connection (so pool calls use a known backend)."""
    async with open_pool(dsn, 1) as p:
        yield p


@pytest.fixture
async def slow(dsn_parts):
    """A pool of one connection through a WireProxy that buffers little."""
    with WireProxy(dsn_parts["host"], dsn_parts["port"], client_rate=RATE) as proxy:
        try:
            async with open_pool(proxy.dsn(dsn_parts), 1) as p:
                yield SlowPool(p, proxy)
        finally:
            proxy.release_clients()
            proxy.release_server()


@pytest.fixture
async def table(direct):
    name = f"cancel_promise_{uuid.uuid4().hex[:12]}"
    await direct.execute(f"CREATE TABLE {name} (id int, v text)")
    try:
        yield name
    finally:
        await direct.execute(f"DROP TABLE IF EXISTS {name}")


# the pool has execute() and fetch_row(); a lent connection all four
ON_POOL_AND_CONNECTION = [("pool", k) for k in SINGLE] + [("connection", k) for k in KINDS]


async def on(pool, where: str):
    """(lent connection or None, what to call): the pool itself, or a
    connection lent by it."""
    if where == "pool":
        return None, pool
    conn = await pool.connection()
    return conn, conn


async def open_tx(pool, how: str):
    """A begun transaction: on a lent connection, or pool.transaction()."""
    if how == "pool.transaction":
        return None, await pool.transaction()
    conn = await pool.connection()
    tx = conn.transaction()
    await tx.begin()
    return conn, tx


async def end_tx(conn, tx) -> None:
    """Give back what open_tx() took (a finished transaction needs nothing)."""
    if conn is not None:
        conn.close()
    else:
        with contextlib.suppress(TransactionError):
            await tx.rollback()


# ---------------------------------------------------------------------------
# waiting for a connection: withdrawn, never reaches the server


@pytest.mark.parametrize("what", ["execute", "fetch_row", "connection", "transaction"])
async def test_waiting_for_a_pool_connection_is_withdrawn(single, observer, table, what):
    lent = await single.connection()
    pid = await backend_pid(lent)
    if what in SINGLE:
        pending = call(single, what, table, [0])
    else:
        pending = getattr(single, what)()
    task = asyncio.ensure_future(pending)

    async def waiting():
        return single.status()["waiting"] == 1
    assert await wait_until(waiting, timeout=HANG)
    task.cancel()
    await finished(task)
    assert task.cancelled()
    assert single.status()["waiting"] == 0
    lent.close()
    assert await backend_pid(single) == pid
    st = single.status()
    assert st["idle"] == st["size"] == 1 and st["waiting"] == 0
    assert await count(observer, table) == 0
    await assert_pool_answers(single)


@pytest.mark.parametrize("kind", KINDS)
async def test_queued_behind_another_statement_is_withdrawn(single, direct, observer, table,
                                                            kind):
    """On a lent connection a call waits behind the one running; cancelled
    there, it is taken off the queue and never sent."""
    async with await single.connection() as conn:
        pid = await backend_pid(conn)
        async with Locker(direct, table) as lock:
            first = asyncio.ensure_future(conn.execute(f"SELECT count(*)::int AS n FROM {table}"))
            await wait_blocked(observer, pid)
            queued = asyncio.ensure_future(call(conn, kind, table, small(kind)))
            await asyncio.sleep(0)                  # it waits now
            queued.cancel()
            await finished(queued)
            assert queued.cancelled()
            assert not first.done()                 # still behind the lock
            await lock.unlock()
        assert (await asyncio.wait_for(first, HANG)).result() == [{"n": 0}]
        assert await backend_pid(conn) == pid
        assert conn.transaction_status == "idle"
    assert await count(observer, table) == 0
    await assert_pool_answers(single)


# ---------------------------------------------------------------------------
# outside a transaction block, still unsent: the connection is closed


@pytest.mark.parametrize("where, kind", ON_POOL_AND_CONNECTION)
async def test_unsent_outside_a_transaction_closes_the_connection(slow, observer, table,
                                                                  where, kind):
    conn, target = await on(slow, where)
    pid = await backend_pid(target)
    await prepare(target, kind, table)
    slow.shrink_send_buffers()
    wire = slow.proxy.connections[0]              # the pool's only connection so far
    syncs = wire.snapshot().sent["S"]
    ids, pad = big(kind)
    slow.proxy.hold_clients()
    try:
        task = asyncio.ensure_future(call(target, kind, table, ids, pad))
        await asyncio.sleep(0)                     # it waits now, most of it unsent
        task.cancel()
        await finished(task)                       # while the proxy still holds it all
        assert task.cancelled()
        if conn is not None:
            assert conn.closed
            with pytest.raises(ConnectionFailedError):
                await conn.execute("SELECT 1")
    finally:
        slow.proxy.release_clients()
        if conn is not None:
            conn.close()
    await backend_gone(observer, pid)             # the server saw the stream end...
    assert wire.snapshot().sent["S"] == syncs     # ...without the request's Sync
    assert await count(observer, table) == 0
    assert await backend_pid(slow) != pid         # the pool opened a new connection
    await assert_pool_answers(slow)
    st = slow.status()
    assert st["idle"] == st["size"] == 1 and st["waiting"] == 0


# ---------------------------------------------------------------------------
# outside a transaction block, sent


@pytest.mark.parametrize("where, kind", ON_POOL_AND_CONNECTION)
async def test_sent_outside_a_transaction_cancel_stops_the_statement(single, direct, observer,
                                                                     table, where, kind):
    """The statement waits for a lock: the cancel request takes effect,
    CancelledError comes while the lock is still held (a batch waits for
    the server's answer to the cancel, which comes at once), nothing is
    committed, the connection stays."""
    conn, target = await on(single, where)
    try:
        pid = await backend_pid(target)
        await prepare(target, kind, table)
        await cancel_while_locked(direct, observer, table, target, kind, pid)
        assert await count(observer, table) == 0
        assert await backend_pid(target) == pid    # after the late answer, dropped
        if conn is not None:
            assert not conn.closed and conn.transaction_status == "idle"
    finally:
        if conn is not None:
            conn.close()
    assert await count(observer, table) == 0
    await assert_pool_answers(single)


@pytest.mark.parametrize("where, kind", [(w, k) for w, k in ON_POOL_AND_CONNECTION
                                         if k in SINGLE])
async def test_sent_single_statement_the_server_finished_keeps_its_effect(slow, observer, table,
                                                                          where, kind):
    """execute()/fetch_row() outside a transaction block: once sent, the
    cancel request goes out and CancelledError comes at once, without
    waiting for the answer (still held by the proxy); a statement the
    server had finished keeps its effect, and its late answer is dropped."""
    conn, target = await on(slow, where)
    try:
        pid = await backend_pid(target)
        await prepare(target, kind, table)
        slow.proxy.hold_server()
        task = asyncio.ensure_future(call(target, kind, table, [0]))

        async def committed():
            return await count(observer, table) == 1
        assert await wait_until(committed, timeout=HANG)
        task.cancel()
        await finished(task)                        # the answer is still held
        assert task.cancelled()
        slow.proxy.release_server()
        res = await asyncio.wait_for(
            target.execute("SELECT pg_backend_pid() AS pid, $1::text AS s", ["next"]), HANG)
        assert res.result() == [{"pid": pid, "s": "next"}]
    finally:
        slow.proxy.release_server()
        if conn is not None:
            conn.close()
    assert await count(observer, table) == 1
    await assert_pool_answers(slow)


# ---------------------------------------------------------------------------
# inside a transaction block: CancelledError at once, the transaction failed


TX = ["connection.transaction", "pool.transaction"]


@pytest.mark.parametrize("how", TX)
@pytest.mark.parametrize("kind", KINDS)
async def test_in_a_transaction_cancel_stops_the_statement(single, direct, observer, table,
                                                           kind, how):
    await prepare(single, kind, table)
    conn, tx = await open_tx(single, how)
    try:
        pid = await backend_pid(tx)
        await cancel_while_locked(direct, observer, table, tx, kind, pid)
        await assert_tx_failed(tx)
        await tx.commit()
        assert await backend_pid(conn or single) == pid
    finally:
        await end_tx(conn, tx)
    assert await count(observer, table) == 0
    await assert_pool_answers(single)


@pytest.mark.parametrize("how", TX)
@pytest.mark.parametrize("kind", KINDS)
async def test_in_a_transaction_statement_completed_anyway_fails_the_transaction(
        slow, observer, table, kind, how):
    """The server ran the statement before the cancel could stop it (its
    answer held up by the proxy): CancelledError all the same, at once, and
    the driver fails the transaction, so COMMIT commits nothing of it."""
    await prepare(slow, kind, table)
    conn, tx = await open_tx(slow, how)
    try:
        pid = await backend_pid(tx)
        slow.proxy.hold_server()
        task = asyncio.ensure_future(call(tx, kind, table, small(kind)))
        await wait_state(observer, pid, "idle in transaction", "INSERT")
        task.cancel()
        await finished(task)                        # the answer is still held
        assert task.cancelled()
        slow.proxy.release_server()
        await assert_tx_failed(tx)
        await tx.commit()
        assert await backend_pid(conn or slow) == pid
    finally:
        slow.proxy.release_server()
        await end_tx(conn, tx)
    assert await count(observer, table) == 0
    await assert_pool_answers(slow)


@pytest.mark.parametrize("kind", KINDS)
async def test_in_a_transaction_unsent_keeps_the_connection(slow, observer, table, kind):
    """Inside a transaction block the connection is not closed (that would
    end the caller's transaction behind its back): CancelledError at once,
    the rest is sent, the transaction fails."""
    conn = await slow.connection()
    try:
        pid = await backend_pid(conn)
        await prepare(conn, kind, table)
        slow.shrink_send_buffers()
        tx = conn.transaction()
        await tx.begin()
        ids, pad = big(kind)
        slow.proxy.hold_clients()
        try:
            task = asyncio.ensure_future(call(tx, kind, table, ids, pad))
            await asyncio.sleep(0)
            task.cancel()
            await finished(task)                    # the proxy still holds it
            assert task.cancelled()
            assert not conn.closed
        finally:
            slow.proxy.release_clients()
        await assert_tx_failed(tx)
        await tx.commit()
        assert conn.transaction_status == "idle"
        assert await backend_pid(conn) == pid
    finally:
        conn.close()
    assert await count(observer, table) == 0
    await assert_pool_answers(slow)


# ---------------------------------------------------------------------------
# a cancel that reaches a call after it completed returns its result


@pytest.mark.parametrize("in_tx", [False, True], ids=["outside", "in-transaction"])
@pytest.mark.parametrize("kind", KINDS)
async def test_cancel_after_completion_returns_the_result(single, observer, table, kind, in_tx):
    """The call's results are in, its task not yet woken: a cancel now is
    refused (Task.uncancel()) and the result is returned; a transaction
    stays healthy."""
    async with await single.connection() as conn:
        tx = conn.transaction() if in_tx else None
        if tx is not None:
            await tx.begin()
        target = tx or conn
        reached = 0
        for attempt in range(20):
            ids = [100 * attempt + i for i in small(kind)]
            pending = call(target, kind, table, ids)
            task = asyncio.ensure_future(pending)
            while not pending.done:
                await asyncio.sleep(0)
            if task.done():          # woken before this test ran: try again
                check_result(kind, task.result(), ids)
                continue
            assert task.cancel()
            result = await asyncio.wait_for(task, HANG)
            assert not task.cancelled() and task.cancelling() == 0
            check_result(kind, result, ids)
            reached += 1
        assert reached > 0, "the results never came in before the task woke"
        if tx is not None:
            res = await tx.execute("SELECT 1 AS one")      # not failed
            assert res.result() == [{"one": 1}]
            await tx.commit()
    want = 20 * len(small(kind))
    assert await count(observer, table) == want
