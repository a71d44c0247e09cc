"""Enumerations of the public API (values as in psqlpy's published API)."""

from __future__ import annotations

from enum import Enum

__all__ = ["IsolationLevel", "ReadVariant", "ConnRecyclingMethod"]


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
