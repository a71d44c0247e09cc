"""Row factories for ``QueryResult.row_factory()`` (the psqlpy 0.13 API)."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

__all__ = ["tuple_row", "class_row"]

_T = TypeVar("_T")


def tuple_row(row: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The row as a tuple of (column name, value) pairs."""
    return tuple(row.items())


def class_row(class_: Callable[..., _T]) -> Callable[[dict[str, Any]], _T]:
    """A row factory that makes ``class_(**row)`` of each row."""

    def make(row: dict[str, Any]) -> _T:
        return class_(**row)

    return make
