"""Run one workload with one driver on one event loop, print one JSON line.

    python worker.py --driver asyncpg --workload pg_type --loop uvloop \
        --view held --dsn postgresql://... --concurrency 10 --warmup 1 --duration 5

The coordinator (run.py) starts one worker process per driver, workload and
loop, under the driver's own interpreter. Stdlib + the driver + uvloop only.

Timing: `concurrency` tasks loop on the operation. Operations that start
before the warm-up ends are not counted; counting stops for operations that
start after the deadline (those in flight finish). Throughput is counted
operations over the span from the first counted start to the last counted
end. Latency is per operation, as the caller sees it. In the "held" view
each task borrows its connection before its first operation and gives it
back after its last, outside the timed operations; in the "pool" view every
operation goes through the pool.

Exit status: 0 ok, 3 driver unavailable (import/connect), 4 error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import traceback

import drivers
import workloads
from stats import percentile, proc_status_mb

EXIT_OK, EXIT_UNAVAILABLE, EXIT_ERROR = 0, 3, 4


class Failure(Exception):
    def __init__(self, status, phase, reason):
        super().__init__(reason)
        self.status, self.phase, self.reason = status, phase, reason


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= 400 else text[:400] + "..."


async def _measure(op, rows_per_op, concurrency, warmup, duration, min_ops,
                   hold=None, release=None):
    """Run op(conn) in `concurrency` tasks; conn is what hold() gave the task
    (None without hold)."""
    clock = time.perf_counter
    conns = [await hold() for _ in range(concurrency)] if hold else [None] * concurrency
    t_start = clock() + warmup
    t_end = t_start + duration
    lat = []
    starts_ends = [float("inf"), 0.0]
    total_ops = [0]

    async def task(conn):
        while True:
            t0 = clock()
            if t0 >= t_end and len(lat) >= min_ops:
                return
            await op(conn)
            t1 = clock()
            total_ops[0] += 1
            if t0 >= t_start:
                lat.append(t1 - t0)
                if t0 < starts_ends[0]:
                    starts_ends[0] = t0
                if t1 > starts_ends[1]:
                    starts_ends[1] = t1

    try:
        await asyncio.gather(*(task(c) for c in conns))
    finally:
        if release:
            for c in conns:
                await release(c)
    span = starts_ends[1] - starts_ends[0]
    lat.sort()
    n = len(lat)
    return {
        "ops": n,
        "total_ops": total_ops[0],
        "elapsed_s": span,
        "qps": n / span if span > 0 else None,
        "rows_per_s": n * rows_per_op / span if span > 0 else None,
        "rows_per_op": rows_per_op,
        "p50_ms": percentile(lat, 50) * 1e3,
        "p90_ms": percentile(lat, 90) * 1e3,
        "p99_ms": percentile(lat, 99) * 1e3,
        "mean_ms": sum(lat) / n * 1e3,
        "max_ms": lat[-1] * 1e3,
    }


async def _run(args, out):
    w = workloads.BY_NAME[args.workload]
    conc = workloads.concurrency_for(w, args.concurrency)
    try:
        adapter = drivers.ADAPTERS[args.driver]()
        out["driver_version"] = adapter.version()
        out["module_file"] = sys.modules[adapter._mod.__name__].__file__
    except Exception as exc:  # the driver itself is missing or broken
        raise Failure("unavailable", "import", _short(exc)) from exc
    try:
        if w.kind == "copy":
            copy_conn = await asyncio.wait_for(adapter.open_copy(args.dsn), 60)
        else:
            await asyncio.wait_for(
                adapter.open(args.dsn, workloads.pool_size_for(w, args.concurrency),
                             not w.pooled), 60)
    except Exception as exc:
        raise Failure("unavailable", "connect", _short(exc)) from exc

    held = args.view == "held" and w.kind != "copy"
    try:
        out["baseline_rss_mb"] = proc_status_mb("VmRSS")
        if w.kind == "copy":
            async def op(conn):
                await adapter.copy(copy_conn, workloads.COPY_TABLE, workloads.COPY_COLUMNS,
                                   workloads.copy_records())
            rows_per_op = workloads.COPY_ROWS
        elif w.kind == "batch":
            rows = [workloads.BATCH_ROW] * workloads.BATCH_SIZE

            async def op(conn):
                await adapter.insert_many(w.sql, rows, conn)
            rows_per_op = workloads.BATCH_SIZE
        else:
            phase = "check"
            try:
                first = await adapter.fetch(w.sql, w.params)
                problem = workloads.check_first_result(
                    w, [adapter.values(r) for r in first])
            except Exception as exc:
                raise Failure("error", "first query", _short(exc)) from exc
            if problem:
                raise Failure("error", phase, problem)
            rows_per_op = len(first)
            del first

            async def op(conn):
                await adapter.fetch(w.sql, w.params, conn)

        try:
            res = await _measure(op, rows_per_op, conc, args.warmup, args.duration,
                                 max(w.min_ops, 1),
                                 adapter.hold if held else None,
                                 adapter.release if held else None)
        except Exception as exc:
            raise Failure("error", "run", _short(exc)) from exc
        out.update(res)
        out["peak_rss_mb"] = proc_status_mb("VmHWM")

        if w.kind in ("batch", "copy"):
            # Every completed batch or COPY must have landed, no more, no less.
            table = "_bench_batch" if w.kind == "batch" else workloads.COPY_TABLE
            got = adapter.values((await adapter.fetch(
                f"SELECT count(*)::int8 FROM {table}", (),
                copy_conn if w.kind == "copy" else None))[0])[0]
            want = res["total_ops"] * rows_per_op
            if got != want:
                raise Failure("error", "check", f"{table} has {got} rows, expected {want}")
    finally:
        try:
            await asyncio.wait_for(adapter.close(), 30)
        except Exception as exc:
            out.setdefault("close_warning", _short(exc))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--driver", required=True, choices=sorted(drivers.ADAPTERS))
    ap.add_argument("--workload", required=True, choices=sorted(workloads.BY_NAME))
    ap.add_argument("--loop", required=True, choices=["uvloop", "asyncio"])
    ap.add_argument("--view", default="held", choices=list(workloads.VIEWS))
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=5.0)
    args = ap.parse_args(argv)

    out = {"driver": args.driver, "workload": args.workload, "loop": args.loop,
           "view": args.view,
           "concurrency": workloads.concurrency_for(workloads.BY_NAME[args.workload],
                                                    args.concurrency),
           "python": platform.python_version(), "pid": os.getpid(),
           "status": "ok"}
    code = EXIT_OK
    try:
        if args.loop == "uvloop":
            try:
                import uvloop
            except ImportError as exc:
                raise Failure("unavailable", "import", f"uvloop: {exc}") from exc
            out["uvloop_version"] = uvloop.__version__
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(_run(args, out))
        else:
            asyncio.run(_run(args, out))
    except Failure as f:
        out.update(status=f.status, phase=f.phase, reason=f.reason)
        code = EXIT_UNAVAILABLE if f.status == "unavailable" else EXIT_ERROR
        if f.__cause__ is not None:
            traceback.print_exception(f.__cause__, file=sys.stderr)
    except BaseException as exc:  # anything else is a bug worth seeing whole
        out.update(status="error", phase="worker", reason=_short(exc))
        traceback.print_exc(file=sys.stderr)
        code = EXIT_ERROR
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
