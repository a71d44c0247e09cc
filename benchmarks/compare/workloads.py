"""The comparison's workloads: one definition read by the workers, the
coordinator (server setup) and the pgbench runner, so every client runs the
same SQL with the same parameters.

Stdlib only: this module is imported by workers running under three
different virtual environments.

The first six follow the MagicStack pgbench set (the suite asyncpg's published
numbers come from); ``big_result``, ``copy`` and ``latency`` are this project's.

Views: how a task reaches the server.
  pool  every operation borrows a connection from the driver's pool and
        gives it back (``pool.fetch``-style); what each driver's pool does
        on borrow and release (asyncpg runs a reset query on every release:
        one more round trip) is part of the figure.
  held  each task borrows one connection before the clock starts and runs
        every operation on it: the per-query overhead of the driver itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Tables the setup creates; every name starts with _bench_ so a run against a
# user-supplied server (PSQLPY_BENCH_DSN) touches nothing else.
SETUP_SQL = """
DROP TABLE IF EXISTS _bench_bytes, _bench_arrays, _bench_batch, _bench_copy;
CREATE TABLE _bench_copy (id int4, label text, val float8);
CREATE TABLE _bench_bytes (b bytea);
INSERT INTO _bench_bytes (b)
    SELECT repeat('a', 1000)::bytea FROM generate_series(1, 100);
CREATE TABLE _bench_arrays (a int4[]);
INSERT INTO _bench_arrays (a)
    SELECT (SELECT array_agg(i) FROM generate_series(1, 100) AS s(i))
    FROM generate_series(1, 100);
CREATE TABLE _bench_batch (a int4, b int4, c int4, d text, e float8, f int4, g text);
VACUUM ANALYZE _bench_bytes, _bench_arrays, _bench_batch;
"""

TEARDOWN_SQL = "DROP TABLE IF EXISTS _bench_bytes, _bench_arrays, _bench_batch, _bench_copy;"

# One row of the batch insert (MagicStack's 6-batch values).
BATCH_ROW = (10, 11, 10, "TESTTESTTEST", 10.333, 12341234, "123412341234")
BATCH_SIZE = 1000

# The COPY workload: COPY_ROWS rows of (id, label, val), made by a generator
# as the driver consumes them, so a driver that streams keeps flat memory.
COPY_TABLE = "_bench_copy"
COPY_COLUMNS = ("id", "label", "val")
COPY_ROWS = 1_000_000


def copy_records(n=COPY_ROWS):
    return ((i, f"row-{i}", i * 0.5) for i in range(1, n + 1))

VIEWS = ("pool", "held")


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    sql: str                      # $n placeholders; adapters translate
    params: tuple = ()
    kind: str = "select"          # "select" | "batch" | "copy"
    pooled: bool = True           # False: one connection, no pool
    fixed_concurrency: int = 0    # 0: use the run's --concurrency
    pool_size: int = 0            # connections in the pool; 0: one per task
    pgbench_clients: int = 0      # pgbench -c; 0: the workload's concurrency
    expect_rows: int = -1         # rows per op, -1: checked by min_rows
    min_rows: int = 0
    min_ops: int = 1              # keep going past the deadline until this many
    measure_rss: bool = False     # peak RSS is the headline figure
    views: tuple = VIEWS          # the views it runs in (see the module doc)
    # (driver, loop) -> why that driver cannot run it there: reported as
    # "not run" with the reason in every output, never left out silently.
    not_runnable: dict = field(default_factory=dict, repr=False)
    # A piece of the statement's text as pg_stat_statements shows it
    # (constants become $n): how the server's own count of executions is found.
    server_marker: str = ""
    pgbench_script: str = field(default="", repr=False)


def _batch_pgbench_script() -> str:
    # One pgbench "transaction" is one batch: BEGIN, 1,000 pipelined INSERTs,
    # COMMIT; the same work the drivers' executemany does in a transaction.
    ins = ("INSERT INTO _bench_batch (a, b, c, d, e, f, g) "
           "VALUES (:a, :b, :c, 'TESTTESTTEST', 10.333, :f, '123412341234');")
    lines = ["\\set a 10", "\\set b 11", "\\set c 10", "\\set f 12341234",
             "\\startpipeline", "BEGIN;"]
    lines += [ins] * BATCH_SIZE
    lines += ["COMMIT;", "\\endpipeline"]
    return "\n".join(lines) + "\n"


PG_TYPE_SQL = (
    "SELECT typname, typnamespace, typowner, typlen, typbyval, typcategory, "
    "typispreferred, typisdefined, typdelim, typrelid, typelem, typarray "
    "FROM pg_type WHERE typtypmod = $1 AND typisdefined = $2"
)

WORKLOADS = [
    Workload(
        name="oneplusone", title="SELECT 1+1",
        sql="SELECT 1 + 1 AS r", expect_rows=1, server_marker=" AS r",
        pgbench_script="SELECT 1 + 1 AS r;\n"),
    Workload(
        name="pg_type", title="pg_type, ~600 rows x 12 columns",
        sql=PG_TYPE_SQL, params=(-1, True), min_rows=300,
        server_marker="FROM pg_type WHERE typtypmod",
        pgbench_script="\\set m -1\n\\set d 1\n"
        + PG_TYPE_SQL.replace("$1", ":m").replace("$2", ":d") + ";\n"),
    Workload(
        name="generate_series", title="1,000 ints from generate_series",
        sql="SELECT i FROM generate_series(1, $1) AS i", params=(1000,),
        expect_rows=1000, server_marker="SELECT i FROM generate_series",
        pgbench_script="\\set n 1000\nSELECT i FROM generate_series(1, :n) AS i;\n"),
    Workload(
        name="bytea", title="100 rows of 1,000-byte bytea",
        sql="SELECT b FROM _bench_bytes", expect_rows=100,
        server_marker="SELECT b FROM _bench_bytes",
        pgbench_script="SELECT b FROM _bench_bytes;\n"),
    Workload(
        name="int_array", title="100 rows of int4[100]",
        sql="SELECT a FROM _bench_arrays", expect_rows=100,
        server_marker="SELECT a FROM _bench_arrays",
        pgbench_script="SELECT a FROM _bench_arrays;\n"),
    Workload(
        name="batch_insert", title="1,000-row batch insert (executemany)",
        sql="INSERT INTO _bench_batch (a, b, c, d, e, f, g) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        kind="batch", expect_rows=BATCH_SIZE,
        pgbench_script=_batch_pgbench_script()),
    Workload(
        name="big_result", title="one 200,000-row result (int, text, float8)",
        sql="SELECT i AS id, 'row-' || i AS label, i * 0.5::float8 AS val "
            "FROM generate_series(1, $1) AS i",
        params=(200000,), fixed_concurrency=1, expect_rows=200000,
        min_ops=2, measure_rss=True, server_marker=" AS label", views=("held",),
        pgbench_script="\\set n 200000\nSELECT i AS id, 'row-' || i AS label, "
        "i * 0.5::float8 AS val FROM generate_series(1, :n) AS i;\n"),
    Workload(
        name="latency", title="single connection, sequential SELECT 1+1",
        sql="SELECT 1 + 1 AS r", pooled=False, fixed_concurrency=1,
        expect_rows=1, server_marker=" AS r", views=("held",),
        pgbench_script="SELECT 1 + 1 AS r;\n"),
    Workload(
        name="shared_pool", title="100 tasks sharing a pool of 2, SELECT 1+1",
        sql="SELECT 1 + 1 AS r", fixed_concurrency=100, pool_size=2, expect_rows=1,
        server_marker=" AS r", views=("pool",), pgbench_clients=10,
        pgbench_script="SELECT 1 + 1 AS r;\n"),
    Workload(
        name="copy", title="COPY of 1,000,000 rows (int, text, float8), records to table",
        sql="COPY _bench_copy (id, label, val) FROM STDIN (FORMAT binary)",
        kind="copy", pooled=False, fixed_concurrency=1, expect_rows=COPY_ROWS,
        min_ops=1, measure_rss=True, views=("held",),
        not_runnable={("psqlpy-rust", "asyncio"):
                      "psqlpy 0.13.1's copy_records_to_table does not finish on the default "
                      "asyncio loop from about 30,000 rows on (10,000 finish, then the "
                      "interpreter aborts at exit in PyGILState_Release); it does on uvloop"}),
]

BY_NAME = {w.name: w for w in WORKLOADS}


def concurrency_for(w: Workload, concurrency: int) -> int:
    return w.fixed_concurrency or concurrency


def pool_size_for(w: Workload, concurrency: int) -> int:
    """Connections in the driver's pool: one per task unless the workload
    says fewer (tasks then wait for a connection, as in a web app whose
    pool is smaller than its concurrency)."""
    return w.pool_size or concurrency_for(w, concurrency)


def pgbench_clients_for(w: Workload, concurrency: int) -> int:
    return w.pgbench_clients or concurrency_for(w, concurrency)


def check_first_result(w: Workload, rows: list) -> str | None:
    """Check a workload's first result, already normalised to a list of
    tuples. Returns None when it is right, else what is wrong. Expected
    values come from the SQL itself, not from any driver's output."""
    if w.kind == "batch":
        return None
    n = len(rows)
    if w.expect_rows >= 0 and n != w.expect_rows:
        return f"expected {w.expect_rows} rows, got {n}"
    if n < w.min_rows:
        return f"expected at least {w.min_rows} rows, got {n}"
    first, last = rows[0], rows[-1]
    if w.name in ("oneplusone", "latency"):
        ok = first == (2,)
    elif w.name == "pg_type":
        ok = all(len(r) == 12 for r in rows) and any(r[0] == "int4" for r in rows)
    elif w.name == "generate_series":
        ok = [r[0] for r in rows] == list(range(1, 1001))
    elif w.name == "bytea":
        ok = all(bytes(r[0]) == b"a" * 1000 for r in rows)
    elif w.name == "int_array":
        ok = all(list(r[0]) == list(range(1, 101)) for r in rows)
    elif w.name == "big_result":
        ok = (tuple(first) == (1, "row-1", 0.5)
              and tuple(last) == (200000, "row-200000", 100000.0))
    else:
        ok = True
    return None if ok else f"wrong values, first row {first!r}"
