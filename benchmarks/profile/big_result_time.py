#!/usr/bin/env python3
"""Where the time of the comparison's 200,000-row result goes.

For ours, each query is split in three: `execute()` (the server producing
the rows and libpq collecting them into its result, which it hands over
only once the last row has arrived), building the Python rows from that
result (`result()`, `result(as_tuple=True)` or `records()`), and freeing
them. asyncpg's `fetch` is one figure: it builds its Records while the rows
are still arriving (and, as its finished future keeps the previous list
until the next call, the figure includes freeing the previous result).
pgbench's average latency for the same SQL is what the server and libpq
take with no Python rows at all.

    python3 benchmarks/profile/big_result_time.py --peers ~/.cache/psqlpy-bench/peers-*/bin/python

Medians of --queries queries after one warm-up, each driver in a fresh
process on --loop. Starts a throwaway server with tests/py/pgcluster.py
unless --dsn is given.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

from common import ROOT, arg_parser, server

CHILD = r'''
import asyncio, json, os, sys, time
sys.path[:0] = [sys.argv[5], os.path.join(os.path.dirname(sys.argv[5]), "profile")]
from common import held_connection
import workloads
w = workloads.BY_NAME["big_result"]
driver, dsn, loop, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def median(xs):
    return sorted(xs)[len(xs) // 2] * 1e3

async def main():
    out = {}
    if driver == "psqlpy":
        pool, conn = await held_connection(dsn)
        shapes = {"dict": lambda r: r.result(), "tuple": lambda r: r.result(as_tuple=True),
                  "record": lambda r: r.records()}
        for shape, build in shapes.items():
            ex, bu, fr = [], [], []
            for i in range(n + 1):
                a = time.perf_counter()
                res = await conn.execute(w.sql, list(w.params))
                b = time.perf_counter()
                rows = build(res)
                c = time.perf_counter()
                assert len(rows) == w.expect_rows
                del rows, res
                d = time.perf_counter()
                if i:
                    ex.append(b - a); bu.append(c - b); fr.append(d - c)
            out[shape] = {"execute": median(ex), "build": median(bu), "free": median(fr)}
    else:
        import asyncpg
        conn = await asyncpg.connect(dsn)
        fe = []
        for i in range(n + 1):
            a = time.perf_counter()
            rows = await conn.fetch(w.sql, *w.params)
            b = time.perf_counter()
            assert len(rows) == w.expect_rows
            del rows
            if i:
                fe.append(b - a)
        out["record"] = {"fetch": median(fe)}
    print(json.dumps(out))

if loop == "uvloop":
    import uvloop
    uvloop.install()
asyncio.run(main())
'''


def child(python, driver, dsn, loop, n):
    p = subprocess.run([python, "-c", CHILD, driver, dsn, loop, str(n),
                        os.path.join(ROOT, "benchmarks", "compare")],
                       check=False, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        raise RuntimeError(f"{driver} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def pgbench_ms(dsn, n):
    sys.path.insert(0, os.path.join(ROOT, "benchmarks", "compare"))
    import workloads
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise RuntimeError("pgbench not found (Debian: postgresql-client)")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(workloads.BY_NAME["big_result"].pgbench_script)
        script = f.name
    try:
        p = subprocess.run([pgbench, "-n", "-M", "prepared", "-c", "1", "-t", str(n),
                            "-f", script, dsn], check=False, capture_output=True, text=True,
                           timeout=900)
    finally:
        os.unlink(script)
    if p.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{p.stderr[-2000:]}")
    return next(float(line.split("=")[1].split()[0]) for line in p.stdout.splitlines()
                if line.startswith("latency average"))


def main():
    ap = arg_parser(__doc__, "interpreter with asyncpg")
    ap.add_argument("--loop", default="uvloop", choices=("uvloop", "asyncio"))
    ap.add_argument("--queries", type=int, default=9)
    args = ap.parse_args()

    with server(args.dsn) as dsn:
        print(f"200,000-row result, {args.loop}, medians of {args.queries} queries, ms")
        print(f"pgbench (C, libpq, no Python rows): {pgbench_ms(dsn, args.queries):.1f}")
        for shape, t in child(args.ours, "psqlpy", dsn, args.loop, args.queries).items():
            total = t["execute"] + t["build"]
            print(f"psqlpy {shape:<7} execute {t['execute']:6.1f} + build {t['build']:5.1f}"
                  f" = {total:6.1f}   (then free {t['free']:.1f})")
        if args.peers:
            t = child(args.peers, "asyncpg", dsn, args.loop, args.queries)["record"]
            print(f"asyncpg record  fetch {t['fetch']:6.1f}, rows built as they arrive "
                  "(the previous result's rows are freed inside it: its finished future "
                  "keeps them until the next call)")


if __name__ == "__main__":
    main()
