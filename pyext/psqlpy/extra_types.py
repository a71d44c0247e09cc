"""Wrappers that pin a parameter's PostgreSQL type.

Usually the server infers each parameter's type from the query and the
matching codec converts the Python value.  Where the inference is not what
you want (``SELECT $1``, overloaded functions, untyped contexts), wrap the
value: the statement is then prepared with that parameter's type fixed.
"""

from __future__ import annotations

import uuid as _uuid
from typing import Any

__all__ = ["SmallInt", "Integer", "BigInt", "PyUUID", "PyJSON"]


class _Pinned:
    __slots__ = ("inner_value",)

    def __init__(self, inner_value: Any) -> None:
        self.inner_value = inner_value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner_value!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.inner_value == self.inner_value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), repr(self.inner_value)))


class SmallInt(_Pinned):
    """An ``int2`` (smallint) parameter: -32768 .. 32767."""

    __slots__ = ()

    def __init__(self, inner_value: int) -> None:
        super().__init__(inner_value)


class Integer(_Pinned):
    """An ``int4`` (integer) parameter."""

    __slots__ = ()

    def __init__(self, inner_value: int) -> None:
        super().__init__(inner_value)


class BigInt(_Pinned):
    """An ``int8`` (bigint) parameter."""

    __slots__ = ()

    def __init__(self, inner_value: int) -> None:
        super().__init__(inner_value)


class PyUUID(_Pinned):
    """A ``uuid`` parameter, from a string in any form ``uuid.UUID`` accepts
    or from a ``uuid.UUID``."""

    __slots__ = ()

    def __init__(self, inner_value: str | _uuid.UUID) -> None:
        super().__init__(inner_value)


class PyJSON(_Pinned):
    """A JSON document from any JSON-serialisable value, lists included.

    Pinned to ``jsonb``; PostgreSQL casts it to ``json`` where a ``json``
    column or ``::json`` asks for it.  (A plain ``dict`` is sent as JSON
    too, with its type left to the server's inference.)"""

    __slots__ = ()

    def __init__(self, inner_value: Any) -> None:
        super().__init__(inner_value)
