"""Small statistics shared by the worker (any venv) and the coordinator.
Stdlib only."""

from __future__ import annotations


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (p in 0..100): the
    smallest value with at least p% of the values at or below it. None for
    an empty list."""
    if not sorted_values:
        return None
    n = len(sorted_values)
    rank = -(-n * p // 100)  # ceil(n * p / 100)
    return sorted_values[int(max(1, min(n, rank))) - 1]
