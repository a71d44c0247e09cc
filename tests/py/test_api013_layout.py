"""The psqlpy 0.13 module layout, exception hierarchy, enums and row
factories beside today's names (no server needed)."""

from __future__ import annotations

import importlib

import pytest

import psqlpy
from psqlpy import exceptions

TOP_013 = ("Connection", "ConnectionPool", "ConnectionPoolBuilder", "ConnRecyclingMethod",
           "Cursor", "Error", "IsolationLevel", "KeepaliveConfig", "LoadBalanceHosts",
           "QueryResult", "ReadVariant", "SingleQueryResult", "SslMode", "TargetSessionAttrs",
           "Transaction", "connect", "connect_pool")

# name -> its parent in psqlpy 0.13's hierarchy
HIERARCHY_013 = {
    "InterfaceError": "Error", "DatabaseError": "Error",
    "DataError": "DatabaseError", "OperationalError": "DatabaseError",
    "IntegrityError": "DatabaseError", "InternalError": "DatabaseError",
    "ProgrammingError": "DatabaseError", "NotSupportedError": "DatabaseError",
    "BaseConnectionPoolError": "InterfaceError",
    "ConnectionPoolBuildError": "BaseConnectionPoolError",
    "ConnectionPoolConfigurationError": "BaseConnectionPoolError",
    "ConnectionPoolExecuteError": "BaseConnectionPoolError",
    "BaseConnectionError": "InterfaceError",
    "ConnectionExecuteError": "BaseConnectionError",
    "ConnectionClosedError": "BaseConnectionError",
    "BaseTransactionError": "InterfaceError",
    "TransactionBeginError": "BaseTransactionError",
    "TransactionCommitError": "BaseTransactionError",
    "TransactionSavepointError": "BaseTransactionError",
    "TransactionExecuteError": "BaseTransactionError",
    "TransactionClosedError": "BaseTransactionError",
    "BaseCursorError": "InterfaceError",
    "CursorStartError": "BaseCursorError", "CursorCloseError": "BaseCursorError",
    "CursorFetchError": "BaseCursorError", "CursorClosedError": "BaseCursorError",
    "BaseListenerError": "InterfaceError",
    "ListenerStartError": "BaseListenerError", "ListenerClosedError": "BaseListenerError",
    "ListenerCallbackError": "BaseListenerError",
    "UUIDValueConvertError": None, "MacAddrConversionError": None,
    "RustToPyValueMappingError": None, "PyToRustValueMappingError": None,
}


def test_top_level_names():
    for name in TOP_013:
        assert hasattr(psqlpy, name), name
    # today's names stay, and stay PSQLPool's classes
    assert psqlpy.Connection.__module__ == "psqlpy"
    assert psqlpy.Transaction is importlib.import_module("psqlpy._transaction").Transaction
    assert psqlpy.PSQLPool and psqlpy.Record and psqlpy.__version__
    assert psqlpy.Error is exceptions.Error


def test_internal_modules_import_as_applications_write_them():
    internal = importlib.import_module("psqlpy._internal")
    for name in TOP_013 + ("Record", "PreparedStatement", "Column", "ConnectionPoolStatus"):
        assert hasattr(internal, name), name
    assert internal.Connection is not psqlpy.Connection   # the ConnectionPool's one
    assert internal.SslMode is psqlpy.SslMode
    assert internal.ConnectionPoolBuilder is psqlpy.ConnectionPoolBuilder
    from psqlpy._internal.exceptions import TransactionClosedError
    assert TransactionClosedError is exceptions.TransactionClosedError
    from psqlpy._internal.extra_types import JSONB, Int32Array, Money
    assert JSONB is psqlpy.extra_types.JSONB and Int32Array is psqlpy.extra_types.Int32Array
    # 0.13's Money counts cents; the public name keeps today's meaning
    assert issubclass(Money, psqlpy.extra_types.Money) and Money is not psqlpy.extra_types.Money
    from psqlpy._internal.row_factories import class_row, tuple_row
    assert tuple_row is psqlpy.row_factories.tuple_row and class_row
    differ = {("extra_types", "Money"), ("extra_types", "MoneyArray")}
    for sub in ("exceptions", "extra_types", "row_factories"):
        mod = importlib.import_module(f"psqlpy._internal.{sub}")
        public = importlib.import_module(f"psqlpy.{sub}")
        for name in public.__all__:
            if (sub, name) not in differ:
                assert getattr(mod, name) is getattr(public, name), (sub, name)


def test_exception_hierarchy_013():
    for name, parent in HIERARCHY_013.items():
        cls = getattr(exceptions, name)
        assert issubclass(cls, exceptions.Error), name
        if parent is not None:
            assert issubclass(cls, getattr(exceptions, parent)), name
    assert issubclass(exceptions.WarningError, Exception)
    assert not issubclass(exceptions.WarningError, exceptions.Error)
    for name in HIERARCHY_013:
        assert name in exceptions.__all__, name


def test_013_classes_are_also_todays():
    # code written against today's names catches what the 0.13 objects raise
    assert issubclass(exceptions.BaseTransactionError, exceptions.DBTransactionError)
    assert issubclass(exceptions.BaseCursorError, exceptions.CursorError)
    assert issubclass(exceptions.ConnectionPoolConfigurationError,
                      exceptions.DBPoolConfigurationError)
    assert exceptions.PyToRustValueMappingError is exceptions.ParameterError
    assert exceptions.RustToPyValueMappingError is exceptions.ResultError
    assert issubclass(exceptions.MacAddrConversionError, exceptions.PyToRustValueMappingError)


def test_execute_error_combines_identities():
    server = exceptions.IntegrityError("duplicate key", sqlstate="23505", detail="Key (a)=(1)",
                                       constraint_name="t_pkey")
    e = exceptions.execute_error(exceptions.TransactionExecuteError, server)
    assert isinstance(e, exceptions.TransactionExecuteError)
    assert isinstance(e, exceptions.IntegrityError)
    assert (e.sqlstate, e.detail, e.constraint_name) == ("23505", "Key (a)=(1)", "t_pkey")
    assert type(e).__name__ == "TransactionExecuteError"
    again = exceptions.execute_error(exceptions.TransactionExecuteError,
                                     exceptions.IntegrityError("x"))
    assert type(again) is type(e)                        # one class per pair
    param = exceptions.ParameterError("bad")
    assert exceptions.execute_error(exceptions.ConnectionExecuteError, param) is param


def test_enums_and_keepalive_config():
    assert [m.name for m in psqlpy.SslMode] == [
        "Disable", "Allow", "Prefer", "Require", "VerifyCa", "VerifyFull"]
    assert [m.name for m in psqlpy.LoadBalanceHosts] == ["Disable", "Random"]
    assert [m.name for m in psqlpy.TargetSessionAttrs] == ["Any", "ReadWrite", "ReadOnly"]
    k = psqlpy.KeepaliveConfig(10, 2, 3)
    assert (k.idle, k.interval, k.retries) == (10, 2, 3)
    assert psqlpy.KeepaliveConfig(5).interval is None and "idle=5" in repr(psqlpy.KeepaliveConfig(5))


def test_row_factories():
    from psqlpy.row_factories import class_row, tuple_row
    row = {"a": 1, "b": "x"}
    assert tuple_row(row) == (("a", 1), ("b", "x"))

    class P:
        def __init__(self, a: int, b: str) -> None:
            self.a, self.b = a, b

    p = class_row(P)(row)
    assert (p.a, p.b) == (1, "x")
    with pytest.raises(TypeError):
        class_row(P)({"a": 1})
