"""Driver comparison: this project's psqlpy, asyncpg, psycopg 3 (C) and the
Rust psqlpy from PyPI, plus pgbench as the C-client limit, against one
throwaway PostgreSQL server. Normally started by benchmarks/run_compare.sh,
which prepares the interpreters; see benchmarks/README.md.

Each (workload, round) runs pgbench, then for every view (pool: a pool
borrow per query; held: a connection held per task) and loop the drivers in
a fixed order (A B C D), each in its own process, so drift hits every client
alike. The short mode runs the pool view on uvloop only (CI's time budget).
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

import cluster
import report
import workloads
from stats import percentile, proc_status_mb

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = {
    "psqlpy": "C, this repository",
    "asyncpg": "",
    "psycopg": "psycopg 3, C implementation, with psycopg_pool",
    "psqlpy-rust": "Rust, from PyPI",
}
MODES = {  # warm-up s, duration s, rounds
    "short": (0.2, 0.5, 1),
    "full": (2.0, 5.0, 3),
}
UNIT_OVERHEAD_S = 0.6  # process start, imports, connecting: for the ETA only


# -- running a child -------------------------------------------------------

def run_child(cmd, timeout, tick=None, env=None, cwd=None):
    """Run cmd with stdout/stderr in temp files, call tick() every 0.1 s.
    Returns (exit code or None on timeout, stdout, stderr, peak RSS MB of
    the child: its VmHWM, last read before it exited)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        deadline = time.monotonic() + timeout
        code, rss = None, None
        while True:
            hwm = proc_status_mb("VmHWM", proc.pid)  # None once it has exited
            rss = max(rss or 0, hwm or 0) or None
            pid, status = os.waitpid(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(status)
                proc.returncode = code  # reaped here, keep Popen from waiting
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.waitpid(proc.pid, 0)
                proc.returncode = -9
                break
            if tick:
                tick()
            time.sleep(0.1)
        out.seek(0)
        err.seek(0)
        return code, out.read(), err.read(), rss


# -- progress --------------------------------------------------------------

class Progress:
    """A live status line on a terminal; one line per finished run either way."""

    def __init__(self, total, per_unit_s):
        self.total, self.done = total, 0
        self.per_unit_s = per_unit_s
        self.t0 = time.monotonic()
        self.tty = sys.stderr.isatty()
        self.current, self.unit_t0 = "", time.monotonic()

    def _eta(self):
        elapsed = time.monotonic() - self.t0
        avg = elapsed / self.done if self.done else self.per_unit_s
        return elapsed, avg * (self.total - self.done)

    @staticmethod
    def _mmss(s):
        return f"{int(s // 60):02d}:{int(s % 60):02d}"

    def start(self, label):
        self.current, self.unit_t0 = label, time.monotonic()
        self.tick()

    def tick(self):
        if not self.tty:
            return
        elapsed, left = self._eta()
        width = 24
        fill = int(width * self.done / max(1, self.total))
        line = (f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} "
                f"{self._mmss(elapsed)} elapsed, ~{self._mmss(left)} left | {self.current} "
                f"{time.monotonic() - self.unit_t0:4.1f}s")
        sys.stderr.write(line[:160].ljust(100) + "\033[K")
        sys.stderr.flush()

    def finish(self, summary):
        self.done += 1
        elapsed, left = self._eta()
        text = f"[{self.done:3d}/{self.total}] {self.current}: {summary}"
        if self.tty:
            sys.stderr.write("\r\033[K" + text + "\n")
        else:
            sys.stderr.write(f"{text}  ({self._mmss(elapsed)} elapsed, ~{self._mmss(left)} left)\n")
        sys.stderr.flush()

    def note(self, text):
        sys.stderr.write(("\r\033[K" if self.tty else "") + text + "\n")
        sys.stderr.flush()


def _fmt_run(r):
    if r.get("status") != "ok":
        return f"{r.get('status', 'error').upper()} ({r.get('phase', '?')}): {r.get('reason', '')}"
    return (f"{r['qps']:,.0f} ops/s, p50 {r['p50_ms']:.3f} ms, p99 {r['p99_ms']:.3f} ms, "
            f"peak RSS {r.get('peak_rss_mb') or 0:.0f} MB")


def check_server_calls(r, calls):
    """The server must have executed the statement at least once per
    operation the worker reports (+1: the checked first query); a driver
    that answers without asking the server fails here."""
    r["server_calls"] = calls
    want = r["total_ops"] + 1
    if calls < want:
        r.update(status="error", phase="server check",
                 reason=f"the server executed the statement {calls} times, the driver "
                        f"reported {want} queries")


# -- pgbench ---------------------------------------------------------------

def run_pgbench(w, dsn, concurrency, duration, threads, tick):
    conc = workloads.pgbench_clients_for(w, concurrency)
    out = {"workload": w.name, "concurrency": conc, "threads": min(threads, conc),
           "status": "ok"}
    with tempfile.TemporaryDirectory(prefix="psqlpy-bench-pgbench-") as tmp:
        script = os.path.join(tmp, "script.sql")
        with open(script, "w") as f:
            f.write(w.pgbench_script)
        prefix = os.path.join(tmp, "log")
        seconds = max(1, math.ceil(duration))
        cmd = [cluster.pg_bin("pgbench"), "-n", "-M", "prepared", "-c", str(conc),
               "-j", str(out["threads"]), "-T", str(seconds), "-f", script,
               "-l", f"--log-prefix={prefix}", dsn]
        code, stdout, stderr, rss = run_child(cmd, seconds + 120, tick)
        logs = []
        for name in sorted(os.listdir(tmp)):
            if name.startswith("log."):
                with open(os.path.join(tmp, name)) as f:
                    logs.extend(f.read().splitlines())
        parsed = parse_pgbench(code, stdout, stderr, logs)
        out.update(parsed)
        if parsed["status"] != "ok":
            return out
        rows = w.expect_rows if w.expect_rows > 0 else None
        if w.name == "pg_type":
            rows = int(cluster.psql(dsn, "SELECT count(*) FROM pg_type "
                                         "WHERE typtypmod = -1 AND typisdefined;"))
        out.update(rows_per_s=out["qps"] * rows if rows else None, rows_per_op=rows,
                   peak_rss_mb=rss, pgbench_version=_pgbench_version())
    return out


def parse_pgbench(code, stdout, stderr, log_lines):
    """pgbench's summary (stdout) and per-transaction log lines (-l:
    `client_id transaction_no latency_us script_no epoch epoch_us ...`) ->
    {status, qps, ops, p50_ms, p99_ms, mean_ms} or {status, phase, reason}.
    A failed transaction, a missing tps line or a non-zero exit is an error."""
    tps = re.search(r"^tps = ([0-9.]+)", stdout, re.M)
    failed = re.search(r"^number of failed transactions: (\d+)", stdout, re.M)
    if code != 0 or not tps or (failed and int(failed.group(1))):
        why = (stderr.strip().splitlines() or [f"exit {code}, no tps line"])[-1]
        if failed and int(failed.group(1)):
            why = f"{failed.group(1)} failed transactions; {why}"
        return {"status": "error", "phase": "pgbench", "reason": why[:300]}
    lat = []
    for line in log_lines:
        parts = line.split()
        if len(parts) >= 3 and parts[2].isdigit():
            lat.append(int(parts[2]) / 1000.0)
    lat.sort()
    return {"status": "ok", "qps": float(tps.group(1)), "ops": len(lat),
            "p50_ms": percentile(lat, 50), "p99_ms": percentile(lat, 99),
            "mean_ms": sum(lat) / len(lat) if lat else None}


def _pgbench_version():
    try:
        return subprocess.run([cluster.pg_bin("pgbench"), "--version"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except OSError:
        return None


# -- main ------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--short", action="store_true",
                    help="a few seconds per workload, one round (what CI runs)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"),
                    help="output directory (results.json, results.md, charts/)")
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--duration", type=float, help="measured seconds per run")
    ap.add_argument("--warmup", type=float, help="warm-up seconds per run")
    ap.add_argument("--rounds", type=int, help="repetitions of the interleaved sequence")
    ap.add_argument("--drivers", default=",".join(report.DRIVER_ORDER))
    ap.add_argument("--workloads", default=",".join(w.name for w in workloads.WORKLOADS))
    ap.add_argument("--loops", default="uvloop,asyncio")
    ap.add_argument("--views", default=",".join(workloads.VIEWS),
                    help="pool: every query borrows from the pool; held: each task "
                         "holds one connection (workloads run the views they have)")
    ap.add_argument("--no-pgbench", action="store_true")
    ap.add_argument("--pgbench-threads", type=int, default=1,
                    help="pgbench -j (default 1: one client thread, like one Python process)")
    ap.add_argument("--require-all", action="store_true",
                    help="exit non-zero if any driver is unavailable or any run fails (CI)")
    ap.add_argument("--dsn", default=os.environ.get("PSQLPY_BENCH_DSN"),
                    help="use this server instead of a throwaway one (tables _bench_* are "
                         "created and dropped)")
    for d in report.DRIVER_ORDER:
        ap.add_argument(f"--python-{d}", dest=f"python_{d.replace('-', '_')}",
                        help=f"interpreter that has {d} installed")
    ap.add_argument("--unavailable", action="append", default=[], metavar="DRIVER=REASON",
                    help="mark a driver unavailable up front (set by run_compare.sh)")
    a = ap.parse_args(argv)
    warm, dur, rounds = MODES["short" if a.short else "full"]
    a.warmup = warm if a.warmup is None else a.warmup
    a.duration = dur if a.duration is None else a.duration
    a.rounds = rounds if a.rounds is None else a.rounds
    a.drivers = [d for d in a.drivers.split(",") if d]
    a.workloads = [w for w in a.workloads.split(",") if w]
    a.loops = [lp for lp in a.loops.split(",") if lp]
    a.views = [v for v in a.views.split(",") if v]
    for v in a.views:
        if v not in workloads.VIEWS:
            ap.error(f"unknown view {v}")
    for d in a.drivers:
        if d not in report.DRIVER_ORDER:
            ap.error(f"unknown driver {d}")
    for w in a.workloads:
        if w not in workloads.BY_NAME:
            ap.error(f"unknown workload {w}")
    for lp in a.loops:
        if lp not in report.LOOP_ORDER:
            ap.error(f"unknown loop {lp}")
    if a.concurrency < 1 or a.duration <= 0 or a.warmup < 0 or a.rounds < 1:
        ap.error("concurrency and rounds must be >= 1, duration > 0, warm-up >= 0")
    return a


def _machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}"


def plan_units(wl, a):
    """The runs in order: (workload, round, view or None, loop or None,
    driver); pgbench (view and loop None) first in each (workload, round)."""
    units = []
    for w in wl:
        for rnd in range(a.rounds):
            if not a.no_pgbench and w.pgbench_script:
                units.append((w, rnd, None, None, "pgbench"))
            for view in [v for v in a.views if v in w.views]:
                for loop in a.loops:
                    if a.short and view == "pool" and loop != "uvloop":
                        continue
                    for d in a.drivers:
                        units.append((w, rnd, view, loop, d))
    return units


def main(argv=None):
    a = parse_args(argv)
    a.out = os.path.abspath(a.out)
    os.makedirs(a.out, exist_ok=True)
    drivers = {}
    for d in a.drivers:
        py = getattr(a, f"python_{d.replace('-', '_')}") or sys.executable
        drivers[d] = {"label": LABELS[d], "python": py, "status": "ok"}
        if not (os.path.isfile(py) and os.access(py, os.X_OK)):
            drivers[d].update(status="unavailable", reason=f"no interpreter at {py}")
    for spec in a.unavailable:
        d, _, reason = spec.partition("=")
        if d in drivers:
            drivers[d].update(status="unavailable", reason=reason)

    wl = [workloads.BY_NAME[n] for n in a.workloads]
    units = plan_units(wl, a)
    progress = Progress(len(units), a.warmup + a.duration + UNIT_OVERHEAD_S)

    srv = None
    dsn = a.dsn
    started = time.monotonic()
    raw_runs, raw_pgb, problems = [], [], []
    not_run = []  # known to be impossible for a driver: listed, never measured
    try:
        if not dsn:
            progress.note("starting a throwaway PostgreSQL ...")
            srv = cluster.start_server()
            dsn = srv.dsn
        cluster.psql(dsn, workloads.SETUP_SQL)
        no_counts = cluster.enable_statement_counts(dsn)
        if no_counts:
            progress.note("server-side execution counts off (pg_stat_statements: "
                          f"{no_counts}); driver results are checked client-side only")
        server_version = cluster.psql(dsn, "SHOW server_version;")
        for d, info in drivers.items():
            if info["status"] != "ok":
                progress.note(f"driver unavailable: {d}: {info['reason']}")

        for w, rnd, view, loop, d in units:
            label = f"{w.name} | r{rnd + 1}/{a.rounds} | {view or '-'} | {loop or '-'} | {d}"
            progress.start(label)
            if w.kind == "batch":
                cluster.psql(dsn, "TRUNCATE _bench_batch;")
            elif w.kind == "copy":
                cluster.psql(dsn, f"TRUNCATE {workloads.COPY_TABLE};")
            if d == "pgbench":
                r = run_pgbench(w, dsn, a.concurrency, a.duration, a.pgbench_threads,
                                progress.tick)
                r["round"] = rnd + 1
                raw_pgb.append(r)
                progress.finish(_fmt_run(r))
                continue
            info = drivers[d]
            why = w.not_runnable.get((d, loop))
            if why:
                entry = {"driver": d, "workload": w.name, "loop": loop, "view": view,
                         "reason": why}
                if entry not in not_run:
                    not_run.append(entry)
                progress.finish(f"not run: {why}")
                continue
            if info["status"] == "unavailable":
                r = {"driver": d, "workload": w.name, "loop": loop, "view": view,
                     "status": "unavailable",
                     "phase": info.get("phase", "setup"), "reason": info["reason"],
                     "round": rnd + 1}
                raw_runs.append(r)
                progress.finish("skipped, driver unavailable")
                continue
            cmd = [info["python"], os.path.join(HERE, "worker.py"), "--driver", d,
                   "--workload", w.name, "--loop", loop, "--view", view, "--dsn", dsn,
                   "--concurrency", str(a.concurrency), "--warmup", str(a.warmup),
                   "--duration", str(a.duration)]
            counted = not no_counts and w.server_marker
            if counted:
                cluster.reset_statement_counts(dsn)
            limit = a.warmup + a.duration + 120
            code, stdout, stderr, _ = run_child(cmd, limit, progress.tick, cwd=tempfile.gettempdir())
            r = None
            for line in reversed(stdout.strip().splitlines()):
                try:
                    r = json.loads(line)
                    break
                except ValueError:
                    continue
            if r is None:
                why = "timed out" if code is None else f"exit {code}, no result"
                tail = " | ".join(stderr.strip().splitlines()[-3:])
                r = {"driver": d, "workload": w.name, "loop": loop, "view": view,
                     "status": "error",
                     "phase": "worker", "reason": f"{why}: {tail}"[:400]}
            r["round"] = rnd + 1
            if counted and r["status"] == "ok":
                check_server_calls(r, cluster.statement_calls(dsn, w.server_marker))
            raw_runs.append(r)
            if r["status"] == "unavailable":
                info.update(status="unavailable", phase=r.get("phase"), reason=r.get("reason"))
                progress.note(f"driver unavailable: {d}: {r.get('reason')}")
            elif r.get("driver_version"):
                info.setdefault("version", r["driver_version"])
                info.setdefault("module_file", r.get("module_file"))
            if r["status"] == "error" and stderr.strip():
                sys.stderr.write(stderr[-2000:])
            progress.finish(_fmt_run(r))
        cluster.psql(dsn, workloads.TEARDOWN_SQL)
    finally:
        if srv is not None:
            srv.stop()

    for d, info in drivers.items():
        if info["status"] == "unavailable":
            problems.append(f"driver unavailable: {d}: {info.get('reason')}")
    for r in raw_runs + raw_pgb:
        if r["status"] == "error":
            problems.append(f"{r.get('driver', 'pgbench')} / {r['workload']} / "
                            f"{r.get('view') or '-'} / {r.get('loop') or '-'} round {r['round']}: {r.get('phase')}: "
                            f"{r.get('reason')}")

    results, pgb = report.aggregate(raw_runs, raw_pgb)
    meta = {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "mode": "short" if a.short else "full",
        "machine": _machine(), "python": platform.python_version(),
        "server_version": server_version, "concurrency": a.concurrency,
        "warmup": a.warmup, "duration": a.duration, "rounds": a.rounds,
        "loops": a.loops, "views": a.views, "workloads": a.workloads,
        "pgbench": (_pgbench_version() if not a.no_pgbench else None),
        "pgbench_threads": a.pgbench_threads,
        "server_execution_counts": no_counts is None,
        "wall_time_s": round(time.monotonic() - started, 1),
    }
    report.write_json(os.path.join(a.out, "results.json"), meta, drivers, results, pgb, problems,
                      not_run)
    report.write_markdown(os.path.join(a.out, "results.md"), meta, drivers, results, pgb, problems,
                          not_run)
    charts = report.write_charts(os.path.join(a.out, "charts"), meta, drivers, results, pgb)
    progress.note(f"wrote {a.out}/results.json, results.md, "
                  + ", ".join(os.path.relpath(c, a.out) for c in charts)
                  + f" in {meta['wall_time_s']:.0f} s")
    for p in problems:
        progress.note("PROBLEM: " + p)
    if a.require_all and problems:
        progress.note(f"--require-all: {len(problems)} problem(s), failing")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
