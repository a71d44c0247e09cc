"""Processes: free ports, CPU accounting from /proc, starting and stopping."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    # comm (field 2) may contain spaces; everything after the last ')' is fixed.
    return raw[raw.rindex(")") + 2:].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads); 0 if gone."""
    f = _stat_fields(pid)
    if f is None:
        return 0.0
    # after ')': state(3) ppid(4) ... utime(14) stime(15) -> indexes 11, 12
    return (int(f[11]) + int(f[12])) / CLK_TCK


def children(ppid: int) -> list[int]:
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            f = _stat_fields(int(name))
            if f is not None and int(f[1]) == ppid:
                out.append(int(name))
    return out


class TreeCpu:
    """CPU used by a process and its direct children between start() and stop().

    Children that exit in between are not counted (PostgreSQL backends of a
    pool live for the whole measurement, so this is exact for our use).
    """

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.before: dict[int, float] = {}
        self.t0 = 0.0

    def _sample(self) -> dict[int, float]:
        if self.pid is None:
            return {}
        pids = [self.pid] + children(self.pid)
        return {p: cpu_seconds(p) for p in pids}

    def start(self) -> None:
        self.before = self._sample()
        self.t0 = time.monotonic()

    def stop(self) -> float | None:
        """Percent of one core used since start(); None if nothing to measure."""
        if self.pid is None:
            return None
        wall = time.monotonic() - self.t0
        after = self._sample()
        used = sum(v - self.before.get(p, 0.0) for p, v in after.items())
        return 100.0 * used / wall if wall > 0 else None


def run_measured(argv: list[str], *, timeout: float, cwd: str | None = None,
                 stdout=None, stderr=None, env=None) -> tuple[int, float, float]:
    """Run argv to completion; return (exit status, wall s, CPU percent of one core).

    The CPU figure is the process's own rusage (all threads, and children it
    waited for), so it measures a load generator's share exactly.  A process
    still running at `timeout` is killed (status -9).
    """
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, cwd=cwd, stdout=stdout, stderr=stderr, env=env,
                            start_new_session=True)
    deadline = t0 + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pid, status, ru = os.wait4(proc.pid, 0)
            break
        time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    return proc.returncode, wall, 100.0 * (ru.ru_utime + ru.ru_stime) / wall


def pinned(argv: list[str], cpu: int | None) -> list[str]:
    """argv run under taskset on one CPU (unchanged when cpu is None)."""
    return argv if cpu is None else ["taskset", "-c", str(cpu)] + argv


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> bytes:
    """GET url until it answers 200 or timeout; raise RuntimeError on failure.

    Gives up early when `proc` has exited (its start failed).
    """
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return r.read()
                last = f"HTTP {r.status}"
        except OSError as e:
            last = str(e)
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s ({last})")


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL after `grace` seconds."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
