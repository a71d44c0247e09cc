#!/usr/bin/env python3
"""Where the memory of the comparison's 200,000-row result goes.

Each case runs in a fresh process (like the comparison's workers): connect,
fetch the `big_result` query twice (a warm-up, then the measured one, as
the comparison does), and report the process's RSS when connected and its
peak RSS (VmHWM) after the two; then, in a third fetch measured with
tracemalloc (apart, because tracemalloc's bookkeeping inflates RSS), the
Python objects of the rows in bytes per row. For ours it also reports the
RSS taken by the raw result (libpq's PGresult, held by the QueryResult)
before any row is built, on the first fetch.

    python3 benchmarks/profile/big_result_memory.py
    python3 benchmarks/profile/big_result_memory.py --peers ~/.cache/psqlpy-bench/peers-*/bin/python

Ours runs under the repository's .venv/bin/python in each row shape
(`result()` dicts, `result(as_tuple=True)` tuples, `records()`); asyncpg
(its Records, what its `fetch` returns) under --peers. Starts a throwaway
server with tests/py/pgcluster.py unless --dsn is given. uvloop when
installed, else asyncio (--loop).
"""

from __future__ import annotations

import json
import os
import subprocess

from common import ROOT, arg_parser, server

CASES = [("psqlpy", "dict"), ("psqlpy", "tuple"), ("psqlpy", "record"),
         ("asyncpg", "record")]

CHILD = r'''
import asyncio, gc, json, os, sys, tracemalloc
sys.path[:0] = [sys.argv[4], os.path.join(os.path.dirname(sys.argv[4]), "profile")]
from common import held_connection
import workloads
w = workloads.BY_NAME["big_result"]
driver, shape, dsn, _, loop = sys.argv[1:6]

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024

async def main():
    out = {}
    if driver == "psqlpy":
        pool, conn = await held_connection(dsn)
        async def raw():
            return await conn.execute(w.sql, list(w.params))
        def build(res):
            if shape == "dict":
                return res.result()
            if shape == "tuple":
                return res.result(as_tuple=True)
            return res.records()
    else:
        import asyncpg
        conn = await asyncpg.connect(dsn)
        async def raw():
            return None
        def build(res):
            raise AssertionError
    out["connected_rss_mb"] = status("VmRSS")
    # a warm-up and the measured fetch, as the comparison runs them; the
    # raw result's RSS is taken on the first (fresh memory)
    for first in (True, False):
        before = status("VmRSS")
        if driver == "psqlpy":
            res = await raw()
            if first:
                out["raw_result_rss_mb"] = status("VmRSS") - before
            rows = build(res)
            del res
        else:
            rows = await conn.fetch(w.sql, *w.params)
        assert len(rows) == w.expect_rows
        del rows
        gc.collect()
    out["peak_rss_mb"] = status("VmHWM")
    # then, apart (tracemalloc's own bookkeeping inflates RSS), the rows'
    # Python objects
    res = await raw()
    tracemalloc.start()
    rows = build(res) if driver == "psqlpy" else await conn.fetch(w.sql, *w.params)
    out["rows_bytes_per_row"] = tracemalloc.get_traced_memory()[0] / len(rows)
    tracemalloc.stop()
    print(json.dumps(out))

if loop == "uvloop":
    import uvloop
    uvloop.install()
asyncio.run(main())
'''


def main():
    ap = arg_parser(__doc__, "interpreter with asyncpg")
    ap.add_argument("--loop", default="uvloop", choices=("uvloop", "asyncio"))
    args = ap.parse_args()

    with server(args.dsn) as dsn:
        print(f"{'driver':<8} {'rows':<7} {'connected MB':>12} {'raw result MB':>13} "
              f"{'rows B/row':>10} {'peak RSS MB':>11}")
        for driver, shape in CASES:
            python = args.ours if driver == "psqlpy" else args.peers
            if python is None:
                continue
            p = subprocess.run([python, "-c", CHILD, driver, shape, dsn,
                                os.path.join(ROOT, "benchmarks", "compare"), args.loop],
                               capture_output=True, text=True)
            if p.returncode != 0:
                raise RuntimeError(f"{driver} {shape} failed:\n{p.stderr[-2000:]}")
            r = json.loads(p.stdout.strip().splitlines()[-1])
            raw = r.get("raw_result_rss_mb")
            print(f"{driver:<8} {shape:<7} {r['connected_rss_mb']:>12.1f} "
                  f"{'–' if raw is None else format(raw, '.1f'):>13} "
                  f"{r['rows_bytes_per_row']:>10.0f} {r['peak_rss_mb']:>11.1f}", flush=True)


if __name__ == "__main__":
    main()
