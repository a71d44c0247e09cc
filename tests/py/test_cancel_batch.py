"""Cancelling execute_many() and pipeline(): the caller is never told
"cancelled" about work that was committed.

Outside a transaction block the statements run as one implicit
transaction committed by the final Sync, and PostgreSQL ignores a cancel
request that arrives while the backend waits for the next message.  So:

- while part of the operation is still unsent, the connection is closed
  without sending more: the server never gets the Sync and rolls back;
- once everything is sent, the server is asked to cancel and the call waits
  for its answer: CancelledError if the cancel took effect (rolled back),
  the normal result if the server had finished first.

Inside a transaction block the call raises CancelledError at once and the
connection is kept; the transaction is left failed (by the cancel, or, if
the server finished first, by the driver), so nothing of it can commit.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from helpers import activity, assert_pool_answers, backend_pid, observer, wait_until  # noqa: F401
from helpers3 import SlowPool, WireProxy, open_pool, pool  # noqa: F401
from psqlpy.exceptions import ConnectionFailedError, DatabaseError

PAD = "x" * 60           # a row's Bind/Execute is then about 110 bytes
RATE = 4_000_000         # bytes/s the throttled proxy passes on from the client
HANG = 30                # a hang guard, never a speed limit


@pytest.fixture
async def slow_pool(dsn_parts):
    with WireProxy(dsn_parts["host"], dsn_parts["port"], client_rate=RATE) as proxy:
        async with open_pool(proxy.dsn(dsn_parts), 2) as p:
            try:
                yield SlowPool(p, proxy)
            finally:
                proxy.release_clients()
                proxy.release_server()


@pytest.fixture
async def table(pool):
    """A real table (visible to every connection): (id int, v text)."""
    name = f"cancel_batch_{uuid.uuid4().hex[:12]}"
    await pool.execute(f"CREATE TABLE {name} (id int, v text)")
    try:
        yield name
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS {name}")


@pytest.fixture
async def slow_table(pool):
    """A table whose insert trigger sleeps 50 ms per row."""
    name = f"cancel_slow_{uuid.uuid4().hex[:12]}"
    await pool.execute(f"CREATE TABLE {name} (id int, v text)")
    await pool.execute(
        f"CREATE FUNCTION {name}_slow() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$BEGIN PERFORM pg_sleep(0.05); RETURN NEW; END$$")
    await pool.execute(
        f"CREATE TRIGGER {name}_t BEFORE INSERT ON {name} "
        f"FOR EACH ROW EXECUTE FUNCTION {name}_slow()")
    try:
        yield name
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS {name}")
        await pool.execute(f"DROP FUNCTION IF EXISTS {name}_slow()")


async def _count(observer, table: str, lo: int = 0, hi: int = 2 ** 31 - 1) -> int:
    res = await observer.fetch_row(
        f"SELECT count(*)::int AS n FROM {table} WHERE id BETWEEN $1 AND $2", [lo, hi])
    return res.result()["n"]


async def _outcome(task: asyncio.Task) -> str:
    try:
        await task
    except asyncio.CancelledError:
        return "cancelled"
    return "completed"


def _binds(proxy: WireProxy) -> int:
    """Bind messages the proxy has read from its clients so far."""
    return sum(c.snapshot().sent["B"] for c in proxy.connections)


async def _wait_binds(proxy: WireProxy, n: int) -> None:
    """Wait until the proxy has read at least `n` Bind messages in all."""
    async def enough():
        return _binds(proxy) >= n
    assert await wait_until(enough, timeout=HANG, interval=0.001), "the batch never got out"


async def _backend_gone(observer, pid: int) -> None:
    async def gone():
        return await activity(observer, pid) is None
    assert await wait_until(gone, timeout=HANG), f"backend {pid} is still there"


def _rows(start: int, n: int) -> list[list]:
    return [[start + i, PAD] for i in range(n)]


def _insert(conn, kind: str, sql: str, rows: list[list]):
    """The batch as one execute_many() or as a pipeline() of single rows."""
    if kind == "execute_many":
        return conn.execute_many(sql, rows)
    return conn.pipeline([(sql, row) for row in rows])


async def _wait_state(observer, pid: int, state: str, query: str = "") -> None:
    """Backend `pid` is in `state`, its last statement starting with `query`."""
    async def reached():
        a = await activity(observer, pid)
        return a is not None and a["state"] == state and a["query"].startswith(query)
    assert await wait_until(reached, timeout=HANG), f"backend {pid} never got {state!r}"


# ---------------------------------------------------------------------------
# outside a transaction block


async def test_cancelled_batch_is_never_reported_cancelled_when_committed(
        pool, slow_pool, observer, table):
    """Twenty cancels of a batch at points spread from its start to past its
    end, half through the throttled proxy (cancelled once the proxy has
    passed on 0 %, 10 %, ... 90 % of it, so the early ones find most of it
    unsent), half direct (sent at once; cancelled after 0, 3, ... loop
    iterations, the server busy or done, the last two after it committed).
    Each either raises CancelledError with none of its rows committed, or
    returns normally with all of them; the pool answers correctly after
    each."""
    n = 5_000
    sql = f"INSERT INTO {table} VALUES ($1, $2)"
    for p in (pool, slow_pool):
        conn = await p.connection()
        await conn.execute_many(sql, [[-1, "prepared"]])
        conn.close()
    seen: dict[str, int] = {}
    closed_pids = []
    for i in range(20):
        p = slow_pool if i % 2 == 0 else pool
        k = i // 2
        conn = await p.connection()
        pid = await backend_pid(conn)
        binds = _binds(slow_pool.proxy)
        task = asyncio.create_task(conn.execute_many(sql, _rows(i * n, n)))
        if p is slow_pool:
            await _wait_binds(slow_pool.proxy, binds + k * n // 10)
        elif k >= 8:
            async def committed():
                return await _count(observer, table, i * n, i * n + n - 1) == n
            assert await wait_until(committed, timeout=HANG)
        else:
            for _ in range(3 * k):
                await asyncio.sleep(0)
        task.cancel()
        outcome = await asyncio.wait_for(_outcome(task), HANG)
        closed = conn.closed
        if closed:
            closed_pids.append(pid)
            with pytest.raises(ConnectionFailedError):
                await conn.execute("SELECT 1")
        else:
            assert await backend_pid(conn) == pid
        conn.close()
        committed = await _count(observer, table, i * n, i * n + n - 1)
        key = f"{outcome}{' (closed)' if closed else ''}"
        seen[key] = seen.get(key, 0) + 1
        if outcome == "cancelled":
            assert committed == 0, f"try {i}: cancelled, {committed} rows"
        else:
            assert not closed
            assert committed == n, f"try {i}: completed with {committed} of {n} rows"
        await assert_pool_answers(p)
    # the closed sessions end without committing anything afterwards
    for pid in closed_pids:
        await _backend_gone(observer, pid)
    for i in range(20):
        assert await _count(observer, table, i * n, i * n + n - 1) in (0, n), f"try {i}"
    # the first throttled cancels come while most of the batch is unsent;
    # the last direct ones after it committed
    assert seen.get("cancelled (closed)", 0) >= 3, seen
    assert seen.get("completed", 0) >= 2, seen


async def test_cancel_while_sending_closes_the_connection(slow_pool, observer, table):
    conn = await slow_pool.connection()
    sql = f"INSERT INTO {table} VALUES ($1, $2)"
    await conn.execute_many(sql, [[-1, "prepared"]])
    pid = await backend_pid(conn)
    binds = _binds(slow_pool.proxy)
    task = asyncio.create_task(conn.execute_many(sql, _rows(0, 20_000)))   # ~0.5 s to send
    await _wait_binds(slow_pool.proxy, binds + 100)     # on its way...
    slow_pool.proxy.hold_clients()                      # ...and most of it surely unsent
    try:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, HANG)
    finally:
        slow_pool.proxy.release_clients()
    assert task.cancelled()
    assert conn.closed
    with pytest.raises(ConnectionFailedError):
        await conn.execute("SELECT 1")
    conn.close()
    await _backend_gone(observer, pid)
    assert await _count(observer, table) == 0
    await assert_pool_answers(slow_pool)
    assert slow_pool.status()["waiting"] == 0


@pytest.mark.parametrize("kind", ["execute_many", "pipeline"])
async def test_cancel_after_sending_rolls_back_and_keeps_the_connection(
        pool, observer, slow_table, kind):
    """Everything sent, the server busy in the statements: the cancel takes
    effect, nothing is committed, and the connection stays usable."""
    sql = f"INSERT INTO {slow_table} VALUES ($1, $2)"
    conn = await pool.connection()
    try:
        pid = await backend_pid(conn)
        task = asyncio.create_task(_insert(conn, kind, sql, _rows(0, 20)))
        await _wait_state(observer, pid, "active")
        task.cancel()
        # a cancel that had no effect would let the rows complete, and the
        # call return normally
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, HANG)
        assert task.cancelled()
        assert not conn.closed
        assert await _count(observer, slow_table) == 0
        assert await backend_pid(conn) == pid
        assert conn.transaction_status == "idle"
    finally:
        conn.close()
    await assert_pool_answers(pool)


@pytest.mark.parametrize("kind", ["execute_many", "pipeline"])
async def test_cancel_after_the_server_finished_returns_the_result(
        slow_pool, observer, table, kind):
    """The server committed before the cancel could act (its answer held up
    on the way): the call returns its result rather than claim it was
    cancelled."""
    sql = f"INSERT INTO {table} VALUES ($1, $2)"
    conn = await slow_pool.connection()
    try:
        pid = await backend_pid(conn)
        await conn.execute_many(sql, [[-1, "prepared"]])   # so it is sent in one go
        slow_pool.proxy.hold_server()
        task = asyncio.create_task(_insert(conn, kind, sql, _rows(0, 10)))

        async def committed():
            return await _count(observer, table) == 10
        assert await wait_until(committed, timeout=HANG)
        opened = len(slow_pool.proxy.connections)
        task.cancel()

        async def cancel_request_made():         # it comes through the proxy too
            return len(slow_pool.proxy.connections) > opened
        assert await wait_until(cancel_request_made, timeout=HANG)
        assert not task.done()                   # waiting for the answer
        slow_pool.proxy.release_server()
        result = await asyncio.wait_for(task, HANG)
        assert not task.cancelled()
        if kind == "execute_many":
            assert result is None
        else:
            assert [r.rows_affected for r in result] == [1] * 10
        assert task.cancelling() == 0        # the refused cancel was taken back
        assert await backend_pid(conn) == pid
    finally:
        slow_pool.proxy.release_server()
        conn.close()
    await assert_pool_answers(slow_pool)


# ---------------------------------------------------------------------------
# inside a transaction block


async def _assert_failed_then_rollback(conn, tx, pid: int) -> None:
    with pytest.raises(DatabaseError) as err:
        await asyncio.wait_for(tx.execute("SELECT 1"), HANG)
    assert err.value.sqlstate == "25P02"          # in failed transaction
    await tx.rollback()
    assert conn.transaction_status == "idle"
    assert await backend_pid(conn) == pid


@pytest.mark.parametrize("prepared", [True, False], ids=["completed", "before-it-ran"])
async def test_cancel_in_a_transaction_with_the_answer_held_up(
        slow_pool, observer, table, prepared):
    """The server's answer is held up on the way.  "completed": the batch ran
    in the transaction before the cancel; "before-it-ran": its statement was
    still being prepared, so no Bind/Execute goes out after the cancel.
    Either way the caller gets CancelledError and the transaction is made
    to fail (as a cancelled statement makes it fail), so nothing of the batch
    can be committed; the connection stays."""
    sql = f"INSERT INTO {table} VALUES ($1, $2)"
    conn = await slow_pool.connection()
    try:
        pid = await backend_pid(conn)
        if prepared:
            await conn.execute_many(sql, [[-1, "prepared"]])
        tx = conn.transaction()
        await tx.begin()
        slow_pool.proxy.hold_server()
        task = asyncio.create_task(tx.execute_many(sql, _rows(0, 10)))
        await _wait_state(observer, pid, "idle in transaction", "INSERT")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        slow_pool.proxy.release_server()
        assert not conn.closed
        await _assert_failed_then_rollback(conn, tx, pid)
        assert await _count(observer, table) == 0
    finally:
        slow_pool.proxy.release_server()
        conn.close()
    await assert_pool_answers(slow_pool)


async def test_cancel_in_a_transaction_while_sending(slow_pool, observer, table):
    """Inside a transaction the connection is not closed (that would end the
    caller's transaction behind its back): CancelledError at once, the
    transaction fails, the connection answers after the rollback."""
    sql = f"INSERT INTO {table} VALUES ($1, $2)"
    conn = await slow_pool.connection()
    try:
        pid = await backend_pid(conn)
        await conn.execute_many(sql, [[-1, "prepared"]])
        tx = conn.transaction()
        await tx.begin()
        binds = _binds(slow_pool.proxy)
        task = asyncio.create_task(tx.execute_many(sql, _rows(0, 20_000)))
        await _wait_binds(slow_pool.proxy, binds + 100)
        slow_pool.proxy.hold_clients()
        try:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await asyncio.wait_for(task, HANG)   # at once: the proxy still holds the rest
        finally:
            slow_pool.proxy.release_clients()
        assert not conn.closed
        await _assert_failed_then_rollback(conn, tx, pid)
        assert await _count(observer, table, 0) == 0
    finally:
        conn.close()
    await assert_pool_answers(slow_pool)


async def test_cancelled_transaction_block_rolls_back(slow_pool, observer, table):
    """The usual shape: `async with` sees the timeout and rolls back."""
    conn = await slow_pool.connection()
    try:
        with pytest.raises(asyncio.TimeoutError):
            async with conn.transaction() as tx:
                await asyncio.wait_for(
                    tx.execute_many(f"INSERT INTO {table} VALUES ($1, $2)", _rows(0, 20_000)),
                    0.05)
        assert conn.transaction_status == "idle"
        assert await _count(observer, table) == 0
        res = await conn.execute("SELECT $1::text AS s", ["after"])
        assert res.result() == [{"s": "after"}]
    finally:
        conn.close()
