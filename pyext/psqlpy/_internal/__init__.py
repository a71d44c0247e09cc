"""The psqlpy 0.13 API under the module name its applications import from.

``psqlpy._internal`` is where psqlpy 0.13 keeps its extension module;
applications import ``SslMode``, ``ConnectionPoolBuilder`` and
``psqlpy._internal.exceptions.TransactionClosedError`` from it directly.
Here ``Connection``, ``Transaction`` and ``Cursor`` are the classes a
ConnectionPool hands out (``psqlpy.Connection`` and friends are PSQLPool's).
"""

from __future__ import annotations

from psqlpy._connection013 import Column, Connection, Cursor, PreparedStatement, Transaction
from psqlpy._enums import (
    ConnRecyclingMethod,
    IsolationLevel,
    KeepaliveConfig,
    LoadBalanceHosts,
    ReadVariant,
    SslMode,
    TargetSessionAttrs,
)
from psqlpy._internal import exceptions, extra_types, row_factories
from psqlpy._pool013 import (
    ConnectionPool,
    ConnectionPoolBuilder,
    ConnectionPoolStatus,
    connect,
    connect_pool,
)
from psqlpy._listener import Listener, ListenerNotificationMsg
from psqlpy._psqlpy import QueryResult, Record, SingleQueryResult
from psqlpy.exceptions import Error

__all__ = [
    "Listener", "ListenerNotificationMsg", "Column", "Connection", "ConnectionPool", "ConnectionPoolBuilder", "ConnectionPoolStatus",
    "ConnRecyclingMethod", "Cursor", "Error", "IsolationLevel", "KeepaliveConfig",
    "LoadBalanceHosts", "PreparedStatement", "QueryResult", "ReadVariant", "Record",
    "SingleQueryResult", "SslMode", "TargetSessionAttrs", "Transaction", "connect",
    "connect_pool", "exceptions", "extra_types", "row_factories",
]
