"""psqlpy.extra_types under the psqlpy 0.13 module name psqlpy._internal.extra_types.

Every name is psqlpy.extra_types' except ``Money`` and ``MoneyArray``,
which count as psqlpy 0.13 does: an int is the amount in cents (money's
own int8), so ``Money(100)`` is $1.00 here and $100.00 in
``psqlpy.extra_types``.  Decimals are amounts in both.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from psqlpy.extra_types import *  # noqa: F401,F403
from psqlpy.extra_types import __all__ as __all__  # noqa: F401
from psqlpy.extra_types import Money as _Money
from psqlpy.extra_types import MoneyArray as _MoneyArray

_INT8_MIN, _INT8_MAX = -(1 << 63), (1 << 63) - 1


def _amount(v: Any) -> Any:
    """An int as cents (an amount of two fraction digits); anything else as is."""
    if isinstance(v, int) and not isinstance(v, bool):
        if not _INT8_MIN <= v <= _INT8_MAX:
            raise ValueError(f"Money: {v} cents is outside money's range (int8)")
        return Decimal(v).scaleb(-2)
    return v


class Money(_Money):  # type: ignore[no-redef]
    """A ``money`` parameter as psqlpy 0.13 takes it: an int is the amount
    in cents, anywhere in int8's range (``Money(100)`` is $1.00)."""

    __slots__ = ()

    def __init__(self, inner_value: int | Decimal | str) -> None:
        super().__init__(_amount(inner_value))


def _cents(v: Any) -> Any:
    if isinstance(v, (list, tuple)):
        return [_cents(x) for x in v]
    return _amount(v)


class MoneyArray(_MoneyArray):  # type: ignore[no-redef]
    """A ``money[]`` parameter as psqlpy 0.13 takes it: ints are cents."""

    __slots__ = ()

    def __init__(self, inner: Any) -> None:
        super().__init__(_cents(list(inner)))
