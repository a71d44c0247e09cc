"""LISTEN/NOTIFY: ``Listener`` and ``ListenerNotificationMsg``.

The driver hands every notification it reads to the connection's callback
(``_psqlpy.Connection._set_notify_callback``), in the order the server sent
them, whenever it consumes input, also while the connection is idle.  Here
they go into one queue, read by ``async for`` or by the task ``listen()``
starts, which awaits the channel's callbacks one after the other.

When the connection is lost (backend terminated, server restarted) the
listener takes a new one with backoff (0.05 s doubling up to 2 s), LISTENs on
every channel again, and reports the time in between, during which
notifications may have been missed: a warning on the ``psqlpy`` logger and
``on_gap(start, end)`` (datetimes, UTC).
"""
from __future__ import annotations

import asyncio
import datetime
import inspect
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

from psqlpy import _psqlpy
from psqlpy.exceptions import (
    Error,
    ListenerCallbackError,
    ListenerStartError,
)

__all__ = ["Listener", "ListenerNotificationMsg"]

log = logging.getLogger("psqlpy")

C = TypeVar("C")
ListenerCallback = Callable[[Any, str, str, int], Awaitable[None]]
GapHook = Callable[[datetime.datetime, datetime.datetime], object]
ErrorHook = Callable[[BaseException, "ListenerNotificationMsg"], object]

_BACKOFF_FIRST = 0.05
_BACKOFF_MAX = 2.0


def _quote(channel: str) -> str:
    """The channel as a quoted identifier (any name, any case)."""
    if not isinstance(channel, str) or not channel or "\x00" in channel:
        raise ValueError("a channel is a non-empty string without NUL")
    return '"' + channel.replace('"', '""') + '"'


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


class ListenerNotificationMsg:
    """One notification: who sent it, on which channel, with which payload."""

    __slots__ = ("process_id", "channel", "payload", "connection")

    def __init__(self, process_id: int, channel: str, payload: str, connection: Any) -> None:
        self.process_id = process_id
        self.channel = channel
        self.payload = payload
        self.connection = connection

    def __repr__(self) -> str:
        return (f"ListenerNotificationMsg(process_id={self.process_id}, "
                f"channel={self.channel!r}, payload={self.payload!r})")


class Listener(Generic[C]):
    """Notifications of the channels it LISTENs on, on a connection of its own.

    Made by ``ConnectionPool.listener()`` or ``PSQLPool.listener()``.
    """

    def __init__(self, acquire: Callable[[], Awaitable[C]],
                 raw_of: Callable[[C], _psqlpy.Connection], *,
                 on_gap: GapHook | None = None, on_error: ErrorHook | None = None,
                 pool_closed: Callable[[], bool] | None = None) -> None:
        self._acquire = acquire
        self._pool_closed = pool_closed
        self._raw_of = raw_of
        self.on_gap = on_gap
        self.on_error = on_error
        self._callbacks: dict[str, list[ListenerCallback]] = {}
        self._conn: C | None = None
        # None: the listener was shut down (ends an ``async for``)
        self._queue: asyncio.Queue[ListenerNotificationMsg | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._reconnect: asyncio.Task[None] | None = None
        self._started = False
        self._gap_start: datetime.datetime | None = None

    # ---- state ------------------------------------------------------------
    @property
    def connection(self) -> C:
        """The listener's own connection (usable for queries)."""
        if self._conn is None:
            raise ListenerStartError("the listener is not started")
        return self._conn

    @property
    def is_started(self) -> bool:
        return self._started

    # ---- the connection ---------------------------------------------------
    def _on_notify(self, items: list[tuple[int, str, str]] | None) -> None:
        conn = self._conn
        if items is None:
            self._lost()
            return
        put = self._queue.put_nowait
        for pid, channel, payload in items:
            put(ListenerNotificationMsg(pid, channel, payload, conn))

    async def _attach(self) -> None:
        """Take a connection, hook it up, LISTEN on every channel."""
        conn = await self._acquire()
        raw = self._raw_of(conn)
        try:
            raw._set_notify_callback(self._on_notify)
            for channel in list(self._callbacks):
                await raw._simple(f"LISTEN {_quote(channel)}")
        except BaseException:
            raw._set_notify_callback(None)
            await self._release(conn)
            raise
        self._conn = conn

    async def _release(self, conn: C) -> None:
        raw = self._raw_of(conn)
        raw._set_notify_callback(None)
        if not raw.closed:
            try:
                await raw._simple("UNLISTEN *")
            except Error:
                pass
        r = getattr(conn, "close")()
        if inspect.isawaitable(r):
            await r

    def _lost(self) -> None:
        if not self._started or self._reconnect is not None:
            return
        self._gap_start = _now()
        log.warning("psqlpy: listener connection lost at %s; reconnecting",
                    self._gap_start.isoformat())
        self._reconnect = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        delay = _BACKOFF_FIRST
        old, self._conn = self._conn, None
        if old is not None:
            try:
                await self._release(old)
            except Exception:  # a lost connection gives back what it can
                pass
        while self._started:
            try:
                await self._attach()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._pool_closed is not None and self._pool_closed():
                    log.warning("psqlpy: the listener's pool is closed; it stops")
                    self._started = False
                    break
                log.debug("psqlpy: listener reconnect failed: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF_MAX)
        self._reconnect = None
        if not self._started:
            return
        start, end = self._gap_start or _now(), _now()
        self._gap_start = None
        log.warning("psqlpy: listener reconnected; notifications may have been missed "
                    "between %s and %s", start.isoformat(), end.isoformat())
        if self.on_gap is not None:
            try:
                r = self.on_gap(start, end)
                if inspect.isawaitable(r):
                    await r
            except Exception:
                log.exception("psqlpy: the listener's on_gap hook raised")

    # ---- lifecycle --------------------------------------------------------
    async def startup(self) -> None:
        """Take the connection and LISTEN on the channels added so far."""
        if self._started:
            raise ListenerStartError("the listener is already started")
        try:
            await self._attach()
        except Error as exc:
            raise ListenerStartError(f"the listener could not start: {exc}") from exc
        self._started = True

    async def shutdown(self) -> None:
        """Stop listening, UNLISTEN and give the connection back."""
        self.abort_listen()
        self._started = False
        if self._reconnect is not None:
            self._reconnect.cancel()
            self._reconnect = None
        conn, self._conn = self._conn, None
        # what was not read goes; a reader waiting on it gets the end
        old, self._queue = self._queue, asyncio.Queue()
        old.put_nowait(None)
        if conn is not None:
            await self._release(conn)

    async def __aenter__(self) -> Listener[C]:
        await self.startup()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.shutdown()

    # ---- channels ---------------------------------------------------------
    async def _run(self, sql: str) -> None:
        if self._conn is not None and self._reconnect is None:
            await self._raw_of(self._conn)._simple(sql)

    async def add_callback(self, channel: str, callback: ListenerCallback) -> None:
        """Call ``await callback(connection, payload, channel, process_id)`` for
        each notification on ``channel``; LISTENs on it (if started)."""
        if not (inspect.iscoroutinefunction(callback)
                or inspect.iscoroutinefunction(getattr(callback, "__call__", None))):
            raise ListenerCallbackError("the callback must be an async function")
        sql = f"LISTEN {_quote(channel)}"
        new = channel not in self._callbacks
        self._callbacks.setdefault(channel, []).append(callback)
        if new:
            await self._run(sql)

    async def clear_channel_callbacks(self, channel: str) -> None:
        """Forget the channel's callbacks and UNLISTEN it."""
        sql = f"UNLISTEN {_quote(channel)}"
        if self._callbacks.pop(channel, None) is not None:
            await self._run(sql)

    async def clear_all_channels(self) -> None:
        """Forget every callback and UNLISTEN every channel."""
        self._callbacks.clear()
        await self._run("UNLISTEN *")

    # ---- delivery ---------------------------------------------------------
    def listen(self) -> None:
        """Start a background task that calls the callbacks."""
        if not self._started:
            raise ListenerStartError("the listener must be started up first")
        if self._task is not None and not self._task.done():
            raise ListenerStartError("the listener is already listening")
        self._task = asyncio.get_running_loop().create_task(self._dispatch())

    def abort_listen(self) -> None:
        """Stop the background task (notifications keep being queued)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _dispatch(self) -> None:
        while True:
            msg = await self._queue.get()
            if msg is None:
                return
            for cb in list(self._callbacks.get(msg.channel, ())):
                try:
                    await cb(msg.connection, msg.payload, msg.channel, msg.process_id)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._callback_failed(exc, msg)

    def _callback_failed(self, exc: Exception, msg: ListenerNotificationMsg) -> None:
        log.error("psqlpy: a listener callback for channel %r raised", msg.channel,
                  exc_info=exc)
        if self.on_error is not None:
            try:
                self.on_error(exc, msg)
            except Exception:
                log.exception("psqlpy: the listener's on_error hook raised")
        else:
            asyncio.get_running_loop().call_exception_handler({
                "message": f"psqlpy: a listener callback for channel {msg.channel!r} raised",
                "exception": exc,
            })

    def __aiter__(self) -> Listener[C]:
        return self

    async def __anext__(self) -> ListenerNotificationMsg:
        if not self._started and self._queue.empty():
            raise ListenerStartError("the listener is not started; call startup() first")
        msg = await self._queue.get()
        if msg is None:
            raise StopAsyncIteration
        return msg
