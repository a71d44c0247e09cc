"""TCP proxy that delays every client-to-server byte by a fixed time.

The added-latency mode puts PostgreSQL behind this proxy: the apps connect
to the proxy's port on 127.0.0.1, and each chunk they send reaches the
server `--delay-ms` later, in order; the server's answers pass straight
through.  So every client-to-server trip costs the delay once: a query
round trip gains `delay`, a transaction of BEGIN, three statements and
COMMIT five times that (fewer if a driver pipelines).

Why a proxy and not tc netem in a network namespace: the kernels these
machines run are built without the netem qdisc (CONFIG_NET_SCH_NETEM is not
set; `tc qdisc add ... netem` answers "Specified qdisc kind is unknown").
The proxy needs no privileges and touches only 127.0.0.1; it runs as its
own process so its CPU share is measured like everything else's.

Run: python delayproxy.py --listen-port P --target-port 5432 --delay-ms 5
     (prints "ready" on stdout once listening)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import time


class _Upstream(asyncio.Protocol):
    """Proxy -> server connection: forwards the server's bytes at once."""

    def __init__(self, downstream: "_Downstream") -> None:
        self.down = downstream
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.down.upstream_ready(self)

    def data_received(self, data: bytes) -> None:
        self.down.transport.write(data)

    def connection_lost(self, exc) -> None:
        self.down.transport.close()


class _Downstream(asyncio.Protocol):
    """App -> proxy connection: queues the app's bytes, releases them after the delay."""

    def __init__(self, target: tuple[str, int], delay: float) -> None:
        self.target, self.delay = target, delay
        self.queue: collections.deque = collections.deque()   # (due, bytes), in order
        self.timer: asyncio.TimerHandle | None = None
        self.up: _Upstream | None = None
        self.transport: asyncio.Transport | None = None
        self.closing = False

    def connection_made(self, transport) -> None:
        self.transport = transport
        loop = asyncio.get_running_loop()
        task = loop.create_task(loop.create_connection(lambda: _Upstream(self), *self.target))
        task.add_done_callback(self._connect_done)

    def _connect_done(self, task) -> None:
        if task.cancelled() or task.exception() is not None:
            self.transport.close()

    def upstream_ready(self, up: _Upstream) -> None:
        self.up = up
        self._flush()

    # Deadlines are on time.monotonic(), not loop.time(): uvloop's loop
    # time is cached per iteration in whole milliseconds, which would let a
    # chunk go out up to a millisecond before its delay is over.
    def data_received(self, data: bytes) -> None:
        self.queue.append((time.monotonic() + self.delay, data))
        if self.timer is None and self.up is not None:
            self._arm()

    def _arm(self) -> None:
        wait = self.queue[0][0] - time.monotonic()
        self.timer = asyncio.get_running_loop().call_later(max(wait, 0.0), self._flush)

    def _flush(self) -> None:
        self.timer = None
        if self.up is None:
            return
        now = time.monotonic()
        while self.queue and self.queue[0][0] <= now:
            self.up.transport.write(self.queue.popleft()[1])
        if self.queue:
            self._arm()
        elif self.closing:
            self.up.transport.close()

    def connection_lost(self, exc) -> None:
        self.closing = True
        if self.up is not None and not self.queue:
            self.up.transport.close()


async def serve(listen_port: int, target_port: int, delay_ms: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: _Downstream(("127.0.0.1", target_port), delay_ms / 1000.0),
        "127.0.0.1", listen_port, backlog=512)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen-port", type=int, required=True)
    ap.add_argument("--target-port", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, required=True)
    args = ap.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(serve(args.listen_port, args.target_port, args.delay_ms))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
