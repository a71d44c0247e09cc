#!/usr/bin/env python3
"""Client CPU per query for SELECT 1+1 on held connections, against pgbench.

On a machine where the client and the server share the cores, a faster
client only helps while the server has CPU to spare: each query costs the
client's CPU (user and kernel: the loopback TCP work is charged to the
process that sends) plus the server's. This script measures the client's
share per query for each driver and for pgbench's C client, with
getrusage around a fixed number of queries after a warm-up, and reports
the rate each reached in the same run.

    python3 benchmarks/profile/client_cpu.py --peers ~/.cache/psqlpy-bench/peers-*/bin/python
    python3 benchmarks/profile/client_cpu.py --concurrency 1 --queries 100000
    python3 benchmarks/profile/client_cpu.py --peers ... --callgrind   # + instructions per query

Each driver runs in a fresh process, `--concurrency` tasks each holding one
connection and awaiting its queries one after another (the comparison's
held view). Ours runs under the repository's .venv/bin/python, asyncpg and
psycopg under --peers. Starts a throwaway server with tests/py/pgcluster.py
unless --dsn is given. With --callgrind, each driver also runs twice under
valgrind's callgrind (10,000 and 30,000 queries after the same warm-up), and
the difference of the two totals over 20,000 is its user-space instructions
per query: the interpreter, the event loop, the driver and libpq or its own
protocol code, with start-up and connecting cancelled out.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import tempfile

from common import arg_parser, server
SQL = "SELECT 1 + 1 AS r"

CHILD = r'''
import asyncio, json, resource, sys, time
driver, dsn, loop, n, c = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
SQL = "SELECT 1 + 1 AS r"

async def main():
    if driver == "psqlpy":
        import psqlpy
        pool = psqlpy.PSQLPool(dsn=dsn, max_db_pool_size=c)
        await pool.startup()
        conns = [await pool.connection() for _ in range(c)]
        def query(conn):
            async def q():
                return (await conn.execute(SQL)).result()
            return q
    elif driver == "asyncpg":
        import asyncpg
        conns = [await asyncpg.connect(dsn) for _ in range(c)]
        def query(conn):
            async def q():
                return await conn.fetch(SQL)
            return q
    else:
        import psycopg
        conns = [await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(c)]
        def query(conn):
            async def q():
                cur = await conn.execute(SQL, prepare=True)
                return await cur.fetchall()
            return q
    qs = [query(conn) for conn in conns]
    first = await qs[0]()
    assert (first[0]["r"] if driver == "psqlpy" else first[0][0]) == 2, first

    async def task(q, k):
        for _ in range(k):
            await q()
    await asyncio.gather(*(task(q, 500) for q in qs))          # warm-up
    per = n // c
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.gather(*(task(q, per) for q in qs))
    t, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    done = per * c
    print(json.dumps({"rate": done / t,
                      "user_us": (r1.ru_utime - r0.ru_utime) / done * 1e6,
                      "sys_us": (r1.ru_stime - r0.ru_stime) / done * 1e6}))

if loop == "uvloop":
    import uvloop
    uvloop.install()
asyncio.run(main())
'''


def run_driver(python, driver, dsn, loop, n, c):
    p = subprocess.run([python, "-c", CHILD, driver, dsn, loop, str(n), str(c)],
                       check=False, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError(f"{driver} on {loop} failed:\n{p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def instructions_per_query(python, driver, dsn, loop, c):
    totals = []
    with tempfile.TemporaryDirectory(prefix="client-cpu-") as tmp:
        for n in (10000, 30000):
            out = os.path.join(tmp, f"callgrind.{n}")
            p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                python, "-c", CHILD, driver, dsn, loop, str(n), str(c)],
                               check=False, capture_output=True, text=True, timeout=1800)
            if p.returncode != 0:
                raise RuntimeError(f"{driver} under callgrind failed:\n{p.stderr[-2000:]}")
            with open(out) as f:
                totals.append(next(int(m.group(1)) for m in
                                   (re.match(r"(?:summary|totals):\s+(\d+)", line) for line in f)
                                   if m))
    return (totals[1] - totals[0]) / 20000


def run_pgbench(dsn, n, c):
    """pgbench -M prepared -j 1 with the same SQL; its CPU from RUSAGE_CHILDREN."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise RuntimeError("pgbench not found (Debian: postgresql-client)")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(SQL + ";\n")
        script = f.name
    try:
        per = n // c
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.run([pgbench, "-n", "-M", "prepared", "-j", "1", "-c", str(c),
                            "-t", str(per), "-f", script, dsn],
                           check=False, capture_output=True, text=True, timeout=600)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        os.unlink(script)
    if p.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{p.stderr[-2000:]}")
    done = per * c
    rate = next(float(line.split("=")[1].split()[0]) for line in p.stdout.splitlines()
                if line.startswith("tps ="))
    return {"rate": rate,
            "user_us": (r1.ru_utime - r0.ru_utime) / done * 1e6,
            "sys_us": (r1.ru_stime - r0.ru_stime) / done * 1e6}


def main():
    ap = arg_parser(__doc__, "interpreter with asyncpg and psycopg")
    ap.add_argument("--loops", default="uvloop,asyncio")
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--queries", type=int, default=300000)
    ap.add_argument("--callgrind", action="store_true",
                    help="also count user-space instructions per query (uvloop; slow)")
    args = ap.parse_args()

    with server(args.dsn) as dsn:
        rows = [("pgbench (C)", "-", run_pgbench(dsn, args.queries, args.concurrency))]
        for loop in args.loops.split(","):
            rows.append(("psqlpy", loop, run_driver(args.ours, "psqlpy", dsn, loop,
                                                    args.queries, args.concurrency)))
            if args.peers:
                for driver in ("asyncpg", "psycopg"):
                    rows.append((driver, loop, run_driver(args.peers, driver, dsn, loop,
                                                          args.queries, args.concurrency)))
        print(f"SELECT 1+1, {args.concurrency} held connections, {args.queries:,} queries; "
              "client CPU per query in microseconds")
        print(f"{'client':<12} {'loop':<8} {'queries/s':>10} {'user':>6} {'kernel':>7} {'total':>6}")
        for name, loop, r in rows:
            print(f"{name:<12} {loop:<8} {r['rate']:>10,.0f} {r['user_us']:>6.2f} "
                  f"{r['sys_us']:>7.2f} {r['user_us'] + r['sys_us']:>6.2f}")
        if args.callgrind:
            loop = args.loops.split(",")[0]
            print(f"\nuser-space instructions per query (callgrind, {loop})")
            cases = [("psqlpy", args.ours)]
            if args.peers:
                cases += [("asyncpg", args.peers), ("psycopg", args.peers)]
            for driver, python in cases:
                n = instructions_per_query(python, driver, dsn, loop, args.concurrency)
                print(f"{driver:<12} {n:>10,.0f}", flush=True)


if __name__ == "__main__":
    main()
