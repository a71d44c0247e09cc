#!/usr/bin/env python3
"""Time execute_many: psqlpy's Connection.execute_many against asyncpg's
Connection.executemany, same server, same rows, same INSERT.

Not a test: it prints a table and asserts nothing.  Both drivers run in one
process, so run it with a Python that can import both, e.g.

    python3 -m venv /tmp/em-venv && /tmp/em-venv/bin/pip install asyncpg
    PYTHONPATH=<dir holding the psqlpy package> /tmp/em-venv/bin/python \\
        tests/py/tools/execute_many_timing.py --dsn postgresql://...

Each measurement inserts N rows (int, text, float8) into a temporary
table in one call, outside any explicit transaction (both drivers make
the batch atomic themselves); the table is truncated between runs.  The
drivers take turns within each repetition so slow drift on a shared
machine hits both alike.  A warm-up call per driver and size is not timed.

For scale, the same connections also time a single round trip (a
prepared ``SELECT 1``, also taking turns), so the batch times can be read
as a multiple of one round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

TABLE = "execute_many_timing"
INSERT = f"INSERT INTO {TABLE} (id, v, x) VALUES ($1, $2, $3)"
PING = "SELECT 1"


def make_rows(n: int) -> list[list]:
    return [[i, f"row number {i}", i / 7.0] for i in range(n)]


class PsqlpyRunner:
    name = "psqlpy execute_many"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def open(self) -> None:
        import psqlpy
        self.pool = psqlpy.PSQLPool(dsn=self.dsn, max_db_pool_size=1)
        await self.pool.startup()
        self.conn = await self.pool.connection()
        await self.conn.execute(
            f"CREATE TEMP TABLE {TABLE} (id int, v text, x float8)")

    async def run(self, rows: list[list]) -> float:
        await self.conn.execute(f"TRUNCATE {TABLE}")
        t0 = time.perf_counter()
        await self.conn.execute_many(INSERT, rows)
        elapsed = time.perf_counter() - t0
        n = (await self.conn.fetch_row(f"SELECT count(*)::int AS n FROM {TABLE}")).result()["n"]
        if n != len(rows):
            raise RuntimeError(f"{self.name}: {n} rows inserted, expected {len(rows)}")
        return elapsed

    async def roundtrip(self) -> float:
        t0 = time.perf_counter()
        await self.conn.execute(PING)
        return time.perf_counter() - t0

    async def close(self) -> None:
        self.conn.close()
        await self.pool.close()


class AsyncpgRunner:
    name = "asyncpg executemany"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def open(self) -> None:
        import asyncpg
        self.conn = await asyncpg.connect(self.dsn)
        await self.conn.execute(f"CREATE TEMP TABLE {TABLE} (id int, v text, x float8)")

    async def run(self, rows: list[list]) -> float:
        await self.conn.execute(f"TRUNCATE {TABLE}")
        t0 = time.perf_counter()
        await self.conn.executemany(INSERT, rows)
        elapsed = time.perf_counter() - t0
        n = await self.conn.fetchval(f"SELECT count(*)::int FROM {TABLE}")
        if n != len(rows):
            raise RuntimeError(f"{self.name}: {n} rows inserted, expected {len(rows)}")
        return elapsed

    async def roundtrip(self) -> float:
        t0 = time.perf_counter()
        await self.conn.fetchval(PING)
        return time.perf_counter() - t0

    async def close(self) -> None:
        await self.conn.close()


async def measure(dsn: str, sizes: list[int], repeat: int,
                  roundtrips: int) -> tuple[list[tuple], list[tuple]]:
    runners = [PsqlpyRunner(dsn)]
    try:
        import asyncpg  # noqa: F401
        runners.append(AsyncpgRunner(dsn))
    except ImportError:
        print("asyncpg is not importable: timing psqlpy only", file=sys.stderr)
    for r in runners:
        await r.open()
    try:
        table = []
        for n in sizes:
            rows = make_rows(n)
            times: dict[str, list[float]] = {r.name: [] for r in runners}
            for r in runners:
                await r.run(rows)                     # warm-up: statement prepared, caches filled
            for _ in range(repeat):
                for r in runners:
                    times[r.name].append(await r.run(rows))
            for r in runners:
                t = times[r.name]
                med = statistics.median(t)
                table.append((r.name, n, min(t), med, max(t), n / med))
        pings: dict[str, list[float]] = {r.name: [] for r in runners}
        for r in runners:
            await r.roundtrip()                       # warm-up: SELECT 1 prepared
        for _ in range(roundtrips):
            for r in runners:
                pings[r.name].append(await r.roundtrip())
        rtt = [(r.name, statistics.median(pings[r.name])) for r in runners if pings[r.name]]
        return table, rtt
    finally:
        for r in runners:
            await r.close()


def print_table(rows: list[tuple], rtt: list[tuple], repeat: int, roundtrips: int) -> None:
    head = ("driver", "rows", "min ms", "median ms", "max ms", "rows/s (median)")
    body = [(name, f"{n:,}", f"{lo * 1e3:.2f}", f"{med * 1e3:.2f}", f"{hi * 1e3:.2f}",
             f"{rate:,.0f}") for name, n, lo, med, hi, rate in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(head, *body)]
    line = "  ".join
    print(f"execute_many timing, {repeat} runs each after one warm-up")
    print(line(h.ljust(w) for h, w in zip(head, widths)))
    print(line("-" * w for w in widths))
    for r in body:
        print(line([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]))
    if rtt:
        print(f"single round trip ({PING!r}, median of {roundtrips}):")
        for name, med in rtt:
            multiples = ", ".join(f"{n:,} rows = {m / med:,.0f}x"
                                  for d, n, _, m, _, _ in rows if d == name)
            print(f"  {name.split()[0]:<8} {med * 1e3:.3f} ms   ({multiples})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", default=os.environ.get("PSQLPY_TEST_DSN"),
                    help="postgresql:// DSN (default: $PSQLPY_TEST_DSN)")
    ap.add_argument("--rows", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--roundtrips", type=int, default=200,
                    help="single round trips timed per driver (0: none)")
    args = ap.parse_args(argv)
    if not args.dsn:
        ap.error("no server: pass --dsn or set PSQLPY_TEST_DSN")
    if args.repeat < 1 or any(n < 1 for n in args.rows) or args.roundtrips < 0:
        ap.error("--repeat and --rows must be positive, --roundtrips not negative")
    table, rtt = asyncio.run(measure(args.dsn, args.rows, args.repeat, args.roundtrips))
    print_table(table, rtt, args.repeat, args.roundtrips)
    return 0


if __name__ == "__main__":
    sys.exit(main())
