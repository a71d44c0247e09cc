"""The exceptions psqlpy raises: one hierarchy rooted at :class:`Error`.

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
