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
# names and keyword arguments of the psqlpy API that existing applications call
# (the 0.2 API: PSQLPool, Transaction, Cursor, the Rust-named exceptions)

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


# Keywords this driver adds after the reference's parameters (README:
# Timeouts; libpq's TLS options; several hosts); the reference's own parameters keep
# their names and order.
EXTENSIONS = {"timeout", "command_timeout", "sslmode", "sslrootcert", "sslcert", "sslkey",
              "target_session_attrs", "load_balance_hosts", "connect_timeout",
              "statement_cache_size", "auto_pipeline", "prepared",
              "server_settings", "init", "on_notice", "min_size", "max_lifetime",
              "max_idle"}


def _reference_then_extensions(got, params):
    assert got[:len(params)] == params
    assert set(got[len(params):]) <= EXTENSIONS, got[len(params):]


@pytest.mark.parametrize("cls, method, params", STUBBED,
                         ids=[f"{c}.{m}" for c, m, _ in STUBBED])
def test_stubs_carry_the_reference_signatures(cls, method, params):
    stubs = _stub_params()
    assert (cls, method) in stubs, f"{cls}.{method} is not in _psqlpy.pyi"
    # the reference's parameters, in its order; ours may follow them
    _reference_then_extensions(stubs[(cls, method)], params)


# The C callables: inspect.signature() reads their text signatures, and the
# parameter names are the stubs'.

C_CLASSES = ["Pool", "Connection", "QueryResult", "SingleQueryResult", "PendingQuery",
             "Record"]


def _stub_functions() -> dict[str, list[str]]:
    """"Class.method" or "function" -> every parameter name in the stubs,
    self left out, *args as "*args"."""
    with open(os.path.join(PKG, "_psqlpy.pyi"), encoding="utf-8") as f:
        tree = ast.parse(f.read())

    def names(fn: ast.FunctionDef) -> list[str]:
        a = fn.args
        out = [x.arg for x in a.posonlyargs + a.args]
        if a.vararg:
            out.append("*" + a.vararg.arg)
        out += [x.arg for x in a.kwonlyargs]
        return out

    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = names(node)
        elif isinstance(node, ast.ClassDef):
            for fn in (n for n in node.body if isinstance(n, ast.FunctionDef)):
                out[f"{node.name}.{fn.name}"] = names(fn)[1:]
    return out


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _c_callables() -> list[tuple[str, object]]:
    """Every public function and method the extension defines in C (slot
    wrappers such as __len__ and __await__ are CPython's, not ours)."""
    from psqlpy import _psqlpy
    found = [(name, obj) for name, obj in vars(_psqlpy).items()
             if _public(name) and inspect.isbuiltin(obj)]
    for cls in C_CLASSES:
        for name, obj in vars(getattr(_psqlpy, cls)).items():
            if _public(name) and inspect.ismethoddescriptor(obj) \
                    and type(obj).__name__ == "method_descriptor":
                found.append((f"{cls}.{name}", obj))
    found.append(("Pool.__init__", _psqlpy.Pool))   # the class's own signature
    return sorted(found, key=lambda item: item[0])


def _sig_names(sig: inspect.Signature) -> list[str]:
    return ["*" + p.name if p.kind is p.VAR_POSITIONAL else p.name
            for p in sig.parameters.values()]


def test_the_c_api_is_all_checked_below():
    names = {name for name, _ in _c_callables()}
    assert {"load_codec_plugin", "has_codec", "Pool.execute", "Connection.execute_many",
            "QueryResult.as_class", "PendingQuery.throw", "Pool.__init__"} <= names
    assert len(names) >= 23, sorted(names)


@pytest.mark.parametrize("name, func", _c_callables(), ids=lambda v: v if isinstance(v, str) else "")
def test_c_callables_have_the_stubs_signatures(name, func):
    sig = inspect.signature(func)      # ValueError without a text signature
    stubs = _stub_functions()
    assert name in stubs, f"{name} is not in _psqlpy.pyi"
    params = _sig_names(sig)
    if "." in name and not isinstance(func, type):
        assert params[:1] == ["self"], params
        params = params[1:]
    assert params == stubs[name]
    # the text after the signature is the docstring help() shows
    assert (func.__doc__ or "").strip(), f"{name} has no docstring"


def _stub_docstrings() -> dict[str, str]:
    """"Class.member" or "function" -> its docstring in _psqlpy.pyi."""
    with open(os.path.join(PKG, "_psqlpy.pyi"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = ast.get_docstring(node) or ""
        elif isinstance(node, ast.ClassDef):
            for fn in (n for n in node.body if isinstance(n, ast.FunctionDef)):
                out[f"{node.name}.{fn.name}"] = ast.get_docstring(fn) or ""
    return out


def _c_properties() -> list[tuple[str, object]]:
    from psqlpy import _psqlpy
    return [(f"{cls}.{name}", obj) for cls in C_CLASSES
            for name, obj in vars(getattr(_psqlpy, cls)).items()
            if not name.startswith("_") and inspect.isgetsetdescriptor(obj)]


@pytest.mark.parametrize("name, obj", _c_callables() + _c_properties(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_stub_docstrings_are_the_c_docstrings(name, obj):
    """The API reference is built from the stubs, help() shows the C
    docstrings: they must say the same."""
    if isinstance(obj, type):
        return                     # a class's stub docstring may say more
    stub = _stub_docstrings().get(name, "")
    assert " ".join(stub.split()) == " ".join((obj.__doc__ or "").split()), name


def test_public_classes_show_their_signatures():
    sig = inspect.signature(psqlpy.PSQLPool)
    assert list(sig.parameters)[:2] == ["dsn", "username"]
    assert all(p.default is None for p in sig.parameters.values())
    sig = inspect.signature(psqlpy.QueryResult.as_class)
    assert list(sig.parameters) == ["self", "as_class"]


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
    _reference_then_extensions(_params(getattr(getattr(psqlpy, cls), method)), params)


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


class _Wakeups:
    """Counts how often the default asyncio loop returns from its selector
    (each return is one wake-up of the loop).  uvloop's selector is not
    reachable from Python; there the count is None."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.count: int | None = None
        self._selector = getattr(loop, "_selector", None)
        self._select = None

    def __enter__(self) -> _Wakeups:
        if self._selector is not None:
            self.count = 0
            self._select = self._selector.select

            def select(timeout=None):
                self.count += 1
                return self._select(timeout)
            self._selector.select = select
        return self

    def __exit__(self, *exc) -> None:
        if self._selector is not None:
            del self._selector.select      # back to the class's method


async def test_no_thread_and_no_polling_while_a_query_is_in_flight(dsn):
    """Two queries that wait one second each on the server: they overlap on
    the server (both were sent before either finished), no thread is
    started, and the loop sleeps in its selector until the answers come: a
    driver that polled would wake it again and again."""
    sql = ("SELECT clock_timestamp() AS started, pg_sleep(1)::text AS slept, "
           "clock_timestamp() AS ended, $1::int AS n")
    async with open_pool(dsn, max_db_pool_size=2) as p:
        await assert_pool_answers(p)
        await asyncio.gather(p.execute("SELECT 1"), p.execute("SELECT 1"))  # both connections open
        before = _threads()
        with _Wakeups(asyncio.get_running_loop()) as wakeups:
            slow = asyncio.gather(p.execute(sql, [1]), p.execute(sql, [2]))
            await asyncio.sleep(0.3)
            during = _threads()
            res = await asyncio.wait_for(slow, 60)    # hang guard only
        (a,), (b,) = (r.result() for r in res)
        assert (a["n"], b["n"]) == (1, 2)
        # each began before the other ended: they ran at the same time
        assert a["started"] < b["ended"] and b["started"] < a["ended"]
        assert during == before, "a thread was started for the queries"
        assert _threads() == before
        if wakeups.count is not None:
            # sending, the sleep(0.3) above, the two answers: a handful of
            # wake-ups, where a poller would need one per interval
            assert wakeups.count <= 30, f"the loop woke {wakeups.count} times"


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
        assert await wait_until(dropped, timeout=30), "the dead idle connection was kept"
        assert await backend_pid(p) != pid
        await assert_pool_answers(p)
        assert p.status()["size"] == 1


# ---------------------------------------------------------------------------
# the version: one source (CMakeLists.txt), in the metadata and in the module


def test_version_is_the_installed_distributions():
    import importlib.metadata
    assert psqlpy.__version__ == importlib.metadata.version("psqlpy")
    # from the file the build wrote, not the metadata fallback
    from psqlpy import _version
    assert _version.__version__ == psqlpy.__version__


def test_public_python_methods_have_docstrings():
    for cls in (psqlpy.Transaction, psqlpy.Cursor, psqlpy.PSQLPool, psqlpy.Connection):
        for name, obj in vars(cls).items():
            if name.startswith("_") or not (callable(obj) or isinstance(obj, property)):
                continue
            assert (obj.__doc__ or "").strip(), f"{cls.__name__}.{name} has no docstring"


def test_license_is_in_the_installed_metadata():
    import importlib.metadata
    meta = importlib.metadata.metadata("psqlpy")
    assert meta["License-Expression"] == "MIT"
    assert "LICENSE" in meta.get_all("License-File", [])
    dist = importlib.metadata.distribution("psqlpy")
    license_text = next(f for f in dist.files if f.name == "LICENSE").read_text()
    assert license_text.startswith("MIT License")
