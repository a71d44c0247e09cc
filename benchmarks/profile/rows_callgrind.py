#!/usr/bin/env python3
"""Instructions per row, counted by callgrind, for the row-heavy workloads.

Each (driver, shape, workload) runs twice under valgrind --tool=callgrind,
with LOW and HIGH queries on one connection (benchmarks/profile/rows_worker.py);
the difference of the two totals divided by the extra rows is what one row
costs from the query to its Python object, with interpreter start-up and
connection set-up cancelled out. Callgrind counts are stable on a busy
machine, unlike wall-clock times, so they are what row-engine changes are
judged by.

    python3 benchmarks/profile/rows_callgrind.py                  # ours only
    python3 benchmarks/profile/rows_callgrind.py --peers PYTHON    # + asyncpg, psycopg
    python3 benchmarks/profile/rows_callgrind.py --keep DIR        # keep callgrind.out.*

Our driver runs under the repository's .venv/bin/python; --peers names an
interpreter with asyncpg and psycopg (run_compare.sh makes one under
~/.cache/psqlpy-bench/peers-*). Starts a throwaway server with
tests/py/pgcluster.py unless --dsn is given. With --keep, the HIGH run's
profile stays in DIR for callgrind_annotate.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "py"))

CASES = [  # (driver, shape)
    ("psqlpy", "dict"),
    ("psqlpy", "tuple"),
    ("psqlpy", "record"),
    ("psqlpy", "iter"),
    ("asyncpg", "record"),
    ("psycopg", "tuple"),
]


def instructions(python, driver, shape, workload, n, dsn, outfile):
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={outfile}",
           python, os.path.join(HERE, "rows_worker.py"), driver, shape, workload, str(n), dsn]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[4:])} failed:\n{p.stderr[-2000:]}")
    rows = int(p.stdout.split()[-1])
    with open(outfile) as f:
        for line in f:
            m = re.match(r"(?:summary|totals):\s+(\d+)", line)
            if m:
                return int(m.group(1)), rows
    raise RuntimeError(f"no totals in {outfile}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default="pg_type,generate_series")
    ap.add_argument("--low", type=int, default=5)
    ap.add_argument("--high", type=int, default=55)
    ap.add_argument("--ours", default=os.path.join(ROOT, ".venv", "bin", "python"))
    ap.add_argument("--peers", help="interpreter with asyncpg and psycopg")
    ap.add_argument("--only", help="comma-separated driver:shape cases, e.g. psqlpy:dict")
    ap.add_argument("--dsn")
    ap.add_argument("--keep", help="directory for the HIGH runs' callgrind.out files")
    args = ap.parse_args()

    cases = CASES
    if args.only:
        want = set(args.only.split(","))
        cases = [c for c in CASES if f"{c[0]}:{c[1]}" in want]
    if not args.peers:
        cases = [c for c in cases if c[0] == "psqlpy"]

    cluster = None
    dsn = args.dsn
    if dsn is None:
        from pgcluster import PgCluster
        cluster = PgCluster()
        cluster.start()
        dsn = cluster.dsn
    tmp = tempfile.mkdtemp(prefix="rows-callgrind-")
    keep = args.keep
    if keep:
        os.makedirs(keep, exist_ok=True)
    try:
        print(f"{'workload':<16} {'driver':<8} {'shape':<7} {'rows':>6} {'instr/row':>10}")
        for workload in args.workloads.split(","):
            for driver, shape in cases:
                python = args.ours if driver == "psqlpy" else args.peers
                lo, _ = instructions(python, driver, shape, workload, args.low, dsn,
                                     os.path.join(tmp, "lo.out"))
                hi_out = os.path.join(keep or tmp, f"callgrind.out.{workload}.{driver}.{shape}")
                hi, rows = instructions(python, driver, shape, workload, args.high, dsn, hi_out)
                per_row = (hi - lo) / ((args.high - args.low) * rows)
                print(f"{workload:<16} {driver:<8} {shape:<7} {rows:>6} {per_row:>10.0f}",
                      flush=True)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
