"""Helpers shared by test_transactions.py, test_cursors.py and test_batch.py.

- ``open_pool(dsn, size)``: a started PSQLPool, closed on exit.
- ``scratch_table(pool, columns)``: a real (not temporary) table with a
  unique name, visible to every connection of the pool, dropped on exit.
- ``SlowPool``: a pool through a throttled WireProxy whose sockets buffer
  little, so that a large send stays queued in libpq.
- ``WireProxy``: a TCP proxy between the driver and the server that reads
  the frontend protocol and counts what the client sends, so tests can check
  the shape of the conversation (how many Syncs and Binds, and how often
  the client had to wait for the server before sending more).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import struct
import threading
from collections import Counter
from typing import AsyncIterator
from urllib.parse import quote

import psqlpy
import pytest

_table_ids = itertools.count(1)


@contextlib.asynccontextmanager
async def open_pool(dsn: str, size: int = 2, **kwargs) -> AsyncIterator[psqlpy.PSQLPool]:
    """A started pool of at most ``size`` connections; closed on exit."""
    pool = psqlpy.PSQLPool(dsn=dsn, max_db_pool_size=size, **kwargs)
    await pool.startup()
    try:
        yield pool
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def scratch_table(pool: psqlpy.PSQLPool, columns: str = "id int PRIMARY KEY, v text"):
    """Create a uniquely named table with ``columns``; drop it on exit.

    Yields the (unquoted, lower-case) table name.
    """
    name = f"pyt3_{os.getpid()}_{next(_table_ids)}"
    await pool.execute(f"DROP TABLE IF EXISTS {name}")
    await pool.execute(f"CREATE TABLE {name} ({columns})")
    try:
        yield name
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS {name}")


async def count_rows(pool: psqlpy.PSQLPool, table: str) -> int:
    """Committed rows in ``table``, seen from a fresh pool connection."""
    res = await pool.fetch_row(f"SELECT count(*)::int AS n FROM {table}")
    return res.result()["n"]


def column(result, name: str = "n") -> list:
    """One column of a QueryResult as a list, in row order."""
    return [row[name] for row in result.result()]


# --------------------------------------------------------------------------
# wire proxy

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104


class _Splitter:
    """Splits one direction's byte stream into protocol messages and counts
    them by type byte into ``counts``.

    Client side: the first messages carry no type byte (SSLRequest,
    GSSENCRequest, then StartupMessage).  Server side: each SSL/GSS request
    is answered by one bare byte.  Every other message is type byte + int32
    length + body.
    """

    def __init__(self, counts: Counter, client: bool) -> None:
        self.counts = counts
        self.buf = bytearray()
        self.untyped = client          # client: until the StartupMessage
        self.bare_bytes = 0            # server: answers owed to SSL/GSS requests
        self.peer: _Splitter | None = None

    def feed(self, data: bytes) -> None:
        self.buf += data
        while self._one():
            pass

    def _one(self) -> bool:
        if self.bare_bytes:
            if not self.buf:
                return False
            del self.buf[:1]
            self.bare_bytes -= 1
            return True
        if self.untyped:
            if len(self.buf) < 8:
                return False
            (length,) = struct.unpack_from("!i", self.buf, 0)
            if len(self.buf) < length:
                return False
            (code,) = struct.unpack_from("!i", self.buf, 4)
            del self.buf[:length]
            if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                self.peer.bare_bytes += 1
            else:
                self.untyped = False
                self.counts["startup"] += 1
            return True
        if len(self.buf) < 5:
            return False
        (length,) = struct.unpack_from("!i", self.buf, 1)
        if len(self.buf) < 1 + length:
            return False
        self.counts[chr(self.buf[0])] += 1
        del self.buf[:1 + length]
        return True


class WireSnapshot:
    """Counters of one proxied connection at one moment; ``b - a`` is what
    happened between two snapshots.

    ``sent``: Counter of the client's message type bytes ('P' Parse, 'B'
    Bind, 'E' Execute, 'S' Sync, 'Q' simple Query, ...).
    ``turns``: times the client sent again after the server had sent
    anything (byte-level interleaving; at least one per round trip).
    ``waits``: times the client sent again after a ReadyForQuery, i.e.
    after waiting out a complete round trip.
    """

    def __init__(self, sent: Counter, turns: int, waits: int) -> None:
        self.sent, self.turns, self.waits = sent, turns, waits

    def __sub__(self, other: WireSnapshot) -> WireSnapshot:
        return WireSnapshot(self.sent - other.sent, self.turns - other.turns,
                            self.waits - other.waits)


class WireStats:
    """Live counters of one proxied connection (see WireSnapshot)."""

    def __init__(self) -> None:
        self.sent: Counter = Counter()
        self.received: Counter = Counter()
        self.turns = 0
        self.waits = 0
        self.lock = threading.Lock()
        self.client = _Splitter(self.sent, client=True)
        self.server = _Splitter(self.received, client=False)
        self.client.peer = self.server
        self._server_spoke = False
        self._ready_seen = 0

    def from_client(self, data: bytes) -> None:
        with self.lock:
            if self._server_spoke:
                self.turns += 1
                self._server_spoke = False
            if self.received["Z"] != self._ready_seen:
                self.waits += 1
                self._ready_seen = self.received["Z"]
            self.client.feed(data)

    def from_server(self, data: bytes) -> None:
        with self.lock:
            self._server_spoke = True
            self.server.feed(data)

    def snapshot(self) -> WireSnapshot:
        with self.lock:
            return WireSnapshot(Counter(self.sent), self.turns, self.waits)


class WireProxy:
    """A TCP proxy on 127.0.0.1 in its own thread, counting frontend traffic.

    ``with WireProxy(host, port) as proxy:`` then connect to
    ``proxy.port``; ``proxy.connections`` holds one WireStats per accepted
    connection, in accept order.  With ``client_rate`` (bytes per second)
    the client's bytes are passed on no faster than that, and no more than
    a few chunks are read ahead, so a large send stays queued in the client
    for a predictable time.  ``hold_server()`` keeps what the server sends
    from the clients until ``release_server()``; ``hold_clients()`` keeps
    what the connections open at that moment send from the server until
    ``release_clients()`` (connections opened later, such as cancel
    requests, pass).  Both take effect before they return.
    """

    def __init__(self, upstream_host: str, upstream_port: int,
                 client_rate: float | None = None) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.client_rate = client_rate
        self.connections: list[WireStats] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    def __enter__(self) -> WireProxy:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        fut = asyncio.run_coroutine_threadsafe(self._stop(), self._loop)
        try:
            fut.result(timeout=10)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()

    def dsn(self, parts: dict) -> str:
        """A DSN for the upstream server's user/db that goes through the proxy."""
        user = quote(parts["username"], safe="")
        password = quote(parts["password"], safe="")
        return (f"postgresql://{user}:{password}@127.0.0.1:{self.port}/"
                f"{quote(parts['db_name'], safe='')}?sslmode=disable&gssencmode=disable")

    def _on_loop(self, fn) -> None:
        """Run fn() on the proxy's loop and wait until it has run."""
        async def run() -> None:
            fn()
        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def hold_server(self) -> None:
        self._on_loop(self._release.clear)

    def release_server(self) -> None:
        self._on_loop(self._release.set)

    def hold_clients(self) -> None:
        def hold() -> None:
            for gate in self._client_gates:
                gate.clear()
        self._on_loop(hold)

    def release_clients(self) -> None:
        def release() -> None:
            for gate in self._client_gates:
                gate.set()
        self._on_loop(release)

    async def _start(self) -> None:
        self._release = asyncio.Event()
        self._release.set()
        # throttled: read ahead little, and let the kernel buffer little either
        limit = 16384 if self.client_rate else 2 ** 16
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, limit=limit)
        if self.client_rate:
            self._server.sockets[0].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        self.port = self._server.sockets[0].getsockname()[1]
        self._tasks: set[asyncio.Task] = set()
        self._client_gates: list[asyncio.Event] = []

    async def _stop(self) -> None:
        self._server.close()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        self._tasks.add(asyncio.current_task())
        stats = WireStats()
        self.connections.append(stats)
        client_gate = asyncio.Event()
        client_gate.set()
        self._client_gates.append(client_gate)
        try:
            sreader, swriter = await asyncio.open_connection(*self.upstream)
        except OSError:
            cwriter.close()
            return
        for w in (cwriter, swriter):
            w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        async def pump(reader, writer, record, rate=None, gate=None) -> None:
            while data := await reader.read(16384 if rate else 65536):
                record(data)            # counted before the other side can see it
                if gate is not None:
                    await gate.wait()
                writer.write(data)
                await writer.drain()
                if rate:
                    await asyncio.sleep(len(data) / rate)
            writer.close()

        try:
            await asyncio.gather(pump(creader, swriter, stats.from_client, self.client_rate,
                                      gate=client_gate),
                                 pump(sreader, cwriter, stats.from_server, gate=self._release))
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            for w in (cwriter, swriter):
                w.close()
            self._tasks.discard(asyncio.current_task())


class SlowPool:
    """A pool whose connections go through a WireProxy with a client_rate,
    with little buffered on the way: a batch of n rows of ~110 bytes takes
    about n * 110 / client_rate s to send, and libpq holds most of it until
    then (or until the proxy's release_clients(), after hold_clients())."""

    def __init__(self, pool, proxy: WireProxy) -> None:
        self.pool, self.proxy, self.port = pool, proxy, proxy.port

    def __getattr__(self, name):
        return getattr(self.pool, name)

    async def connection(self):
        conn = await self.pool.connection()
        self.shrink_send_buffers()
        return conn

    def shrink_send_buffers(self) -> None:
        """Left to itself the kernel grows a socket's send buffer to
        megabytes, taking a whole batch off libpq's hands at once; pin the
        driver's sockets to the proxy at a few KB."""
        for fd in os.listdir("/proc/self/fd"):
            try:
                if not os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                    continue
                s = socket.socket(fileno=os.dup(int(fd)))
            except OSError:
                continue
            with s:
                try:
                    if s.family == socket.AF_INET and s.getpeername()[1] == self.port:
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
                except OSError:
                    pass


# --------------------------------------------------------------------------
# pytest fixtures (import them into a test module to use them)


@pytest.fixture
async def pool(dsn: str):
    """A started pool of two connections."""
    async with open_pool(dsn, 2) as p:
        yield p


@pytest.fixture
async def table(pool: psqlpy.PSQLPool):
    """A scratch table ``(id int PRIMARY KEY, v text)``; yields its name."""
    async with scratch_table(pool) as name:
        yield name


@pytest.fixture
async def conn(pool: psqlpy.PSQLPool):
    """A connection borrowed from ``pool``, given back after the test."""
    c = await pool.connection()
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def wire_proxy(dsn_parts: dict):
    """A WireProxy in front of the test server."""
    with WireProxy(dsn_parts["host"], dsn_parts["port"]) as proxy:
        yield proxy
