"""ConnectionPool, connect_pool(), ConnectionPoolBuilder and connect() of the
psqlpy 0.13 API.

A ConnectionPool wraps the C pool that PSQLPool is made of and differs
from it where the 0.13 API does: it is lazy (no ``startup()``: the first
``connection()`` connects), ``close()`` is sync and the context manager a
plain ``with``, ``status()`` has ``available``, ``resize()`` changes the
size, and it hands out the 0.13 Connection (``psqlpy._connection013``).

The pool's size is enforced here, by a count of lent connections with a
FIFO of waiters, so that ``resize()`` works on a running pool; the C pool
below it only ever opens as many connections as are lent at once (it
reuses idle ones first), with room for up to ``max(max_db_pool_size,
_CORE_CAPACITY)``.  Shrinking keeps the idle connections already open
until they are recycled.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
from types import TracebackType
from typing import Any, Callable, Literal, Mapping, ParamSpec, Sequence, TypeVar

from psqlpy import _psqlpy
from psqlpy._config013 import PoolConfig, build_config
from psqlpy._connection013 import Connection
from psqlpy._listener import ErrorHook, GapHook, Listener
from psqlpy._enums import (
    ConnRecyclingMethod,
    LoadBalanceHosts,
    SslMode,
    TargetSessionAttrs,
)
from psqlpy._sessions import Notice, QueryEvent
from psqlpy.exceptions import (
    ConnectionPoolConfigurationError,
    ConnectionPoolExecuteError,
    Error,
    PoolConfigurationError,
    execute_error,
)

__all__ = ["ConnectionPool", "ConnectionPoolStatus", "ConnectionPoolBuilder",
           "connect_pool", "connect"]

_CORE_CAPACITY = 1024

_P = ParamSpec("_P")
_R = TypeVar("_R")


class ConnectionPoolStatus(dict[str, int]):
    """``ConnectionPool.status()``: ``max_size``, ``size`` (connections open),
    ``available`` (open and idle) and ``waiting`` (callers waiting for a
    connection), as attributes and as dict keys (``idle`` is ``available``
    under the name PSQLPool's status dict uses)."""

    __slots__ = ()

    def __init__(self, max_size: int, size: int, available: int, waiting: int) -> None:
        super().__init__(max_size=max_size, size=size, available=available,
                         idle=available, waiting=waiting)

    @property
    def max_size(self) -> int:
        return self["max_size"]

    @property
    def size(self) -> int:
        return self["size"]

    @property
    def available(self) -> int:
        return self["available"]

    @property
    def waiting(self) -> int:
        return self["waiting"]

    def __repr__(self) -> str:
        return (f"ConnectionPoolStatus(max_size={self.max_size}, size={self.size}, "
                f"available={self.available}, waiting={self.waiting})")


def _with_settings(options: str | None, settings: Mapping[str, str]) -> str:
    """``options`` with ``-c name=value`` added for each server setting (a
    space or backslash in a value escaped, as libpq's options parsing wants)."""
    if not isinstance(settings, Mapping):
        raise ConnectionPoolConfigurationError(
            f"server_settings must be a dict of str to str, got {settings!r}")
    parts = [options] if options else []
    for name, value in settings.items():
        if (not isinstance(name, str) or not isinstance(value, str) or not name
                or not all(c.isascii() and (c.isalnum() or c in "_.") for c in name)
                or "\0" in value):
            raise ConnectionPoolConfigurationError(
                f"server_settings: cannot send {name!r}: {value!r}")
        parts.append(f"-c {name}=" + value.replace("\\", "\\\\").replace(" ", "\\ "))
    return " ".join(parts)


class ConnectionPool:
    """A lazy pool of connections (psqlpy 0.13 API).

    No connection is opened until ``connection()`` or ``acquire()`` needs one.
    The arguments are those of psqlpy 0.13 (see docs/api.md); a DSN is
    parsed and the separate arguments override its parts.  Bad combinations
    raise ConnectionPoolConfigurationError here, not on first use.
    """

    __slots__ = ("_config", "_core", "_core_cap", "_started", "_closed", "_max",
                 "_in_use", "_waiters", "_standalone", "_session", "_hooks", "__weakref__")

    def __init__(
        self,
        dsn: str | None = None,
        username: str | None = None,
        password: str | None = None,
        host: str | None = None,
        hosts: Sequence[str] | None = None,
        port: int | None = None,
        ports: Sequence[int] | None = None,
        db_name: str | None = None,
        target_session_attrs: TargetSessionAttrs | None = None,
        options: str | None = None,
        application_name: str | None = None,
        connect_timeout_sec: int | None = None,
        connect_timeout_nanosec: int | None = None,
        tcp_user_timeout_sec: int | None = None,
        tcp_user_timeout_nanosec: int | None = None,
        keepalives: bool | None = None,
        keepalives_idle_sec: int | None = None,
        keepalives_idle_nanosec: int | None = None,
        keepalives_interval_sec: int | None = None,
        keepalives_interval_nanosec: int | None = None,
        keepalives_retries: int | None = None,
        load_balance_hosts: LoadBalanceHosts | None = None,
        max_db_pool_size: int | None = None,
        conn_recycling_method: ConnRecyclingMethod | None = None,
        ssl_mode: SslMode | None = None,
        ca_file: str | None = None,
        *,
        hostaddr: str | None = None,
        server_settings: Mapping[str, str] | None = None,
        on_notice: Callable[[Notice], object] | None = None,
        max_lifetime: float | None = None,
        max_idle: float | None = None,
    ) -> None:
        if server_settings is not None:
            options = _with_settings(options, server_settings)
        cfg = build_config(
            dsn, username, password, host, hosts, port, ports, db_name,
            target_session_attrs, options, application_name, connect_timeout_sec,
            connect_timeout_nanosec, tcp_user_timeout_sec, tcp_user_timeout_nanosec,
            keepalives, keepalives_idle_sec, keepalives_idle_nanosec,
            keepalives_interval_sec, keepalives_interval_nanosec, keepalives_retries,
            load_balance_hosts, max_db_pool_size, conn_recycling_method, ssl_mode,
            ca_file, hostaddr)
        self._config: PoolConfig = cfg
        self._max = cfg.max_size
        self._core_cap = max(cfg.max_size, _CORE_CAPACITY)
        self._session: dict[str, Any] = {"on_notice": on_notice,
                                         "max_lifetime": max_lifetime,
                                         "max_idle": max_idle}
        self._hooks: list[Callable[[QueryEvent], object]] = []
        try:
            self._core = _psqlpy.Pool(dsn=cfg.conninfo(), max_db_pool_size=self._core_cap,
                                      conn_recycling_method=conn_recycling_method,
                                      **self._session)
            self._core._money_int_cents()   # an int for money is cents, as in 0.13
        except PoolConfigurationError as e:
            raise ConnectionPoolConfigurationError(str(e)) from None
        self._started = False
        self._closed = False
        self._in_use = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._standalone = False

    # -- the size limit ---------------------------------------------------------
    async def _take_slot(self) -> None:
        if self._in_use < self._max and not self._waiters:
            self._in_use += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled():
                self._release_slot()      # handed a place just as we were cancelled
            else:
                try:
                    self._waiters.remove(fut)
                except ValueError:
                    pass
            raise

    def _release_slot(self) -> None:
        self._in_use -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self._in_use < self._max:
            fut = self._waiters.popleft()
            if fut.done():
                continue
            if self._closed:
                fut.set_exception(ConnectionPoolExecuteError("the pool is closed"))
                continue
            self._in_use += 1
            fut.set_result(None)

    async def _acquire_raw(self) -> _psqlpy.Connection:
        if self._closed:
            raise ConnectionPoolExecuteError("the pool is closed")
        await self._take_slot()
        try:
            if self._closed:
                raise ConnectionPoolExecuteError("the pool is closed")
            if not self._started:
                self._started = True
                await self._core.startup()
            return await self._core.connection()
        except BaseException as e:
            self._release_slot()
            if isinstance(e, Error):
                raise execute_error(ConnectionPoolExecuteError, e) from None
            raise

    # -- public API --------------------------------------------------------------
    async def connection(self) -> Connection:
        """A connection from the pool (connecting if none is idle); give it back
        with its ``close()``."""
        return Connection(self, await self._acquire_raw())

    def acquire(self) -> Connection:
        """A connection for ``async with pool.acquire() as conn``: taken from the
        pool when the block starts, given back when it ends."""
        if self._closed:
            raise ConnectionPoolExecuteError("the pool is closed")
        return Connection(self)

    def listener(self, *, on_gap: GapHook | None = None,
                 on_error: ErrorHook | None = None) -> Listener[Connection]:
        """A new ``Listener`` (LISTEN/NOTIFY) on a connection of its own, taken
        from this pool at its ``startup()`` (it holds one of the pool's places)."""
        return Listener(self.connection, _raw_of, on_gap=on_gap, on_error=on_error,
                        pool_closed=lambda: self._closed)

    def status(self) -> ConnectionPoolStatus:
        """The pool's size and use now."""
        core = self._core.status() if self._started else {"size": 0, "idle": 0, "waiting": 0}
        return ConnectionPoolStatus(self._max, core["size"], core["idle"],
                                    len(self._waiters) + core["waiting"])

    def resize(self, new_max_size: int) -> None:
        """Change the pool's maximum size (waiters get the new places at once)."""
        if (not isinstance(new_max_size, int) or isinstance(new_max_size, bool)
                or new_max_size < 1):
            raise ConnectionPoolConfigurationError(
                f"new_max_size must be a positive int, got {new_max_size!r}")
        if new_max_size > self._core_cap:
            if self._started:
                raise ConnectionPoolConfigurationError(
                    f"a started pool grows to {self._core_cap} connections at most")
            self._core_cap = new_max_size
            self._core = _psqlpy.Pool(dsn=self._config.conninfo(),
                                      max_db_pool_size=self._core_cap,
                                      conn_recycling_method=self._config.recycling,
                                      **self._session)
            self._core._money_int_cents()
            for hook in self._hooks:
                self._core.add_query_hook(hook)
        self._max = new_max_size
        self._wake()

    def add_query_hook(self, hook: Callable[[QueryEvent], object]) -> None:
        """Call ``hook(event)`` after each statement on this pool's connections
        (a ``psqlpy.QueryEvent``; see docs/production.md)."""
        self._core.add_query_hook(hook)
        self._hooks.append(hook)

    def remove_query_hook(self, hook: Callable[[QueryEvent], object]) -> None:
        """Stop calling a hook added with ``add_query_hook()``."""
        self._core.remove_query_hook(hook)
        self._hooks.remove(hook)

    def close(self) -> None:
        """Close the pool: idle connections now, lent ones when they are given
        back; ``connection()`` raises afterwards."""
        if self._closed:
            return
        self._closed = True
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(ConnectionPoolExecuteError("the pool is closed"))
        if self._started:
            self._core.close()

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def __enter__(self) -> ConnectionPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        self.close()
        return False

    def __repr__(self) -> str:
        return f"<psqlpy ConnectionPool {'closed' if self._closed else 'open'} {self.status()!r}>"


def _raw_of(conn: Connection) -> _psqlpy.Connection:
    raw = conn._raw
    if raw is None:
        raise ConnectionPoolExecuteError("the listener's connection is closed")
    return raw


def _takes_arguments_of(
    target: Callable[_P, object], without: tuple[str, ...] = (),
) -> Callable[[Callable[..., _R]], Callable[_P, _R]]:
    """Give the decorated function ``target``'s parameters: type checkers
    see them through the ParamSpec, ``inspect.signature()`` through
    ``__signature__``; a keyword added to ``target`` reaches it unchanged.

    ``without`` leaves parameters out of ``__signature__`` (the function
    binds its arguments to it, so passing one of them is a TypeError); a
    ParamSpec cannot drop a parameter, so type checkers still see them."""
    def apply(fn: Callable[..., _R]) -> Callable[_P, _R]:
        sig = inspect.signature(target)
        fn.__signature__ = sig.replace(  # type: ignore[attr-defined]
            parameters=[p for p in sig.parameters.values() if p.name not in without],
            return_annotation=inspect.signature(fn).return_annotation)
        return fn
    return apply


@_takes_arguments_of(ConnectionPool)
def connect_pool(*args: Any, **kwargs: Any) -> ConnectionPool:
    """``ConnectionPool(...)`` with the same arguments."""
    return ConnectionPool(*args, **kwargs)


# ConnectionPool's parameters that size and recycle a pool: meaningless for
# connect()'s one connection, and absent from psqlpy 0.13's connect().
_POOL_ONLY = ("max_db_pool_size", "conn_recycling_method")


@_takes_arguments_of(ConnectionPool, without=_POOL_ONLY)
async def connect(*args: Any, **kwargs: Any) -> Connection:
    """One connection of its own: a ConnectionPool of one connection that
    closes when the connection is closed.  Takes the arguments of
    ConnectionPool (positionally in their order, as psqlpy 0.13's
    ``connect()``) except the pool's own, ``max_db_pool_size`` and
    ``conn_recycling_method`` (a TypeError)."""
    bound = _CONNECT_SIGNATURE.bind(*args, **kwargs)
    pool = ConnectionPool(**bound.arguments, max_db_pool_size=1)
    pool._standalone = True
    try:
        return await pool.connection()
    except BaseException:
        pool.close()
        raise


_CONNECT_SIGNATURE = inspect.signature(connect)


class ConnectionPoolBuilder:
    """Builds a ConnectionPool step by step; each setter returns the builder.

    ``ConnectionPoolBuilder().max_pool_size(4).user("app").host("db").build()``.
    ``host()``, ``hostaddr()`` and ``port()`` add to a list (one per host).
    """

    __slots__ = ("_kw", "_hosts", "_hostaddrs", "_ports")

    def __init__(self) -> None:
        self._kw: dict[str, Any] = {}
        self._hosts: list[str] = []
        self._hostaddrs: list[str] = []
        self._ports: list[int] = []

    def _set(self, key: str, value: Any) -> ConnectionPoolBuilder:
        self._kw[key] = value
        return self

    def build(self) -> ConnectionPool:
        """The ConnectionPool with the settings given so far."""
        kw = dict(self._kw)
        if self._hosts:
            kw["hosts"] = list(self._hosts)
        if self._ports:
            kw["ports"] = list(self._ports)
        if self._hostaddrs:
            kw["hostaddr"] = ",".join(self._hostaddrs)
        return ConnectionPool(**kw)

    def max_pool_size(self, pool_size: int) -> ConnectionPoolBuilder:
        return self._set("max_db_pool_size", pool_size)

    def conn_recycling_method(self, conn_recycling_method: ConnRecyclingMethod
                              ) -> ConnectionPoolBuilder:
        return self._set("conn_recycling_method", conn_recycling_method)

    def user(self, user: str) -> ConnectionPoolBuilder:
        return self._set("username", user)

    def password(self, password: str) -> ConnectionPoolBuilder:
        return self._set("password", password)

    def dbname(self, dbname: str) -> ConnectionPoolBuilder:
        return self._set("db_name", dbname)

    def options(self, options: str) -> ConnectionPoolBuilder:
        return self._set("options", options)

    def application_name(self, application_name: str) -> ConnectionPoolBuilder:
        return self._set("application_name", application_name)

    def ssl_mode(self, ssl_mode: SslMode) -> ConnectionPoolBuilder:
        return self._set("ssl_mode", ssl_mode)

    def ca_file(self, ca_file: str) -> ConnectionPoolBuilder:
        return self._set("ca_file", ca_file)

    def host(self, host: str) -> ConnectionPoolBuilder:
        self._hosts.append(host)
        return self

    def hostaddr(self, hostaddr: str) -> ConnectionPoolBuilder:
        self._hostaddrs.append(str(hostaddr))
        return self

    def port(self, port: int) -> ConnectionPoolBuilder:
        self._ports.append(port)
        return self

    def connect_timeout(self, connect_timeout: int) -> ConnectionPoolBuilder:
        """Seconds."""
        return self._set("connect_timeout_sec", connect_timeout)

    def tcp_user_timeout(self, tcp_user_timeout: int) -> ConnectionPoolBuilder:
        """Seconds."""
        return self._set("tcp_user_timeout_sec", tcp_user_timeout)

    def target_session_attrs(self, target_session_attrs: TargetSessionAttrs
                             ) -> ConnectionPoolBuilder:
        return self._set("target_session_attrs", target_session_attrs)

    def load_balance_hosts(self, load_balance_hosts: LoadBalanceHosts) -> ConnectionPoolBuilder:
        return self._set("load_balance_hosts", load_balance_hosts)

    def keepalives(self, keepalives: bool) -> ConnectionPoolBuilder:
        return self._set("keepalives", keepalives)

    def keepalives_idle(self, keepalives_idle: int) -> ConnectionPoolBuilder:
        """Seconds."""
        return self._set("keepalives_idle_sec", keepalives_idle)

    def keepalives_interval(self, keepalives_interval: int) -> ConnectionPoolBuilder:
        """Seconds."""
        return self._set("keepalives_interval_sec", keepalives_interval)

    def keepalives_retries(self, keepalives_retries: int) -> ConnectionPoolBuilder:
        return self._set("keepalives_retries", keepalives_retries)
