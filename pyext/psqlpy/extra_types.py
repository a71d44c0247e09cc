"""Wrappers that pin a parameter's PostgreSQL type.

Usually the server infers each parameter's type from the query and the
matching codec converts the Python value.  Where the inference is not what
you want (``SELECT $1``, overloaded functions, untyped contexts), wrap the
value: the statement is then prepared with that parameter's type fixed.
"""

from __future__ import annotations

import datetime as _dt
import uuid as _uuid
from decimal import Decimal as _Decimal
from typing import Any, NamedTuple, TypeVar

__all__ = [
    "SmallInt", "Integer", "BigInt", "PyUUID", "PyJSON",
    "Float32", "Float64", "Text", "VarChar", "Json", "Jsonb", "Money",
    "Inet", "Cidr", "MacAddr", "MacAddr8", "Bit", "VarBit", "Array",
    "Interval",
    "Point", "Line", "LineSegment", "Box", "Path", "Polygon", "Circle",
    "Range",
    # psqlpy 0.13 names
    "JSON", "JSONB", "MacAddr6", "PgVector", "CustomType",
    "BoolArray", "UUIDArray", "VarCharArray", "TextArray", "Int16Array",
    "Int32Array", "Int64Array", "Float32Array", "Float64Array", "MoneyArray",
    "IpAddressArray", "JSONBArray", "JSONArray", "DateArray", "TimeArray",
    "DateTimeArray", "DateTimeTZArray", "MacAddr6Array", "MacAddr8Array",
    "NumericArray", "PointArray", "BoxArray", "PathArray", "LineArray",
    "LsegArray", "CircleArray", "IntervalArray",
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


# ---- psqlpy 0.13 names ---------------------------------------------------------


class JSON(Json):
    """psqlpy 0.13's name of a ``json`` parameter: ``JSON({"a": 1})``."""

    __slots__ = ()


class JSONB(Jsonb):
    """psqlpy 0.13's name of a ``jsonb`` parameter: ``JSONB([1, 2])``."""

    __slots__ = ()


class MacAddr6(MacAddr):
    """psqlpy 0.13's name of a ``macaddr`` parameter."""

    __slots__ = ()


class PgVector(_Pinned):
    """A pgvector ``vector`` parameter from a sequence of numbers:
    ``PgVector([1, 2.5, 3])``.  The extension's type has a different OID in
    each database, so it is not pinned: it goes as the text the server
    reads (``'[1,2.5,3]'``) where the query wants a ``vector``."""

    __slots__ = ()

    def __init__(self, inner_value: Any) -> None:
        nums = [float(x) for x in inner_value]
        super().__init__("[" + ",".join(repr(x) for x in nums) + "]")


class CustomType(_Pinned):
    """A parameter already in its type's binary wire form: the bytes are
    sent as they are, for whatever type the server infers there
    (``CustomType(b"\\x00\\x00\\x00\\x05")`` is 5 for an ``int4``)."""

    __slots__ = ()
    __pg_raw__ = True

    def __init__(self, value: bytes) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"CustomType needs bytes, got {type(value).__name__}")
        super().__init__(bytes(value))


class _TypedArray(Array):
    """An array parameter of a fixed element type (psqlpy 0.13's typed
    arrays): ``Int32Array([1, 2, 3])``, ``Int32Array([[1, 2], [3, 4]])``.
    Any sequence (not a str) is taken; nested lists make dimensions."""

    __slots__ = ()
    _element = ""

    def __init__(self, inner: Any) -> None:
        if isinstance(inner, (str, bytes)) or not hasattr(inner, "__iter__"):
            raise TypeError(f"{type(self).__name__} needs a sequence, got {type(inner).__name__}")
        super().__init__(inner if isinstance(inner, (list, tuple)) else list(inner),
                         self._element)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner_value!r})"


class BoolArray(_TypedArray):
    """A ``bool[]`` parameter (bools)."""

    __slots__ = ()
    _element = "bool"


class UUIDArray(_TypedArray):
    """A ``uuid[]`` parameter (uuid.UUID or text)."""

    __slots__ = ()
    _element = "uuid"


class VarCharArray(_TypedArray):
    """A ``varchar[]`` parameter (strs)."""

    __slots__ = ()
    _element = "varchar"


class TextArray(_TypedArray):
    """A ``text[]`` parameter (strs)."""

    __slots__ = ()
    _element = "text"


class Int16Array(_TypedArray):
    """A ``int2[]`` parameter (ints)."""

    __slots__ = ()
    _element = "int2"


class Int32Array(_TypedArray):
    """A ``int4[]`` parameter (ints)."""

    __slots__ = ()
    _element = "int4"


class Int64Array(_TypedArray):
    """A ``int8[]`` parameter (ints)."""

    __slots__ = ()
    _element = "int8"


class Float32Array(_TypedArray):
    """A ``float4[]`` parameter (floats)."""

    __slots__ = ()
    _element = "float4"


class Float64Array(_TypedArray):
    """A ``float8[]`` parameter (floats)."""

    __slots__ = ()
    _element = "float8"


class MoneyArray(_TypedArray):
    """A ``money[]`` parameter (ints, Decimals or Money)."""

    __slots__ = ()
    _element = "money"


class IpAddressArray(_TypedArray):
    """A ``inet[]`` parameter (ipaddress objects or text)."""

    __slots__ = ()
    _element = "inet"


class JSONBArray(_TypedArray):
    """A ``jsonb[]`` parameter (JSON values)."""

    __slots__ = ()
    _element = "jsonb"


class JSONArray(_TypedArray):
    """A ``json[]`` parameter (JSON values)."""

    __slots__ = ()
    _element = "json"


class DateArray(_TypedArray):
    """A ``date[]`` parameter (datetime.date)."""

    __slots__ = ()
    _element = "date"


class TimeArray(_TypedArray):
    """A ``time[]`` parameter (datetime.time)."""

    __slots__ = ()
    _element = "time"


class DateTimeArray(_TypedArray):
    """A ``timestamp[]`` parameter (naive datetime)."""

    __slots__ = ()
    _element = "timestamp"


class DateTimeTZArray(_TypedArray):
    """A ``timestamptz[]`` parameter (aware datetime)."""

    __slots__ = ()
    _element = "timestamptz"


class MacAddr6Array(_TypedArray):
    """A ``macaddr[]`` parameter (text)."""

    __slots__ = ()
    _element = "macaddr"


class MacAddr8Array(_TypedArray):
    """A ``macaddr8[]`` parameter (text)."""

    __slots__ = ()
    _element = "macaddr8"


class NumericArray(_TypedArray):
    """A ``numeric[]`` parameter (Decimals or numbers)."""

    __slots__ = ()
    _element = "numeric"


class PointArray(_TypedArray):
    """A ``point[]`` parameter (Point or (x, y))."""

    __slots__ = ()
    _element = "point"


class BoxArray(_TypedArray):
    """A ``box[]`` parameter (Box)."""

    __slots__ = ()
    _element = "box"


class PathArray(_TypedArray):
    """A ``path[]`` parameter (Path)."""

    __slots__ = ()
    _element = "path"


class LineArray(_TypedArray):
    """A ``line[]`` parameter (Line)."""

    __slots__ = ()
    _element = "line"


class LsegArray(_TypedArray):
    """A ``lseg[]`` parameter (LineSegment)."""

    __slots__ = ()
    _element = "lseg"


class CircleArray(_TypedArray):
    """A ``circle[]`` parameter (Circle)."""

    __slots__ = ()
    _element = "circle"


class IntervalArray(_TypedArray):
    """A ``interval[]`` parameter (timedelta or Interval)."""

    __slots__ = ()
    _element = "interval"


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
# the same shape) go in as parameters; each also pins its type.  Each also
# takes psqlpy 0.13's one-argument form, a sequence of numbers or of
# coordinate pairs: ``Point([1, 2])``, ``Box([[1, 2], [3, 4]])``,
# ``Box([1, 2, 3, 4])``, ``Path([[1, 2], [3, 4]])`` (an open path),
# ``Line([a, b, c])``, ``LineSegment([[1, 2], [3, 4]])``,
# ``Circle([x, y, r])``.

_NO: Any = object()  # "argument not given"


def _numbers(value: Any, what: str) -> list[Any]:
    try:
        items = list(value)
    except TypeError:
        raise TypeError(f"{what} needs a sequence, got {type(value).__name__}") from None
    return items


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, _Decimal)) and not isinstance(x, bool)


def _points(value: Any, what: str, count: int | None = None) -> tuple[Point, ...]:
    """The points of a 0.13 coordinate sequence: numbers in pairs, or pairs."""
    items = _numbers(value, what)
    if items and all(_is_number(x) for x in items):
        if len(items) % 2:
            raise ValueError(f"{what} needs an even count of numbers, got {len(items)}")
        pts = tuple(Point(items[i], items[i + 1]) for i in range(0, len(items), 2))
    else:
        pts = tuple(Point(p) for p in items)
    if count is not None and len(pts) != count:
        raise ValueError(f"{what} needs {count} points, got {len(pts)}")
    return pts


_T2 = TypeVar("_T2", bound=tuple[Any, ...])


def _two_points(cls: type[_T2], a: Any, b: Any) -> _T2:
    """cls(a, b), or cls of the two points of the one sequence a."""
    if b is _NO:
        a, b = _points(a, cls.__name__, 2)
    return tuple.__new__(cls, (a, b))


class _PointFields(NamedTuple):
    x: float
    y: float


class Point(_PointFields):
    """``point``: (x, y).  ``Point(x, y)`` or ``Point([x, y])``."""

    __slots__ = ()
    __pg_type_oid__ = 600

    def __new__(cls, x: Any, y: Any = _NO) -> Point:
        if y is _NO:
            xy = _numbers(x, "Point")
            if len(xy) != 2 or not all(_is_number(v) for v in xy):
                raise ValueError(f"Point needs two numbers, got {x!r}")
            x, y = xy
        return tuple.__new__(cls, (x, y))


class _LineFields(NamedTuple):
    a: float
    b: float
    c: float


class Line(_LineFields):
    """``line``: the line a*x + b*y + c = 0.  ``Line(a, b, c)`` or
    ``Line([a, b, c])``."""

    __slots__ = ()
    __pg_type_oid__ = 628

    def __new__(cls, a: Any, b: Any = _NO, c: Any = _NO) -> Line:
        if b is _NO and c is _NO:
            abc = _numbers(a, "Line")
            if len(abc) != 3:
                raise ValueError(f"Line needs three numbers, got {a!r}")
            a, b, c = abc
        return tuple.__new__(cls, (a, b, c))


class _LineSegmentFields(NamedTuple):
    start: Point
    end: Point


class LineSegment(_LineSegmentFields):
    """``lseg``: the segment from ``start`` to ``end``.
    ``LineSegment(start, end)`` or ``LineSegment([[x1, y1], [x2, y2]])``."""

    __slots__ = ()
    __pg_type_oid__ = 601

    def __new__(cls, start: Any, end: Any = _NO) -> LineSegment:
        return _two_points(cls, start, end)


class _BoxFields(NamedTuple):
    high: Point
    low: Point


class Box(_BoxFields):
    """``box``: two opposite corners; the server stores the upper right
    corner first and the lower left second.  ``Box(high, low)`` or
    ``Box([[x1, y1], [x2, y2]])``."""

    __slots__ = ()
    __pg_type_oid__ = 603

    def __new__(cls, high: Any, low: Any = _NO) -> Box:
        return _two_points(cls, high, low)


class _PathFields(NamedTuple):
    points: tuple[Point, ...]
    closed: bool


class Path(_PathFields):
    """``path``: its points, and whether it is closed.  ``Path(points,
    closed)`` or ``Path([[x1, y1], ...])`` (an open path, as in 0.13)."""

    __slots__ = ()
    __pg_type_oid__ = 602

    def __new__(cls, points: Any, closed: Any = _NO) -> Path:
        if closed is _NO:
            points, closed = _points(points, "Path"), False
        return tuple.__new__(cls, (points, closed))


class Polygon(NamedTuple):
    """``polygon``: its points."""

    points: tuple[Point, ...]


class _CircleFields(NamedTuple):
    center: Point
    radius: float


class Circle(_CircleFields):
    """``circle``: center and radius.  ``Circle(center, radius)`` or
    ``Circle([x, y, r])``."""

    __slots__ = ()
    __pg_type_oid__ = 718

    def __new__(cls, center: Any, radius: Any = _NO) -> Circle:
        if radius is _NO:
            xyr = _numbers(center, "Circle")
            if len(xyr) != 3:
                raise ValueError(f"Circle needs three numbers (x, y, r), got {center!r}")
            center, radius = Point(xyr[0], xyr[1]), xyr[2]
        return tuple.__new__(cls, (center, radius))


Polygon.__pg_type_oid__ = 604  # type: ignore[attr-defined]


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
