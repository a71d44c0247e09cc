"""The installed package's types, as an application's type checker sees them.

`mypy --strict` checks a small typed program that goes through the pool,
a lent connection, a transaction, a cursor and the results; `assert_type`
pins the precise type of every value, so a stub or annotation that falls
back to Any (or to the extension's base Connection) fails the run.  A second
program with deliberate mistakes must be rejected, so the check cannot pass
by checking nothing.  mypy runs outside the source tree, so it reads the
package from site-packages (py.typed, _psqlpy.pyi), as an application would.
"""

from __future__ import annotations

import os
import re
import sys
import textwrap
from pathlib import Path

import pytest
from mypy import api as mypy_api  # in the test extras: pip install .[test]

GOOD = '''
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, assert_type

from psqlpy import (ConnRecyclingMethod, Connection, Cursor, IsolationLevel, Notice,
                    PendingQuery, PSQLPool, QueryEvent, QueryResult, ReadVariant, Record,
                    SingleQueryResult, Transaction)
from psqlpy.exceptions import RustPSQLDriverPyBaseError
from psqlpy.extra_types import BigInt, PyJSON


@dataclass
class User:
    id: int
    name: str


async def pool_level(pool: PSQLPool) -> None:
    await pool.startup()
    assert_type(await pool.execute("SELECT $1::int8 AS a", [BigInt(1)]), QueryResult)
    assert_type(await pool.execute("SELECT 1"), QueryResult)
    assert_type(await pool.fetch_row("SELECT 1 AS a"), SingleQueryResult)
    assert_type(pool.status(), dict[str, int])
    conn = await pool.connection()
    assert_type(conn, Connection)
    conn.close()
    async with pool as p:
        assert_type(p, PSQLPool)
    await pool.close()


async def session_setup(conn: Connection) -> None:
    await conn.execute("SET TIME ZONE 'UTC'")


def on_notice(n: Notice) -> None:
    print(n.severity, n.sqlstate, n.message, n.detail, n.hint, n.level)


def hook(e: QueryEvent) -> None:
    print(e.sql, e.parameters, e.duration + 1.0, e.rows, e.error)


async def production() -> None:
    pool = PSQLPool(dsn="postgresql://localhost/db", server_settings={"search_path": "x"},
                    init=session_setup, on_notice=on_notice, min_size=1,
                    max_lifetime=60.0, max_idle=10)
    pool.add_query_hook(hook)
    pool.remove_query_hook(hook)
    pool.resize(5)
    await pool.close(timeout=2.5)


async def connection_level(conn: Connection) -> None:
    assert_type(await conn.execute("SELECT $1::int AS a", [1]), QueryResult)
    assert_type(await conn.fetch_row("SELECT 1 AS a"), SingleQueryResult)
    assert_type(await conn.execute_many("INSERT INTO t VALUES ($1)", [[1], [2]]), None)
    assert_type(await conn.pipeline([("SELECT 1", None), ("SELECT $1", [2])]),
                list[QueryResult])
    async with conn as c:
        assert_type(c, Connection)
    await conn.close()


async def transaction_level(pool: PSQLPool) -> list[User]:
    conn = await pool.connection()
    tx = conn.transaction(isolation_level=IsolationLevel.Serializable,
                          read_variant=ReadVariant.ReadWrite, deferrable=False)
    assert_type(tx, Transaction)
    assert_type(conn.transaction(), Transaction)
    async with tx as t:
        assert_type(t, Transaction)
        assert_type(t.connection, Connection)
        pending = t.execute("SELECT $1::int AS id, $2::text AS name", [1, "a"])
        assert_type(pending, PendingQuery[QueryResult])
        res = await pending
        assert_type(res, QueryResult)
        assert_type(res.result(), list[dict[str, Any]])
        users = res.as_class(as_class=User)
        assert_type(users, list[User])
        assert_type(await t.execute_many("INSERT INTO t VALUES ($1)", [[1], [2]]), None)
        row = await t.fetch_row("SELECT 1 AS id, 'a' AS name")
        assert_type(row, SingleQueryResult)
        assert_type(row.result(), dict[str, Any])
        assert_type(row.as_class(as_class=User), User)
        assert_type(res.result(as_tuple=True), list[tuple[Any, ...]])
        assert_type(res.result(as_tuple=False, custom_decoders={"id": bytes.hex}),
                    list[dict[str, Any]])
        assert_type(res.row_factory(lambda r: User(**r)), list[User])
        assert_type(res[0], dict[str, Any])
        assert_type(res[1:], list[dict[str, Any]])
        assert_type(len(res), int)
        for d in res:
            assert_type(d, dict[str, Any])
        recs = res.records()
        assert_type(recs, list[Record])
        assert_type(recs[0][1:], list[Any])
        assert_type(recs[0].keys(), list[str])
        assert_type(recs[0].items(), list[tuple[str, Any]])
        assert_type(row.result(as_tuple=True), tuple[Any, ...])
        assert_type(row.row_factory(dict), dict[str, Any])
        results = await t.pipeline([("SELECT 1", None), ("SELECT $1", [PyJSON({"a": 1})])])
        assert_type(results, list[QueryResult])
        await t.savepoint("sp")
        await t.rollback_to("sp")
        await t.release_savepoint("sp")
    ptx = await pool.transaction(isolation_level=IsolationLevel.ReadCommitted)
    assert_type(ptx, Transaction)
    await ptx.commit()
    tx2 = conn.transaction()
    await tx2.begin()
    await tx2.rollback()
    conn.close()
    return users


async def cursor_level(tx: Transaction) -> int:
    cur = await tx.cursor("SELECT generate_series(1, 10) AS n", None, fetch_number=3,
                          scroll=True)
    assert_type(cur, Cursor)
    assert_type(cur.fetch_number, int)
    assert_type(cur.closed, bool)
    assert_type(await cur.fetch(), QueryResult)
    assert_type(await cur.fetch(fetch_number=2), QueryResult)
    assert_type(await cur.fetch_next(), QueryResult)
    assert_type(await cur.fetch_prior(), QueryResult)
    assert_type(await cur.fetch_first(), QueryResult)
    assert_type(await cur.fetch_last(), QueryResult)
    assert_type(await cur.fetch_absolute(absolute_number=1), QueryResult)
    assert_type(await cur.fetch_relative(relative_number=1), QueryResult)
    assert_type(await cur.fetch_forward_all(), QueryResult)
    assert_type(await cur.fetch_backward(backward_count=1), QueryResult)
    assert_type(await cur.fetch_backward_all(), QueryResult)
    total = 0
    async for chunk in cur:
        assert_type(chunk, QueryResult)
        total += len(chunk)
    async with cur as c:
        assert_type(c, Cursor)
    await cur.close()
    return total


async def gathered(pool: PSQLPool) -> None:
    task = asyncio.create_task(pool.execute("SELECT 1"))
    assert_type(await task, QueryResult)
    a, b = await asyncio.gather(pool.execute("SELECT 1"), pool.fetch_row("SELECT 1"))
    assert_type(a, QueryResult)
    assert_type(b, SingleQueryResult)
    try:
        await asyncio.wait_for(pool.execute("SELECT 1"), 1.0)
    except RustPSQLDriverPyBaseError as e:
        assert_type(e, RustPSQLDriverPyBaseError)


def main(dsn: str) -> None:
    async def run() -> None:
        pool = PSQLPool(dsn=dsn, max_db_pool_size=2,
                        conn_recycling_method=ConnRecyclingMethod.Clean)
        await pool_level(pool)
        await transaction_level(pool)
    asyncio.run(run())
'''

# An application written against the psqlpy 0.13 API (ConnectionPool and
# what it hands out), as current psqlpy users write them.
GOOD_013 = '''
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, assert_type

from psqlpy import (ConnectionPool, ConnectionPoolBuilder, IsolationLevel, LoadBalanceHosts,
                    QueryResult, SingleQueryResult, SslMode, TargetSessionAttrs, connect,
                    connect_pool)
from psqlpy._internal import (Column, Connection, ConnectionPoolStatus, Cursor,
                              PreparedStatement, Transaction)
from psqlpy._internal.exceptions import TransactionClosedError
from psqlpy.exceptions import ConnectionExecuteError, DatabaseError
from psqlpy.row_factories import class_row, tuple_row
from psqlpy.extra_types import (JSONB, Box, Circle, Int32Array, MacAddr6, PgVector, Point,
                                PointArray, TextArray)
from psqlpy._internal.extra_types import Money, MoneyArray


@dataclass
class Item:
    a: int
    b: str


async def use_connection(conn: Connection) -> None:
    assert_type(await conn.execute("SELECT $1::int AS a", [1]), QueryResult)
    assert_type(await conn.fetch("SELECT $(a)p::int AS a", {"a": 1}, prepared=False), QueryResult)
    assert_type(await conn.fetch_row("SELECT 1 AS a"), SingleQueryResult)
    val: Any = await conn.fetch_val("SELECT 1")
    assert_type(await conn.execute_batch("SELECT 1; SELECT 2"), None)
    assert_type(await conn.execute_many("INSERT INTO t VALUES ($1)", [[1], [2]]), None)
    ps = await conn.prepare("SELECT a, b FROM t WHERE a > $1", [0])
    assert_type(ps, PreparedStatement)
    assert_type(ps.columns(), list[Column])
    assert_type(await ps.execute(), QueryResult)
    items = (await ps.execute()).row_factory(class_row(Item))
    assert_type(items, list[Item])
    pairs = (await conn.execute("SELECT 1 AS a")).row_factory(tuple_row)
    assert_type(pairs, list[tuple[tuple[str, Any], ...]])
    cur = conn.cursor("SELECT a FROM t", fetch_number=10)
    assert_type(cur, Cursor)
    async with cur:
        assert_type(await cur.fetchone(), QueryResult)
        assert_type(await cur.fetchmany(size=5), QueryResult)
        async for batch in cur:
            assert_type(batch, QueryResult)
    tx = conn.transaction(isolation_level=IsolationLevel.Serializable)
    assert_type(tx, Transaction)
    async with tx:
        await tx.create_savepoint("s")
        await tx.rollback_savepoint("s")
        await tx.release_savepoint("s")
        assert_type(await tx.pipeline([("SELECT 1", None)]), list[QueryResult])
    try:
        await tx.execute("SELECT 1")
    except TransactionClosedError:
        pass
    params013 = [Int32Array([1, 2]), TextArray(["a"]), PointArray([Point([1, 2])]),
                 Box([[1, 2], [3, 4]]), Circle([1, 2, 3]), JSONB({"a": 1}),
                 MacAddr6("08:00:2b:01:02:03"), PgVector([1.5]), Money(100),
                 MoneyArray([1, 2])]
    await conn.execute("SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10", params013)
    p: Point = Point(1, 2)
    x: float = p.x
    hosts: list[str] = conn.hosts
    ports: list[int] = conn.ports
    db: str | None = conn.conn_dbname
    conn.close()


async def run(dsn: str) -> None:
    with ConnectionPool(dsn=dsn, max_db_pool_size=4, application_name="app",
                        ssl_mode=SslMode.Disable,
                        target_session_attrs=TargetSessionAttrs.ReadWrite,
                        load_balance_hosts=LoadBalanceHosts.Disable) as pool:
        st = pool.status()
        assert_type(st, ConnectionPoolStatus)
        n: int = st.available + st.max_size + st["waiting"]
        pool.resize(8)
        assert_type(await pool.connection(), Connection)
        async with pool.acquire() as conn:
            assert_type(conn, Connection)
            try:
                await use_connection(conn)
            except ConnectionExecuteError as e:
                assert_type(e, ConnectionExecuteError)
            except DatabaseError as e:
                code: str | None = e.sqlstate
    built = ConnectionPoolBuilder().max_pool_size(2).user("u").host("h").port(5432).build()
    assert_type(built, ConnectionPool)
    built.close()
    connect_pool(dsn=dsn).close()
    single = await connect(dsn=dsn)
    assert_type(single, Connection)
    single.close()


def main(dsn: str) -> None:
    asyncio.run(run(dsn))
'''

# Each line marked `# E: <code>` must be reported with that error code, and
# nothing else may be.
BAD = '''
from __future__ import annotations

from psqlpy import PSQLPool, QueryResult, SingleQueryResult


async def wrong(pool: PSQLPool) -> None:
    conn = await pool.connection()
    tx = conn.transaction()
    n: int = await tx.execute("SELECT 1")  # E: assignment
    r: QueryResult = await tx.fetch_row("SELECT 1")  # E: assignment
    s: SingleQueryResult = await tx.pipeline([("SELECT 1", None)])  # E: assignment
    await tx.execute(1)  # E: arg-type
    await tx.execute_many("SELECT $1", [1, 2])  # E: list-item
    tx.transaction()  # E: attr-defined
    await conn.transaction()  # E: misc
    cur = await tx.cursor("SELECT 1")
    m: str = await cur.fetch_next()  # E: assignment
    await cur.fetch_absolute("1")  # E: arg-type
    await cur.fetch(fetchnumber=2)  # E: call-arg
    t: str = await pool.transaction()  # E: assignment
    res = await pool.execute("SELECT 1")
    res.result(None, True)  # E: call-overload
    d: dict[str, int] = res.records()[0]  # E: assignment
    res.row_factory(lambda a, b: a)  # E: arg-type
    PSQLPool(server_settings={"a": 1})  # E: dict-item
    pool.add_query_hook(lambda a, b: None)  # E: arg-type
'''


SOURCE_PACKAGE = Path(__file__).resolve().parents[2] / "pyext" / "psqlpy"


def _run_mypy(tmp_path, name: str, source: str | None = None) -> tuple[str, int]:
    if source is not None:
        (tmp_path / name).write_text(textwrap.dedent(source))
    cwd = os.getcwd()
    os.chdir(tmp_path)  # away from the source tree: read the installed package
    try:
        out, err, status = mypy_api.run([
            "--strict", "--show-error-codes", "--no-error-summary", "--hide-error-context",
            "--python-executable", sys.executable,
            "--cache-dir", str(tmp_path / ".mypy_cache"), name])
    finally:
        os.chdir(cwd)
    return out + err, status


def test_typed_usage_passes_mypy_strict(tmp_path):
    out, status = _run_mypy(tmp_path, "good.py", GOOD)
    assert status == 0, f"mypy --strict rejected correct usage:\n{out}"


def test_013_application_passes_mypy_strict(tmp_path):
    out, status = _run_mypy(tmp_path, "good013.py", GOOD_013)
    assert status == 0, f"mypy --strict rejected a psqlpy 0.13 application:\n{out}"


def test_wrong_usage_is_reported(tmp_path):
    out, status = _run_mypy(tmp_path, "bad.py", BAD)
    assert status == 1, out
    lines = textwrap.dedent(BAD).splitlines()
    expected = {i: m.group(1) for i, line in enumerate(lines, start=1)
                if (m := re.search(r"# E: ([\w-]+)", line))}
    reported: dict[int, set[str]] = {}
    for m in re.finditer(r"^bad\.py:(\d+): error: .*\[([\w-]+)\]$", out, re.M):
        reported.setdefault(int(m.group(1)), set()).add(m.group(2))
    for line, code in expected.items():
        assert code in reported.get(line, set()), \
            f"line {line} ({lines[line - 1].strip()!r}) not reported as [{code}]:\n{out}"
    assert set(reported) == set(expected), f"unexpected errors:\n{out}"


def test_package_sources_pass_mypy_strict(tmp_path):
    """The package's own Python files (annotations, stub) are strict-clean."""
    if not SOURCE_PACKAGE.is_dir():
        pytest.skip("no source tree beside the tests")
    out, status = _run_mypy(tmp_path, str(SOURCE_PACKAGE))
    assert status == 0, f"mypy --strict on {SOURCE_PACKAGE}:\n{out}"
