"""Enumerations of the public API (values as in psqlpy's published API)."""

from __future__ import annotations

from enum import Enum

__all__ = [
    "IsolationLevel", "ReadVariant", "ConnRecyclingMethod", "SslMode", "LoadBalanceHosts",
    "TargetSessionAttrs", "KeepaliveConfig",
]


class IsolationLevel(Enum):
    """Transaction isolation level (``BEGIN ISOLATION LEVEL ...``)."""

    ReadUncommitted = 1
    ReadCommitted = 2
    RepeatableRead = 3
    Serializable = 4


class ReadVariant(Enum):
    """Transaction access mode (``READ ONLY`` / ``READ WRITE``)."""

    ReadOnly = 1
    ReadWrite = 2


class ConnRecyclingMethod(Enum):
    """What the pool checks before it hands out an idle connection.

    ``Fast``: only that the connection is open.  ``Verified``: also runs a
    test query.  ``Clean``: resets the session (``CLOSE ALL``, ``RESET ALL``,
    ``UNLISTEN *``, advisory locks, temporary tables, sequences) while keeping
    prepared statements, so the statement cache stays useful.
    """

    Fast = 1
    Verified = 2
    Clean = 3


class SslMode(Enum):
    """TLS use of a ConnectionPool (libpq's ``sslmode``).

    Values as psqlpy 0.13.1 gives them at run time (from 0).
    """

    Disable = 0
    Allow = 1
    Prefer = 2
    Require = 3
    VerifyCa = 4
    VerifyFull = 5


class LoadBalanceHosts(Enum):
    """Order in which a ConnectionPool tries its hosts."""

    Disable = 0
    Random = 1


class TargetSessionAttrs(Enum):
    """Which servers a ConnectionPool accepts (libpq's ``target_session_attrs``)."""

    Any = 0
    ReadWrite = 1
    ReadOnly = 2


class KeepaliveConfig:
    """TCP keepalive settings: seconds idle before the first probe, seconds
    between probes, probes before the connection is dropped."""

    __slots__ = ("idle", "interval", "retries")

    def __init__(self, idle: int, interval: int | None = None,
                 retries: int | None = None) -> None:
        self.idle = idle
        self.interval = interval
        self.retries = retries

    def __repr__(self) -> str:
        return (f"KeepaliveConfig(idle={self.idle!r}, interval={self.interval!r}, "
                f"retries={self.retries!r})")
