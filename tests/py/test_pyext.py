"""The extension as a CPython module: immutable heap types, module state
the garbage collector sees, and an honest refusal of subinterpreters."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

import pytest

import psqlpy
from psqlpy import _psqlpy

TYPES = ["Pool", "Connection", "PendingQuery", "QueryResult", "SingleQueryResult", "Record"]


@pytest.mark.parametrize("name", TYPES)
def test_extension_types_are_immutable(name):
    cls = getattr(_psqlpy, name)
    with pytest.raises(TypeError):
        cls.some_attribute = 1
    with pytest.raises(TypeError):
        del cls.__doc__


def test_subclasses_of_the_types_stay_mutable():
    psqlpy.PSQLPool.test_attribute = 1
    try:
        assert psqlpy.PSQLPool.test_attribute == 1
    finally:
        del psqlpy.PSQLPool.test_attribute


def test_module_state_is_visible_to_the_garbage_collector():
    # traverse reports the state's members: the types among them
    referents = gc.get_referents(_psqlpy)
    for name in TYPES:
        assert getattr(_psqlpy, name) in referents, name
    from psqlpy import exceptions
    assert exceptions.DatabaseError in referents


@pytest.mark.skipif(sys.version_info < (3, 12),
                    reason="Py_mod_multiple_interpreters is read from 3.12 on")
def test_a_subinterpreter_cannot_import_the_extension():
    # in a child process: the private modules that make interpreters change
    # between versions (_xxsubinterpreters in 3.12, _interpreters in 3.13)
    code = textwrap.dedent("""
        try:
            import _interpreters as interpreters
        except ImportError:
            import _xxsubinterpreters as interpreters
        iid = interpreters.create()
        try:
            outcome = interpreters.run_string(iid, "import psqlpy")
        except Exception as exc:  # 3.12 raises what the script raised
            outcome = exc
        interpreters.destroy(iid)
        print(outcome)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert "does not support loading in subinterpreters" in out, out
