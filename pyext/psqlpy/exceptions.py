"""The exceptions psqlpy raises: one hierarchy rooted at ``Error``.

::

    Error                                   (alias RustPSQLDriverPyBaseError)
    ├── PoolError                           (alias DBPoolError): pool and query execution
    │   ├── PoolConfigurationError          (alias DBPoolConfigurationError)
    │   ├── ConnectionFailedError           connect / authentication / connection lost
    │   ├── InterfaceError                  the driver used in a wrong way (closed pool, ...)
    │   ├── NoRowsError                     fetch_row() on a query that returned no rows
    │   ├── QueryTimeoutError               a call's ``timeout``/``command_timeout`` expired
    │   │                                   (also a builtin ``TimeoutError``, which is
    │   │                                   ``asyncio.TimeoutError``)
    │   └── DatabaseError                   the server reported an error (``sqlstate`` set)
    │       ├── DataError                   class 22
    │       ├── IntegrityError              class 23
    │       ├── ProgrammingError            classes 26, 34, 3D, 3F, 42
    │       ├── TransactionRollbackError    class 40
    │       ├── OperationalError            classes 08, 53, 54, 55, 57, 58
    │       │   └── QueryCanceledError      57014
    │       ├── NotSupportedError           class 0A
    │       └── InternalError               classes XX, P0, ...
    ├── TransactionError                    (alias DBTransactionError)
    ├── CursorError
    └── ConversionError
        ├── ParameterError                  (alias PyToRustValueMappingError)
        │   └── UUIDValueConvertError
        └── ResultError                     (alias RustToPyValueMappingError)

The psqlpy 0.13 names (BaseConnectionError, TransactionClosedError,
ConnectionPoolConfigurationError, ...) are defined at the end of this
module, each also a subclass of its counterpart above; the objects of
``ConnectionPool`` raise them.

Every instance carries the server's fields when there are any: ``sqlstate``,
``severity``, ``detail``, ``hint``, ``position``, ``context``,
``schema_name``, ``table_name``, ``column_name``, ``datatype_name``,
``constraint_name`` (``None`` when absent).
"""

from __future__ import annotations

__all__ = [
    "Error", "PoolError", "PoolConfigurationError", "ConnectionFailedError",
    "InterfaceError", "NoRowsError", "QueryTimeoutError", "DatabaseError", "DataError", "IntegrityError",
    "ProgrammingError", "TransactionRollbackError", "OperationalError",
    "QueryCanceledError", "NotSupportedError", "InternalError",
    "TransactionError", "CursorError", "ConversionError", "ParameterError",
    "ResultError", "UUIDValueConvertError",
    "RustPSQLDriverPyBaseError", "DBPoolError", "DBPoolConfigurationError",
    "DBTransactionError", "RustToPyValueMappingError",
    "PyToRustValueMappingError",
    # the psqlpy 0.13 names (see the section at the end of this module)
    "WarningError", "BaseConnectionPoolError", "ConnectionPoolBuildError",
    "ConnectionPoolConfigurationError", "ConnectionPoolExecuteError",
    "BaseConnectionError", "ConnectionExecuteError", "ConnectionClosedError",
    "BaseTransactionError", "TransactionBeginError", "TransactionCommitError",
    "TransactionSavepointError", "TransactionExecuteError", "TransactionClosedError",
    "BaseCursorError", "CursorStartError", "CursorCloseError", "CursorFetchError",
    "CursorClosedError", "BaseListenerError", "ListenerStartError", "ListenerClosedError",
    "ListenerCallbackError", "MacAddrConversionError",
]

_FIELDS = (
    "sqlstate", "severity", "detail", "hint", "position", "context",
    "schema_name", "table_name", "column_name", "datatype_name",
    "constraint_name",
)


class Error(Exception):
    """Base class of every psqlpy error."""

    sqlstate: str | None = None
    severity: str | None = None
    detail: str | None = None
    hint: str | None = None
    position: str | None = None
    context: str | None = None
    schema_name: str | None = None
    table_name: str | None = None
    column_name: str | None = None
    datatype_name: str | None = None
    constraint_name: str | None = None

    def __init__(self, message: str = "", **fields: str | None) -> None:
        super().__init__(message)
        self.message = message
        for name, value in fields.items():
            if name not in _FIELDS:
                raise TypeError(f"unexpected field {name!r}")
            setattr(self, name, value)

    def __str__(self) -> str:
        text = self.message
        if self.sqlstate:
            text = f"{text} (SQLSTATE {self.sqlstate})"
        if self.detail:
            text = f"{text}\nDETAIL: {self.detail}"
        if self.hint:
            text = f"{text}\nHINT: {self.hint}"
        return text


class PoolError(Error):
    """Errors of the pool and of executing queries."""


class PoolConfigurationError(PoolError):
    """Invalid pool arguments (bad DSN, bad size, ...)."""


class ConnectionFailedError(PoolError):
    """Could not connect or authenticate, or the connection was lost."""


class InterfaceError(PoolError):
    """The driver was used in a way its state does not allow."""


class NoRowsError(PoolError):
    """fetch_row() found no row to return."""


class QueryTimeoutError(PoolError, TimeoutError):
    """A call did not finish within its ``timeout`` (or the pool's
    ``command_timeout``).  The server was asked to cancel the statement; a
    connection that did not answer that in time was closed.  It is also a
    builtin ``TimeoutError`` (``asyncio.TimeoutError``), so code written for
    ``asyncio.wait_for`` catches it too."""


class DatabaseError(PoolError):
    """An error reported by the server; ``sqlstate`` says which."""


class DataError(DatabaseError):
    """SQLSTATE class 22: data exception."""


class IntegrityError(DatabaseError):
    """SQLSTATE class 23: integrity constraint violation."""


class ProgrammingError(DatabaseError):
    """Syntax errors, undefined objects, insufficient privilege, ..."""


class TransactionRollbackError(DatabaseError):
    """SQLSTATE class 40: serialization failure, deadlock, ..."""


class OperationalError(DatabaseError):
    """Connection exceptions, resources, operator intervention, ..."""


class QueryCanceledError(OperationalError):
    """SQLSTATE 57014: the statement was cancelled."""


class NotSupportedError(DatabaseError):
    """SQLSTATE class 0A: feature not supported."""


class InternalError(DatabaseError):
    """Internal and other server errors."""


class TransactionError(Error):
    """A transaction used in a state that does not allow the call."""


class CursorError(Error):
    """A cursor used in a state that does not allow the call."""


class ConversionError(Error):
    """A value could not be converted between Python and PostgreSQL."""


class ParameterError(ConversionError):
    """A query parameter could not become a PostgreSQL value."""


class UUIDValueConvertError(ParameterError):
    """A value given as a UUID is not one."""


class ResultError(ConversionError):
    """A result value could not become a Python value."""


# SQLSTATE class -> exception class, used by the extension.
SQLSTATE_CLASSES: dict[str, type[DatabaseError]] = {
    "22": DataError,
    "23": IntegrityError,
    "26": ProgrammingError,
    "34": ProgrammingError,
    "3D": ProgrammingError,
    "3F": ProgrammingError,
    "42": ProgrammingError,
    "40": TransactionRollbackError,
    "08": OperationalError,
    "53": OperationalError,
    "54": OperationalError,
    "55": OperationalError,
    "57": OperationalError,
    "58": OperationalError,
    "0A": NotSupportedError,
    "XX": InternalError,
    "P0": InternalError,
    "57014": QueryCanceledError,
}

# The names psqlpy applications already catch.
RustPSQLDriverPyBaseError = Error
DBPoolError = PoolError
DBPoolConfigurationError = PoolConfigurationError
DBTransactionError = TransactionError
RustToPyValueMappingError = ResultError
PyToRustValueMappingError = ParameterError


# ---------------------------------------------------------------------------
# The psqlpy 0.13 hierarchy, beside the one above.
#
# The 0.13 API (ConnectionPool, connect(), the objects they hand out) raises
# these.  Where both APIs name a concept, the 0.13 class also inherits the
# class above, so code written for either API catches what it expects:
# BaseTransactionError is a TransactionError (DBTransactionError),
# BaseCursorError a CursorError, ConnectionPoolConfigurationError a
# PoolConfigurationError.  A server error in a 0.13 object is raised as a
# class made from both identities (see ``execute_error()``): e.g. a syntax
# error in a 0.13 Transaction is a TransactionExecuteError *and* a
# ProgrammingError, with ``sqlstate`` and the server's other fields.
#
# TransactionRollbackError keeps its meaning above (SQLSTATE class 40, a
# DatabaseError) because PSQLPool's users catch it for serialization
# failures.  A failing 0.13 ``Transaction.rollback()`` raises it too, from a
# class that is also a BaseTransactionError; TransactionRollbackError itself
# is not a BaseTransactionError subclass (it would make every
# serialization failure an InterfaceError for 0.2 code).

class WarningError(Exception):
    """psqlpy 0.13's warning class (nothing raises it today)."""


class BaseConnectionPoolError(InterfaceError):
    """0.13: errors of a ConnectionPool."""


class ConnectionPoolBuildError(BaseConnectionPoolError, PoolConfigurationError):
    """0.13: the pool could not be built (e.g. a DSN that does not parse)."""


class ConnectionPoolConfigurationError(BaseConnectionPoolError, PoolConfigurationError):
    """0.13: invalid ConnectionPool arguments (e.g. a ``*_nanosec`` without its ``*_sec``)."""


class ConnectionPoolExecuteError(BaseConnectionPoolError):
    """0.13: the pool could not hand out a connection (closed pool, failed connect)."""


class BaseConnectionError(InterfaceError):
    """0.13: errors of a Connection."""


class ConnectionExecuteError(BaseConnectionError):
    """0.13: a statement on a Connection failed (also the SQLSTATE class when
    the server reported it), or fetch_row()/fetch_val() did not find exactly one row."""


class ConnectionClosedError(BaseConnectionError):
    """0.13: the Connection was closed (given back to its pool)."""


class BaseTransactionError(InterfaceError, TransactionError):
    """0.13: errors of a Transaction."""


class TransactionBeginError(BaseTransactionError):
    """0.13: begin() failed or was called twice."""


class TransactionCommitError(BaseTransactionError):
    """0.13: commit() failed or the transaction had not begun."""


class TransactionSavepointError(BaseTransactionError):
    """0.13: a savepoint call failed."""


class TransactionExecuteError(BaseTransactionError):
    """0.13: a statement in a Transaction failed (also the SQLSTATE class when
    the server reported it)."""


class TransactionClosedError(BaseTransactionError):
    """0.13: the Transaction is committed or rolled back."""


class BaseCursorError(InterfaceError, CursorError):
    """0.13: errors of a Cursor."""


class CursorStartError(BaseCursorError):
    """0.13: start() failed or was called twice."""


class CursorCloseError(BaseCursorError):
    """0.13: close() failed."""


class CursorFetchError(BaseCursorError):
    """0.13: a fetch failed."""


class CursorClosedError(BaseCursorError):
    """0.13: the Cursor is closed (or not started)."""


class BaseListenerError(InterfaceError):
    """0.13: errors of a Listener."""


class ListenerStartError(BaseListenerError):
    """0.13: the Listener could not start."""


class ListenerClosedError(BaseListenerError):
    """0.13: the Listener is shut down."""


class ListenerCallbackError(BaseListenerError):
    """0.13: a Listener callback is not an async function."""


class MacAddrConversionError(ParameterError):
    """0.13: a value given as a MAC address is not one."""


class _TransactionRollbackFailed(BaseTransactionError, TransactionRollbackError):
    """0.13: Transaction.rollback() failed."""


_both_cache: dict[tuple[type[BaseException], type[BaseException]], type[Error]] = {}


def _both(api013: type[Error], other: type[BaseException]) -> type[Error]:
    """The class that is both ``api013`` and ``other`` (made once, cached).

    ``other`` comes first among the bases, so the SQLSTATE class precedes
    the 0.13 class's InterfaceError in the MRO: code that maps a driver's
    exception by the first known class name in its MRO (SQLAlchemy's
    DBAPIError.instance does, through psqlpy-sqlalchemy) sees an
    IntegrityError, not an InterfaceError."""
    if issubclass(other, api013):
        return _cast_error(other)
    key = (api013, other)
    cls = _both_cache.get(key)
    if cls is None:
        cls = type(api013.__name__, (other, api013), {
            "__module__": __name__,
            "__qualname__": f"{api013.__name__}[{other.__name__}]",
            "__doc__": f"{api013.__name__} that is also a {other.__name__}.",
        })
        _both_cache[key] = cls
    return cls


def _cast_error(cls: type[BaseException]) -> type[Error]:
    return cls  # type: ignore[return-value]


def execute_error(api013: type[Error], exc: Error) -> Error:
    """``exc`` (raised by the C core) re-made as ``api013`` + its own class.

    Parameter and result conversion errors come back unchanged: they are
    PyToRustValueMappingError / RustToPyValueMappingError in both APIs.
    """
    if isinstance(exc, (ConversionError, api013)):
        return exc
    new = _both(api013, type(exc))(exc.message)
    for name in _FIELDS:
        value = getattr(exc, name, None)
        if value is not None:
            setattr(new, name, value)
    index = getattr(exc, "index", None)
    if index is not None:
        new.index = index  # type: ignore[attr-defined]
    return new
