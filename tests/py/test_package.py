"""The installed package as an application sees it: the stub and marker
files a type checker reads, the names and keyword arguments of the psqlpy
API that existing applications use, and how the extension sits on the
event loop (no thread of its own, no polling, one persistent reader per
connection)."""

from __future__ import annotations

import ast
import asyncio
import enum
import inspect
import os
import time

import pytest

import psqlpy
from helpers import assert_pool_answers, backend_pid, observer, open_pool, wait_until  # noqa: F401
from psqlpy import ConnRecyclingMethod

PKG = os.path.dirname(os.path.abspath(psqlpy.__file__))

# ---------------------------------------------------------------------------
# what `pip install .` puts into site-packages


def test_installed_package_ships_stubs_and_py_typed():
    names = set(os.listdir(PKG))
    assert "py.typed" in names, "PEP 561 marker missing from the installed package"
    assert "_psqlpy.pyi" in names, "the extension's stubs are not installed"
    assert any(n.startswith("_psqlpy.") and n.endswith(".so") for n in names)
    # the stub file is valid Python and describes the extension's classes
    with open(os.path.join(PKG, "_psqlpy.pyi"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    assert {"Pool", "Connection", "QueryResult", "SingleQueryResult", "PendingQuery"} <= classes


# ---------------------------------------------------------------------------
# names and keyword arguments of ../shared/reference/psqlpy-api-signatures.md

MODULE_EXPORTS = ["PSQLPool", "QueryResult", "SingleQueryResult", "Connection",
                  "Transaction", "Cursor", "IsolationLevel", "ReadVariant",
                  "ConnRecyclingMethod"]

ENUMS = {
    "IsolationLevel": ["ReadUncommitted", "ReadCommitted", "RepeatableRead", "Serializable"],
    "ReadVariant": ["ReadOnly", "ReadWrite"],
    "ConnRecyclingMethod": ["Fast", "Verified", "Clean"],
}

EXCEPTIONS = ["RustPSQLDriverPyBaseError", "DBPoolError", "DBPoolConfigurationError",
              "DBTransactionError", "CursorError", "RustToPyValueMappingError",
              "PyToRustValueMappingError", "UUIDValueConvertError"]

EXTRA_TYPES = ["SmallInt", "Integer", "BigInt", "PyUUID", "PyJSON"]


def test_reference_module_names_are_importable():
    for name in MODULE_EXPORTS:
        assert name in psqlpy.__all__, name
        assert isinstance(getattr(psqlpy, name), type), name
    from psqlpy import exceptions, extra_types
    for name in EXCEPTIONS:
        cls = getattr(exceptions, name)
        assert issubclass(cls, exceptions.RustPSQLDriverPyBaseError), name
    assert issubclass(exceptions.RustPSQLDriverPyBaseError, Exception)
    for name in EXTRA_TYPES:
        assert callable(getattr(extra_types, name)), name


@pytest.mark.parametrize("name", sorted(ENUMS))
def test_enums_have_the_reference_members_and_values(name):
    cls = getattr(psqlpy, name)
    assert issubclass(cls, enum.Enum)
    assert [(m.name, m.value) for m in cls] == [
        (member, i) for i, member in enumerate(ENUMS[name], start=1)]


def _params(func) -> list[str]:
    """Parameter names after self, in order."""
    names = list(inspect.signature(func).parameters)
    return names[1:] if names and names[0] == "self" else names


def _stub_params() -> dict[tuple[str, str], list[str]]:
    """(class, method) -> parameter names after self, from _psqlpy.pyi."""
    with open(os.path.join(PKG, "_psqlpy.pyi"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    out = {}
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for fn in (n for n in cls.body if isinstance(n, ast.FunctionDef)):
            out[(cls.name, fn.name)] = [a.arg for a in fn.args.args[1:]]
    return out


# class in the stubs, method -> the reference's parameter names
STUBBED = [
    ("Pool", "__init__", ["dsn", "username", "password", "host", "port", "db_name",
                          "max_db_pool_size", "conn_recycling_method"]),
    ("Pool", "startup", []),
    ("Pool", "execute", ["querystring", "parameters"]),
    ("Pool", "connection", []),
    ("Connection", "execute", ["querystring", "parameters"]),
    ("QueryResult", "result", []),
    ("QueryResult", "as_class", ["as_class"]),
    ("SingleQueryResult", "result", []),
    ("SingleQueryResult", "as_class", ["as_class"]),
]


@pytest.mark.parametrize("cls, method, params", STUBBED,
                         ids=[f"{c}.{m}" for c, m, _ in STUBBED])
def test_stubs_carry_the_reference_signatures(cls, method, params):
    stubs = _stub_params()
    assert (cls, method) in stubs, f"{cls}.{method} is not in _psqlpy.pyi"
    # the reference's parameters, in its order; ours may follow them
    assert stubs[(cls, method)][:len(params)] == params


# Python-level classes (annotated source, read by type checkers through py.typed)
PYTHON_LEVEL = [
    ("PSQLPool", "transaction", ["isolation_level", "read_variant", "deferrable"]),
    ("Connection", "transaction", ["isolation_level", "read_variant", "deferrable"]),
    ("Transaction", "begin", []),
    ("Transaction", "commit", []),
    ("Transaction", "rollback", []),
    ("Transaction", "execute", ["querystring", "parameters"]),
    ("Transaction", "execute_many", ["querystring", "parameters"]),
    ("Transaction", "fetch_row", ["querystring", "parameters"]),
    ("Transaction", "pipeline", ["queries"]),
    ("Transaction", "savepoint", ["savepoint_name"]),
    ("Transaction", "rollback_to", ["savepoint_name"]),
    ("Transaction", "release_savepoint", ["savepoint_name"]),
    ("Transaction", "cursor", ["querystring", "parameters", "fetch_number", "scroll"]),
    ("Cursor", "fetch", ["fetch_number"]),
    ("Cursor", "fetch_next", []),
    ("Cursor", "fetch_prior", []),
    ("Cursor", "fetch_first", []),
    ("Cursor", "fetch_last", []),
    ("Cursor", "fetch_absolute", ["absolute_number"]),
    ("Cursor", "fetch_relative", ["relative_number"]),
    ("Cursor", "fetch_forward_all", []),
    ("Cursor", "fetch_backward", ["backward_count"]),
    ("Cursor", "fetch_backward_all", []),
    ("Cursor", "close", []),
]


@pytest.mark.parametrize("cls, method, params", PYTHON_LEVEL,
                         ids=[f"{c}.{m}" for c, m, _ in PYTHON_LEVEL])
def test_reference_keyword_arguments(cls, method, params):
    assert _params(getattr(getattr(psqlpy, cls), method)) == params


def test_defaults_are_the_references():
    sig = inspect.signature(psqlpy.Transaction.cursor)
    assert sig.parameters["parameters"].default is None
    assert sig.parameters["fetch_number"].default is None      # None means 10
    assert sig.parameters["scroll"].default is None
    sig = inspect.signature(psqlpy.Connection.transaction)
    assert all(p.default is None for p in list(sig.parameters.values())[1:])
    assert inspect.signature(psqlpy.Cursor.fetch).parameters["fetch_number"].default is None


# ---------------------------------------------------------------------------
# on the event loop: no thread, no polling, a persistent reader


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


async def test_no_thread_and_no_polling_while_a_query_is_in_flight(dsn):
    async with open_pool(dsn, max_db_pool_size=2) as p:
        await assert_pool_answers(p)
        before = _threads()
        cpu0, wall0 = time.process_time(), time.monotonic()
        slow = asyncio.gather(p.execute("SELECT 1 AS a FROM pg_sleep(1)"),
                              p.execute("SELECT 2 AS b FROM pg_sleep(1)"))
        await asyncio.sleep(0.3)
        during = _threads()
        res = await asyncio.wait_for(slow, 10)
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
        assert [r.result() for r in res] == [[{"a": 1}], [{"b": 2}]]
        assert during == before, "a thread was started for the queries"
        assert _threads() == before
        assert wall >= 1.0
        # waiting on the sockets costs (almost) no CPU: nothing spins or polls
        assert cpu < 0.25, f"{cpu:.3f} s of CPU while waiting {wall:.3f} s for the server"


async def test_idle_connection_whose_server_goes_away_is_dropped(dsn, observer):
    """With Fast recycling nothing is checked at hand-out; the connection's
    own reader sees the socket close and drops it from the pool, so the next
    query gets a fresh connection and its own answer."""
    async with open_pool(dsn, max_db_pool_size=1,
                         conn_recycling_method=ConnRecyclingMethod.Fast) as p:
        pid = await backend_pid(p)
        assert p.status()["size"] == 1
        res = await observer.execute("SELECT pg_terminate_backend($1) AS ok", [pid])
        assert res.result() == [{"ok": True}]

        async def dropped():
            return p.status()["size"] == 0
        assert await wait_until(dropped, timeout=5), "the dead idle connection was kept"
        assert await backend_pid(p) != pid
        await assert_pool_answers(p)
        assert p.status()["size"] == 1
