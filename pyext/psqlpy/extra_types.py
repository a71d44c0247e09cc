"""Wrappers that pin a parameter's PostgreSQL type.

Usually the server infers each parameter's type from the query and the
matching codec converts the Python value.  Where the inference is not what
you want (``SELECT $1``, overloaded functions, untyped contexts), wrap the
value: the statement is then prepared with that parameter's type fixed.
"""

from __future__ import annotations

import datetime as _dt
import uuid as _uuid
from typing import Any, NamedTuple

__all__ = [
    "SmallInt", "Integer", "BigInt", "PyUUID", "PyJSON",
    "Float32", "Float64", "Text", "VarChar", "Json", "Jsonb", "Money",
    "Inet", "Cidr", "MacAddr", "MacAddr8", "Bit", "VarBit", "Array",
    "Interval",
    "Point", "Line", "LineSegment", "Box", "Path", "Polygon", "Circle",
    "Range",
]


class _Pinned:
    __slots__ = ("inner_value",)

    def __init__(self, inner_value: Any) -> None:
        self.inner_value = inner_value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner_value!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, _Pinned) and type(other) is type(self)
                and other.inner_value == self.inner_value)

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


# ---- more pinned scalars -----------------------------------------------------
# Each carries its type's OID in ``__pg_type_oid__``: the parameter is sent
# as ``inner_value`` converted the usual way, with its type fixed to that one.


class Float32(_Pinned):
    """A ``float4`` (real) parameter."""

    __slots__ = ()
    __pg_type_oid__ = 700


class Float64(_Pinned):
    """A ``float8`` (double precision) parameter."""

    __slots__ = ()
    __pg_type_oid__ = 701


class Text(_Pinned):
    """A ``text`` parameter (where ``unknown`` or another type would be inferred)."""

    __slots__ = ()
    __pg_type_oid__ = 25


class VarChar(_Pinned):
    """A ``varchar`` parameter."""

    __slots__ = ()
    __pg_type_oid__ = 1043


class Json(_Pinned):
    """A ``json`` document (kept as written: key order and duplicates)."""

    __slots__ = ()
    __pg_type_oid__ = 114


class Jsonb(_Pinned):
    """A ``jsonb`` document."""

    __slots__ = ()
    __pg_type_oid__ = 3802


class Money(_Pinned):
    """A ``money`` parameter from an int, a ``Decimal`` or decimal text
    (two fraction digits, as with the usual ``lc_monetary`` settings)."""

    __slots__ = ()
    __pg_type_oid__ = 790


class Inet(_Pinned):
    """An ``inet`` parameter from text or an ``ipaddress`` object."""

    __slots__ = ()
    __pg_type_oid__ = 869


class Cidr(_Pinned):
    """A ``cidr`` parameter from text or an ``ipaddress`` network."""

    __slots__ = ()
    __pg_type_oid__ = 650


class MacAddr(_Pinned):
    """A ``macaddr`` parameter from text such as ``'08:00:2b:01:02:03'``."""

    __slots__ = ()
    __pg_type_oid__ = 829


class MacAddr8(_Pinned):
    """A ``macaddr8`` parameter from text."""

    __slots__ = ()
    __pg_type_oid__ = 774


class Bit(_Pinned):
    """A ``bit(n)`` parameter from a string of ``'0'`` and ``'1'``."""

    __slots__ = ()
    __pg_type_oid__ = 1560


class VarBit(_Pinned):
    """A ``varbit`` parameter from a string of ``'0'`` and ``'1'``."""

    __slots__ = ()
    __pg_type_oid__ = 1562


# element type name -> OID of its array type, for Array
_ARRAY_OIDS = {
    "bool": 1000, "bytea": 1001, "char": 1002, "name": 1003, "int2": 1005,
    "int4": 1007, "text": 1009, "varchar": 1015, "bpchar": 1014, "int8": 1016,
    "float4": 1021, "float8": 1022, "oid": 1028, "numeric": 1231,
    "money": 791, "inet": 1041, "cidr": 651, "macaddr": 1040,
    "macaddr8": 775, "bit": 1561, "varbit": 1563, "uuid": 2951, "json": 199,
    "jsonb": 3807, "date": 1182, "time": 1183, "timetz": 1270,
    "timestamp": 1115, "timestamptz": 1185, "interval": 1187,
    "point": 1017, "line": 629, "lseg": 1018, "box": 1020, "path": 1019,
    "polygon": 1027, "circle": 719, "xml": 143,
    "int4range": 3905, "int8range": 3927, "numrange": 3907,
    "tsrange": 3909, "tstzrange": 3911, "daterange": 3913,
}


class Array(_Pinned):
    """An array parameter whose element type is fixed by name:
    ``Array([1, 2, 3], "int8")``, ``Array([], "text")``.  ``element_type``
    is a built-in type name (``int2``, ``float4``, ``jsonb``, ``inet``, ...)."""

    __slots__ = ("element_type", "__pg_type_oid__")

    def __init__(self, inner_value: list[Any] | tuple[Any, ...], element_type: str) -> None:
        if not isinstance(inner_value, (list, tuple)):
            raise TypeError(f"Array needs a list or tuple, got {type(inner_value).__name__}")
        try:
            oid = _ARRAY_OIDS[element_type]
        except KeyError:
            raise ValueError(
                f"Array: no built-in array type of {element_type!r}; "
                f"known: {', '.join(sorted(_ARRAY_OIDS))}") from None
        super().__init__(inner_value)
        self.element_type = element_type
        self.__pg_type_oid__ = oid

    def __repr__(self) -> str:
        return f"Array({self.inner_value!r}, {self.element_type!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Array) and other.element_type == self.element_type
                and other.inner_value == self.inner_value)

    def __hash__(self) -> int:
        return hash((Array, self.element_type, repr(self.inner_value)))


# ---- values timedelta cannot hold --------------------------------------------


class Interval:
    """A PostgreSQL ``interval`` with months, kept exactly.

    Results give an ``Interval`` for intervals that have months (a month
    has no fixed length, so ``timedelta`` cannot hold them) and a
    ``timedelta`` for the others.  Either can be sent as a parameter.
    """

    __slots__ = ("months", "days", "microseconds")

    def __init__(self, months: int = 0, days: int = 0, microseconds: int = 0) -> None:
        self.months = months
        self.days = days
        self.microseconds = microseconds

    def to_timedelta(self, days_per_month: int = 30) -> _dt.timedelta:
        """The interval as a ``timedelta``, counting each month as
        ``days_per_month`` days (PostgreSQL's own convention)."""
        return _dt.timedelta(days=self.months * days_per_month + self.days,
                             microseconds=self.microseconds)

    def __repr__(self) -> str:
        return (f"Interval(months={self.months}, days={self.days}, "
                f"microseconds={self.microseconds})")

    def __eq__(self, other: object) -> bool:
        return (type(other) is Interval and other.months == self.months
                and other.days == self.days and other.microseconds == self.microseconds)

    def __hash__(self) -> int:
        return hash((Interval, self.months, self.days, self.microseconds))


# ---- geometric types -----------------------------------------------------------
# Named tuples: results come back as these, and they (or plain tuples of
# the same shape) go in as parameters; each also pins its type.


class Point(NamedTuple):
    """``point``: (x, y)."""

    x: float
    y: float


class Line(NamedTuple):
    """``line``: the line a*x + b*y + c = 0."""

    a: float
    b: float
    c: float


class LineSegment(NamedTuple):
    """``lseg``: the segment from ``start`` to ``end``."""

    start: Point
    end: Point


class Box(NamedTuple):
    """``box``: two opposite corners; the server stores the upper right
    corner first and the lower left second."""

    high: Point
    low: Point


class Path(NamedTuple):
    """``path``: its points, and whether it is closed."""

    points: tuple[Point, ...]
    closed: bool


class Polygon(NamedTuple):
    """``polygon``: its points."""

    points: tuple[Point, ...]


class Circle(NamedTuple):
    """``circle``: center and radius."""

    center: Point
    radius: float


Point.__pg_type_oid__ = 600  # type: ignore[attr-defined]
Line.__pg_type_oid__ = 628  # type: ignore[attr-defined]
LineSegment.__pg_type_oid__ = 601  # type: ignore[attr-defined]
Box.__pg_type_oid__ = 603  # type: ignore[attr-defined]
Path.__pg_type_oid__ = 602  # type: ignore[attr-defined]
Polygon.__pg_type_oid__ = 604  # type: ignore[attr-defined]
Circle.__pg_type_oid__ = 718  # type: ignore[attr-defined]


# ---- ranges --------------------------------------------------------------------


class Range(NamedTuple):
    """A range value (``int4range``, ``tstzrange``, ... and user range types).

    ``lower`` / ``upper`` are ``None`` for an unbounded side; ``bounds`` is
    one of ``'[)'``, ``'[]'``, ``'(]'``, ``'()'``; ``empty`` marks the empty
    range (bounds then don't matter).  A multirange is a list of ranges.
    The range type is the one the server infers for the parameter.
    """

    lower: Any = None
    upper: Any = None
    bounds: str = "[)"
    empty: bool = False

    @property
    def lower_inc(self) -> bool:
        return not self.empty and self.lower is not None and self.bounds[0] == "["

    @property
    def upper_inc(self) -> bool:
        return not self.empty and self.upper is not None and self.bounds[1] == "]"

    @property
    def isempty(self) -> bool:
        return self.empty
