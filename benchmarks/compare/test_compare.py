"""Unit tests of the comparison's arithmetic and parsing (no server needed).

    python -m unittest -v test_compare        (from benchmarks/compare/)

run_compare.sh --short runs them before the benchmark. Expected values are
worked out by hand from the inputs written here.
"""

from __future__ import annotations

import os
import struct
import tempfile
import unittest

import report
import run
import stats
import workloads


class Percentile(unittest.TestCase):
    def test_nearest_rank(self):
        values = list(range(1, 101))  # 1..100
        self.assertEqual(stats.percentile(values, 50), 50)
        self.assertEqual(stats.percentile(values, 99), 99)
        self.assertEqual(stats.percentile(values, 100), 100)
        self.assertEqual(stats.percentile(values, 0), 1)

    def test_small_lists(self):
        self.assertIsNone(stats.percentile([], 50))
        self.assertEqual(stats.percentile([7.5], 99), 7.5)
        # 4 values: p50 -> rank ceil(2) = 2nd, p99 -> rank ceil(3.96) = 4th
        self.assertEqual(stats.percentile([1, 2, 3, 4], 50), 2)
        self.assertEqual(stats.percentile([1, 2, 3, 4], 99), 4)


PGBENCH_STDOUT = """\
pgbench (15.20 (Debian 15.20-0+deb12u1))
transaction type: script.sql
scaling factor: 1
query mode: prepared
number of clients: 2
number of threads: 1
maximum number of tries: 1
duration: 1 s
number of transactions actually processed: 4
number of failed transactions: 0 (0.000%)
latency average = 0.250 ms
initial connection time = 3.311 ms
tps = 8000.123456 (without initial connection time)
"""


class PgbenchParsing(unittest.TestCase):
    LOG = ["0 0 100 0 1764046000 100", "0 1 300 0 1764046000 400",
           "1 0 200 0 1764046000 200", "1 1 400 0 1764046000 600 0 0"]

    def test_ok(self):
        r = run.parse_pgbench(0, PGBENCH_STDOUT, "", self.LOG)
        self.assertEqual(r["status"], "ok")
        self.assertEqual(r["qps"], 8000.123456)
        self.assertEqual(r["ops"], 4)
        self.assertAlmostEqual(r["p50_ms"], 0.2)   # 100 200 [300] 400 us: rank 2 = 200
        self.assertAlmostEqual(r["p99_ms"], 0.4)
        self.assertAlmostEqual(r["mean_ms"], 0.25)

    def test_failed_transactions_are_an_error(self):
        out = PGBENCH_STDOUT.replace("failed transactions: 0 (0.000%)",
                                     "failed transactions: 3 (42.000%)")
        r = run.parse_pgbench(0, out, "", self.LOG)
        self.assertEqual(r["status"], "error")
        self.assertIn("3 failed transactions", r["reason"])

    def test_exit_status_and_missing_tps(self):
        r = run.parse_pgbench(1, "", "pgbench: error: connection refused\n", [])
        self.assertEqual((r["status"], r["reason"]), ("error", "pgbench: error: connection refused"))
        r = run.parse_pgbench(0, "no summary", "", [])
        self.assertEqual(r["status"], "error")


class ServerCalls(unittest.TestCase):
    def test_fewer_executions_than_reported_queries_fail(self):
        r = {"status": "ok", "total_ops": 99}
        run.check_server_calls(r, 100)         # 99 timed + the checked first query
        self.assertEqual((r["status"], r["server_calls"]), ("ok", 100))
        r = {"status": "ok", "total_ops": 99}
        run.check_server_calls(r, 60)
        self.assertEqual(r["status"], "error")
        self.assertIn("executed the statement 60 times", r["reason"])


def _run(driver, loop, qps, rnd, workload="oneplusone", **kw):
    d = {"driver": driver, "workload": workload, "loop": loop, "status": "ok",
         "concurrency": 10, "qps": qps, "rows_per_s": qps, "p50_ms": 1.0 / rnd,
         "p99_ms": 2.0 * rnd, "mean_ms": 1.0, "peak_rss_mb": 10.0 * rnd,
         "baseline_rss_mb": 9.0, "round": rnd}
    d.update(kw)
    return d


class Aggregation(unittest.TestCase):
    def setUp(self):
        raw = [_run("asyncpg", "uvloop", 100, 1), _run("asyncpg", "uvloop", 300, 2),
               _run("asyncpg", "uvloop", 250, 3),
               _run("psqlpy", "uvloop", 300, 1), _run("psqlpy", "uvloop", 500, 2),
               _run("psqlpy", "uvloop", 700, 3),
               _run("psycopg", "uvloop", 50, 1),
               {"driver": "psycopg", "workload": "oneplusone", "loop": "uvloop",
                "status": "error", "phase": "run", "reason": "boom", "round": 2}]
        pgb = [{"workload": "oneplusone", "status": "ok", "qps": 1000.0, "concurrency": 10,
                "threads": 1, "p50_ms": 0.1, "p99_ms": 0.2, "peak_rss_mb": 5.0}]
        self.results, self.pgb = report.aggregate(raw, pgb)
        self.by = {r["driver"]: r for r in self.results}

    def test_medians_and_ratios(self):
        a, p = self.by["asyncpg"], self.by["psqlpy"]
        self.assertEqual(a["qps"], 250)                 # median of 100, 300, 250
        self.assertEqual((a["qps_min"], a["qps_max"]), (100, 300))
        self.assertEqual(p["qps"], 500)
        self.assertAlmostEqual(p["ratio_to_asyncpg"], 2.0)
        self.assertAlmostEqual(p["ratio_to_pgbench"], 0.5)
        self.assertAlmostEqual(a["ratio_to_asyncpg"], 1.0)
        self.assertEqual(p["peak_rss_mb"], 30.0)        # max over rounds
        self.assertAlmostEqual(p["p99_ms"], 4.0)        # median of 2, 4, 6
        self.assertEqual(self.pgb[0]["qps"], 1000.0)

    def test_an_error_round_marks_the_driver(self):
        r = self.by["psycopg"]
        self.assertEqual(r["status"], "error")
        self.assertEqual(r["reason"], "run: boom")
        self.assertEqual(r["qps"], 50)                  # the good round is still shown

    def test_no_asyncpg_means_no_ratio(self):
        results, _ = report.aggregate([_run("psqlpy", "asyncio", 10, 1)], [])
        self.assertIsNone(results[0]["ratio_to_asyncpg"])
        self.assertIsNone(results[0]["ratio_to_pgbench"])


class Outputs(unittest.TestCase):
    def test_markdown_json_and_charts(self):
        raw = [_run("asyncpg", lp, 200, 1, w.name) for w in workloads.WORKLOADS
               for lp in ("uvloop", "asyncio")]
        raw += [_run("psqlpy", lp, 400, 1, w.name) for w in workloads.WORKLOADS
                for lp in ("uvloop", "asyncio")]
        pgb = [{"workload": w.name, "status": "ok", "qps": 800.0, "concurrency": 10,
                "threads": 1} for w in workloads.WORKLOADS]
        results, pgb = report.aggregate(raw, pgb)
        meta = {"date": "2026-01-01 00:00 UTC", "mode": "short", "machine": "test box",
                "python": "3.11", "server_version": "15", "concurrency": 10, "warmup": 0.1,
                "duration": 1, "rounds": 1, "loops": ["uvloop", "asyncio"],
                "workloads": [w.name for w in workloads.WORKLOADS]}
        drivers = {"asyncpg": {"label": "", "status": "ok", "version": "0.32.0"},
                   "psqlpy": {"label": "C", "status": "unavailable", "reason": "no module"}}
        with tempfile.TemporaryDirectory() as tmp:
            report.write_json(os.path.join(tmp, "r.json"), meta, drivers, results, pgb, ["p1"])
            report.write_markdown(os.path.join(tmp, "r.md"), meta, drivers, results, pgb, ["p1"])
            with open(os.path.join(tmp, "r.md")) as f:
                md = f.read()
            self.assertIn("| SELECT 1+1 (c=10) | 800 | 400 (2.00×, 50%) | 200 (1.00×, 25%) |", md)
            self.assertIn("**unavailable**: no module", md)
            self.assertIn("- p1", md)
            files = report.write_charts(os.path.join(tmp, "charts"), meta, drivers, results, pgb)
            self.assertEqual(len(files), 4)
            for path in files:
                with open(path, "rb") as f:
                    head = f.read(24)
                self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
                w, h = struct.unpack(">II", head[16:24])
                self.assertGreater(w, 400)
                self.assertGreater(h, 200)


class Views(unittest.TestCase):
    """The pool-per-query and the connection-held-per-task views are
    aggregated and compared separately."""

    def setUp(self):
        raw = [_run("asyncpg", "uvloop", 100, 1, view="pool"),
               _run("asyncpg", "uvloop", 400, 1, view="held"),
               _run("psqlpy", "uvloop", 300, 1, view="pool"),
               _run("psqlpy", "uvloop", 500, 1, view="held")]
        self.results, _ = report.aggregate(raw, [])
        self.idx = report.index(self.results)

    def test_ratios_within_a_view(self):
        self.assertAlmostEqual(
            self.idx[("oneplusone", "pool", "uvloop", "psqlpy")]["ratio_to_asyncpg"], 3.0)
        self.assertAlmostEqual(
            self.idx[("oneplusone", "held", "uvloop", "psqlpy")]["ratio_to_asyncpg"], 1.25)

    def test_markdown_has_a_table_per_view(self):
        meta = {"date": "d", "mode": "full", "machine": "m", "python": "3.11",
                "server_version": "15", "concurrency": 10, "warmup": 0.1, "duration": 1,
                "rounds": 1, "loops": ["uvloop"], "views": ["pool", "held"],
                "workloads": ["oneplusone"]}
        drivers = {d: {"label": "", "status": "ok"} for d in ("psqlpy", "asyncpg")}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "r.md")
            report.write_markdown(path, meta, drivers, self.results, [], [])
            with open(path) as f:
                md = f.read()
        pool = md.index("## Pool per query (pool), uvloop")
        held = md.index("## A connection held per task (held), uvloop")
        row = "| SELECT 1+1 (c=10) | – | {} | {} |"
        self.assertIn(row.format("300 (3.00×, –)", "100 (1.00×, –)"), md[pool:held])
        self.assertIn(row.format("500 (1.25×, –)", "400 (1.00×, –)"), md[held:])

    def test_ratio_spread_over_rounds(self):
        raw = [_run("asyncpg", "uvloop", q, n, view="held") for n, q in ((1, 100), (2, 200), (3, 150))]
        raw += [_run("psqlpy", "uvloop", q, n, view="held") for n, q in ((1, 300), (2, 240), (3, 400))]
        results, _ = report.aggregate(raw, [])
        p = report.index(results)[("oneplusone", "held", "uvloop", "psqlpy")]
        self.assertAlmostEqual(p["ratio_to_asyncpg"], 2.0)       # 300 / 150
        self.assertAlmostEqual(p["ratio_to_asyncpg_min"], 1.2)   # 240 / 200
        self.assertAlmostEqual(p["ratio_to_asyncpg_max"], 4.0)   # 400 / 100
        self.assertEqual(report._spread(p), " 1.20–4.00")

    def _args(self, *argv):
        return run.parse_args(list(argv))

    def test_plan_interleaves_drivers_within_each_round(self):
        a = self._args("--rounds", "2", "--drivers", "psqlpy,asyncpg", "--loops", "uvloop",
                       "--workloads", "oneplusone,copy")
        units = [(w.name, rnd, view, loop, d) for w, rnd, view, loop, d in run.plan_units(
            [workloads.BY_NAME[n] for n in a.workloads], a)]
        self.assertEqual(units, [
            ("oneplusone", 0, None, None, "pgbench"),
            ("oneplusone", 0, "pool", "uvloop", "psqlpy"),
            ("oneplusone", 0, "pool", "uvloop", "asyncpg"),
            ("oneplusone", 0, "held", "uvloop", "psqlpy"),
            ("oneplusone", 0, "held", "uvloop", "asyncpg"),
            ("oneplusone", 1, None, None, "pgbench"),
            ("oneplusone", 1, "pool", "uvloop", "psqlpy"),
            ("oneplusone", 1, "pool", "uvloop", "asyncpg"),
            ("oneplusone", 1, "held", "uvloop", "psqlpy"),
            ("oneplusone", 1, "held", "uvloop", "asyncpg"),
            ("copy", 0, "held", "uvloop", "psqlpy"),        # no pgbench, held only
            ("copy", 0, "held", "uvloop", "asyncpg"),
            ("copy", 1, "held", "uvloop", "psqlpy"),
            ("copy", 1, "held", "uvloop", "asyncpg"),
        ])

    def test_short_plan_runs_the_pool_view_on_uvloop_only(self):
        a = self._args("--short", "--drivers", "psqlpy", "--workloads", "pg_type",
                       "--no-pgbench")
        units = [(view, loop) for _, _, view, loop, _ in run.plan_units(
            [workloads.BY_NAME["pg_type"]], a)]
        self.assertEqual(units, [("pool", "uvloop"), ("held", "uvloop"), ("held", "asyncio")])


class NotRunnable(unittest.TestCase):
    def test_listed_with_its_reason_not_dropped(self):
        w = workloads.BY_NAME["copy"]
        self.assertIn(("psqlpy-rust", "asyncio"), w.not_runnable)
        results, _ = report.aggregate([_run("asyncpg", "asyncio", 2, 1, "copy", view="held")], [])
        meta = {"date": "d", "mode": "full", "machine": "m", "python": "3.11",
                "server_version": "15", "concurrency": 10, "warmup": 0.1, "duration": 1,
                "rounds": 1, "loops": ["asyncio"], "views": ["held"], "workloads": ["copy"]}
        drivers = {d: {"label": "", "status": "ok"} for d in ("asyncpg", "psqlpy-rust")}
        nr = [{"driver": "psqlpy-rust", "workload": "copy", "loop": "asyncio", "view": "held",
               "reason": "hangs"}]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "r.md")
            report.write_markdown(path, meta, drivers, results, [], [], nr)
            with open(path) as f:
                md = f.read()
        self.assertIn("- psqlpy-rust, copy on asyncio: hangs", md)
        self.assertIn("| 2.00 (1.00×, –) | not run |", md)


class CopyRecords(unittest.TestCase):
    def test_generator_of_the_rows(self):
        recs = workloads.copy_records(3)
        self.assertEqual(list(recs), [(1, "row-1", 0.5), (2, "row-2", 1.0), (3, "row-3", 1.5)])
        self.assertEqual(list(recs), [])        # a generator: made as it is consumed
        self.assertEqual(len(workloads.COPY_COLUMNS), len(next(workloads.copy_records())))


class FirstResultChecks(unittest.TestCase):
    def test_values_from_the_sql(self):
        gs = workloads.BY_NAME["generate_series"]
        self.assertIsNone(workloads.check_first_result(gs, [(i,) for i in range(1, 1001)]))
        self.assertIn("expected 1000 rows",
                      workloads.check_first_result(gs, [(i,) for i in range(1, 1000)]))
        self.assertIn("wrong values", workloads.check_first_result(
            gs, [(i,) for i in range(0, 1000)]))
        one = workloads.BY_NAME["oneplusone"]
        self.assertIsNone(workloads.check_first_result(one, [(2,)]))
        self.assertIsNotNone(workloads.check_first_result(one, [("2",)]))
        big = workloads.BY_NAME["big_result"]
        rows = [(i, f"row-{i}", i * 0.5) for i in range(1, 200001)]
        self.assertIsNone(workloads.check_first_result(big, rows))
        rows[-1] = (200000, "row-200000", 1.0)
        self.assertIsNotNone(workloads.check_first_result(big, rows))

    def test_pgbench_scripts_match_the_driver_sql(self):
        # Same SQL text after substituting pgbench's variables for $n.
        for w in workloads.WORKLOADS:
            if w.kind == "copy":
                self.assertEqual(w.pgbench_script, "")   # pgbench has no COPY FROM STDIN
                continue
            if w.kind == "batch":
                self.assertEqual(w.pgbench_script.count("INSERT INTO _bench_batch"),
                                 workloads.BATCH_SIZE)
                continue
            last = [ln for ln in w.pgbench_script.splitlines() if not ln.startswith("\\")]
            self.assertEqual(len(last), 1, w.name)
            sql = last[0].rstrip(";")
            for n, var in enumerate((":m", ":d") if w.name == "pg_type" else (":n",), 1):
                sql = sql.replace(var, f"${n}")
            self.assertEqual(sql, w.sql, w.name)


if __name__ == "__main__":
    unittest.main()
