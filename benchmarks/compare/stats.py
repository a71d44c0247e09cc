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


def proc_status_mb(field, pid="self"):
    """A memory figure from /proc/PID/status in MB (VmRSS: now, VmHWM: peak
    of this program's address space), or None if unreadable.

    Not getrusage's ru_maxrss: Linux carries that over from the parent that
    forked the process, so a child of a big coordinator reports the
    coordinator's size. VmHWM starts afresh at exec."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None
