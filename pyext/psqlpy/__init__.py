"""psqlpy: an async PostgreSQL driver with a C core.

>>> pool = PSQLPool(dsn="postgresql://user:pass@localhost/db", max_db_pool_size=4)
>>> await pool.startup()
>>> res = await pool.execute("SELECT $1::int AS answer", [42])
>>> res.result()
[{'answer': 42}]
"""

from __future__ import annotations

import os as _os
from types import TracebackType as _TracebackType
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any
from typing import Callable as _Callable
from typing import Literal as _Literal
from typing import cast as _cast

from psqlpy import exceptions, extra_types  # loaded before the extension needs them
from psqlpy import _psqlpy
from psqlpy._enums import (
    ConnRecyclingMethod,
    IsolationLevel,
    KeepaliveConfig,
    LoadBalanceHosts,
    ReadVariant,
    SslMode,
    TargetSessionAttrs,
)
from psqlpy._psqlpy import (
    PendingQuery,
    QueryResult,
    Record,
    SingleQueryResult,
    has_codec,
    load_codec_plugin,
)
from psqlpy._copy import CopyMethods as _CopyMethods
from psqlpy._copy import CopyOut
from psqlpy._sessions import Notice, QueryEvent
from psqlpy._transaction import Cursor, Transaction
from psqlpy._listener import ErrorHook as _ErrorHook
from psqlpy._listener import GapHook as _GapHook
from psqlpy._listener import Listener, ListenerNotificationMsg
from psqlpy.exceptions import Error

__all__ = [
    "PSQLPool", "Connection", "Transaction", "Cursor", "QueryResult",
    "SingleQueryResult", "Record", "PendingQuery", "IsolationLevel", "ReadVariant",
    "ConnRecyclingMethod", "load_codec_plugin", "has_codec", "register_codec", "exceptions",
    "extra_types", "CopyOut", "Listener", "ListenerNotificationMsg", "Notice", "QueryEvent",
    # the psqlpy 0.13 API (its Connection, Transaction and Cursor classes are
    # in psqlpy._internal: the names here stay PSQLPool's)
    "ConnectionPool", "ConnectionPoolBuilder", "connect", "connect_pool", "Error",
    "SslMode", "LoadBalanceHosts", "TargetSessionAttrs", "KeepaliveConfig", "row_factories",
]

try:
    # written into the wheel by the build, from CMakeLists.txt's project() VERSION
    from psqlpy._version import __version__
except ImportError:  # the package's sources used without a build: ask the metadata
    from importlib.metadata import version as _dist_version

    __version__ = _dist_version("psqlpy")


class Connection(_CopyMethods, _psqlpy.Connection):
    """A connection borrowed from a ``PSQLPool``."""

    __slots__ = ()

    def _copy_raw(self) -> _psqlpy.Connection:
        return self

    def transaction(
        self,
        isolation_level: IsolationLevel | None = None,
        read_variant: ReadVariant | None = None,
        deferrable: bool | None = None,
    ) -> Transaction:
        """A new ``Transaction`` on this connection (not begun yet)."""
        return Transaction(self, isolation_level, read_variant, deferrable)


class PSQLPool(_psqlpy.Pool):
    """A pool of connections.

    ``PSQLPool(dsn=None, username=None, password=None, host=None, port=None,
    db_name=None, max_db_pool_size=2, conn_recycling_method=None,
    sslmode=None, sslrootcert=None, sslcert=None, sslkey=None,
    command_timeout=None, target_session_attrs=None, load_balance_hosts=None,
    connect_timeout=None, statement_cache_size=None, auto_pipeline=None)``.
    A DSN overrides
    the separate arguments (but not target_session_attrs, load_balance_hosts
    and connect_timeout); anything not given falls back to libpq's defaults
    and ``PG*`` environment variables.  The TLS keywords are libpq's options
    of the same names (``sslmode="verify-full"``, ``sslrootcert`` the CA
    file, ``sslcert``/``sslkey`` a client certificate); they apply with a
    DSN too, where the DSN does not set them.  ``host`` and ``port`` may be
    lists (or libpq's comma-separated form): the hosts are tried one at a
    time, each within ``connect_timeout`` seconds, in a new random order for
    each connection with ``load_balance_hosts="random"``; see
    docs/scaling.md.  ``command_timeout`` (seconds) is the default
    ``timeout`` of every statement; an expired timeout raises
    ``psqlpy.exceptions.QueryTimeoutError``.
    ``statement_cache_size`` is how many prepared statements each connection
    keeps (None: 256); 0 keeps none and runs every statement with the
    unnamed statement in one exchange, as PgBouncer's transaction pooling
    needs (see docs/scaling.md).
    ``auto_pipeline`` (None: True; False turns it off): single statements that wait for a
    connection of the pool (``execute``/``fetch_row`` outside a
    transaction, already prepared on it, no ``timeout`` of their own) go
    out together in libpq's pipeline mode, each with a Sync of its own, so
    an error fails only its own caller; ``status()`` counts them
    (``bursts``, ``pipelined``).  See docs/design.md, "Automatic pipelining".

    Session setup and visibility (docs/production.md):
    ``server_settings={name: value}`` (sent at connect as libpq's
    ``options``), ``init=`` (a coroutine function awaited with a
    ``Connection`` on each new connection before its first use),
    ``on_notice=`` (called with a ``psqlpy.Notice``; notices also go to the
    ``logging`` logger ``"psqlpy"``), and ``add_query_hook()``.  Life cycle:
    ``min_size=`` connections kept open, ``max_lifetime=`` and ``max_idle=``
    (seconds) after which idle connections are closed in the background,
    ``resize()``, ``status()`` and ``close(timeout=)``.
    """

    __slots__ = ()

    if _TYPE_CHECKING:
        # The extension hands out instances of the Connection class above
        # (see _set_connection_class below); no Python-level wrapper at run time.
        def connection(self, timeout: float | None = None) -> PendingQuery[Connection]:
            return _cast("PendingQuery[Connection]", super().connection(timeout))

    async def transaction(
        self,
        isolation_level: IsolationLevel | None = None,
        read_variant: ReadVariant | None = None,
        deferrable: bool | None = None,
    ) -> Transaction:
        """A begun ``Transaction`` on its own pool connection, which goes
        back to the pool when the transaction ends."""
        conn = await self.connection()
        tx = Transaction(conn, isolation_level, read_variant, deferrable,
                         release_connection=True)
        try:
            await tx.begin()
        except BaseException:
            conn.close()
            raise
        return tx

    def listener(self, *, on_gap: _GapHook | None = None,
                 on_error: _ErrorHook | None = None) -> Listener[Connection]:
        """A new ``Listener`` (LISTEN/NOTIFY) on a connection of its own from
        this pool, taken at its ``startup()``."""
        return Listener(self.connection, _identity, on_gap=on_gap, on_error=on_error,
                        pool_closed=lambda: self.closed)

    async def __aenter__(self) -> PSQLPool:
        await self.startup()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None,
                        tb: _TracebackType | None) -> _Literal[False]:
        await self.close()
        return False


def _identity(conn: Connection) -> _psqlpy.Connection:
    return conn


_psqlpy._set_connection_class(Connection)


def register_codec(
    type_name: str,
    *,
    encode: _Callable[[_Any], str | bytes] | None = None,
    decode: _Callable[[_Any], _Any] | None = None,
    format: str = "text",
) -> None:
    """Code the type named ``type_name`` with Python callables.

    For types whose OIDs differ per database (extension types, enums,
    composite types, domains), found by name when a connection first
    meets them; register before connecting.  With ``format="text"``,
    ``decode`` gets the server's text (``str``) and ``encode`` returns
    text; with ``format="binary"`` they take and return the type's binary
    wire form (``bytes``).  Without ``decode`` the str/bytes come back as
    they are; without ``encode`` parameters of the type are refused.
    ``encode`` gets the parameter as given (objects of your own classes
    included).  Registering a name again replaces its callables.
    """
    if format not in ("text", "binary"):
        raise ValueError(f"format must be 'text' or 'binary', not {format!r}")
    _psqlpy._register_codec(type_name, encode, decode, format == "binary")


def _load_builtin_codecs() -> None:
    here = _os.path.join(_os.path.dirname(__file__), "codecs")
    if _os.path.isdir(here):
        _psqlpy._load_codec_dir(here)
    for path in filter(None, _os.environ.get("PSQLPY_CODEC_PATH", "").split(_os.pathsep)):
        if _os.path.isdir(path):
            _psqlpy._load_codec_dir(path)
        else:
            load_codec_plugin(path)


_load_builtin_codecs()

# the psqlpy 0.13 API, beside PSQLPool's (imported last: it builds on the above)
from psqlpy import row_factories  # noqa: E402
from psqlpy._pool013 import (  # noqa: E402
    ConnectionPool,
    ConnectionPoolBuilder,
    connect,
    connect_pool,
)
