"""PSQLPool: configuration, startup/close, execute and its results,
connections lent by the pool, out-of-line parameters and the three
connection recycling methods -- all against the real server."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import os
import uuid

import pydantic
import pytest

from helpers import (activity, assert_pool_answers, backend_pid, observer, open_pool,  # noqa: F401
                     pool, wait_until)
from psqlpy import ConnRecyclingMethod, Connection, PSQLPool, QueryResult
from psqlpy import exceptions

# ---------------------------------------------------------------------------
# configuration


async def test_separate_arguments_connect(dsn_parts):
    p = PSQLPool(username=dsn_parts["username"], password=dsn_parts["password"],
                 host=dsn_parts["host"], port=dsn_parts["port"],
                 db_name=dsn_parts["db_name"], max_db_pool_size=3)
    await p.startup()
    try:
        res = await p.execute(
            "SELECT current_user AS usr, current_database() AS db, "
            "inet_server_port() AS port")
        assert res.result() == [{"usr": dsn_parts["username"], "db": dsn_parts["db_name"],
                                 "port": dsn_parts["port"]}]
        assert p.status()["max_size"] == 3
    finally:
        await p.close()


async def test_dsn_overrides_separate_arguments(dsn, dsn_parts):
    # every separate argument is wrong; the DSN alone must decide
    p = PSQLPool(dsn=dsn, username="no_such_user", password="wrong-password",
                 host="192.0.2.1", port=1, db_name="no_such_db", max_db_pool_size=1)
    await p.startup()
    try:
        res = await p.execute("SELECT current_user AS usr, current_database() AS db")
        assert res.result() == [{"usr": dsn_parts["username"], "db": dsn_parts["db_name"]}]
    finally:
        await p.close()


@pytest.mark.parametrize("method", list(ConnRecyclingMethod))
async def test_every_recycling_method_serves_queries(dsn, method):
    async with open_pool(dsn, max_db_pool_size=2, conn_recycling_method=method) as p:
        for _ in range(3):   # the second and third take a recycled connection
            await assert_pool_answers(p)


# ---------------------------------------------------------------------------
# startup / close / async with


async def test_startup_opens_a_connection(dsn):
    p = PSQLPool(dsn=dsn, max_db_pool_size=2)
    assert p.status()["size"] == 0
    await p.startup()
    try:
        st = p.status()
        assert st["size"] >= 1 and st["size"] <= 2
        assert not p.closed
        await assert_pool_answers(p)
    finally:
        await p.close()


async def test_close_ends_server_sessions(dsn, observer):
    p = PSQLPool(dsn=dsn, max_db_pool_size=1)
    await p.startup()
    pid = await backend_pid(p)
    assert await activity(observer, pid) is not None
    await p.close()
    assert p.closed

    async def gone():
        return await activity(observer, pid) is None
    assert await wait_until(gone), "the server session outlived pool.close()"


async def test_async_with_starts_and_closes(dsn, observer):
    async with PSQLPool(dsn=dsn, max_db_pool_size=1) as p:
        assert isinstance(p, PSQLPool)
        pid = await backend_pid(p)
        await assert_pool_answers(p)
    assert p.closed
    with pytest.raises(exceptions.InterfaceError):
        await p.execute("SELECT 1")

    async def gone():
        return await activity(observer, pid) is None
    assert await wait_until(gone)


# ---------------------------------------------------------------------------
# execute and QueryResult


async def test_execute_returns_rows_as_dicts_in_column_order(pool):
    res = await pool.execute(
        "SELECT g AS zeta, g * 10 AS alpha, 'r' || g AS mid "
        "FROM generate_series(1, 3) AS g ORDER BY g")
    assert isinstance(res, QueryResult)
    rows = res.result()
    assert rows == [{"zeta": 1, "alpha": 10, "mid": "r1"},
                    {"zeta": 2, "alpha": 20, "mid": "r2"},
                    {"zeta": 3, "alpha": 30, "mid": "r3"}]
    assert all(list(r) == ["zeta", "alpha", "mid"] for r in rows)
    assert len(res) == 3
    # result() may be called again and gives equal, independent rows
    again = res.result()
    assert again == rows and again[0] is not rows[0]


async def test_execute_keyword_arguments(pool):
    res = await pool.execute(querystring="SELECT $1::int4 + $2::int4 AS s", parameters=[40, 2])
    assert res.result() == [{"s": 42}]


async def test_execute_with_tuple_parameters(pool):
    res = await pool.execute("SELECT $1::text || $2::text AS s", ("ab", "cd"))
    assert res.result() == [{"s": "abcd"}]


async def test_statement_without_rows_gives_empty_result(pool):
    res = await pool.execute("SELECT 1 AS one WHERE false")
    assert res.result() == []
    assert len(res) == 0
    res = await pool.execute("DO $$ BEGIN END $$")   # a utility statement
    assert res.result() == []


class PlainRow:
    def __init__(self, id, name, score):
        self.id, self.name, self.score = id, name, score


@dataclasses.dataclass
class DataRow:
    id: int
    name: str
    score: float


class ModelRow(pydantic.BaseModel):
    id: int
    name: str
    score: float


ROWS_SQL = ("SELECT * FROM (VALUES (1, 'one', 1.5::float8), (2, 'two', -2.25::float8)) "
            "AS t(id, name, score) ORDER BY id")


@pytest.mark.parametrize("cls", [PlainRow, DataRow, ModelRow])
async def test_as_class(pool, cls):
    res = await pool.execute(ROWS_SQL)
    objs = res.as_class(as_class=cls)
    assert [type(o) for o in objs] == [cls, cls]
    assert [(o.id, o.name, o.score) for o in objs] == [(1, "one", 1.5), (2, "two", -2.25)]


async def test_as_class_positional_and_errors_from_the_class(pool):
    res = await pool.execute(ROWS_SQL)
    assert res.as_class(DataRow) == [DataRow(1, "one", 1.5), DataRow(2, "two", -2.25)]

    class Narrow(pydantic.BaseModel):
        id: int
        name: int   # 'one' is not an int: pydantic's error must come through

    with pytest.raises(pydantic.ValidationError):
        res.as_class(as_class=Narrow)
    with pytest.raises(TypeError):
        res.as_class(as_class=42)


async def test_query_result_columns(pool):
    res = await pool.execute("SELECT 1 AS b, 2 AS a")
    assert tuple(res.columns) == ("b", "a")


# ---------------------------------------------------------------------------
# each execute borrows a connection and gives it back


async def test_execute_gives_its_connection_back(dsn):
    async with open_pool(dsn, max_db_pool_size=2) as p:
        for _ in range(5):
            await assert_pool_answers(p)
            st = p.status()
            assert st["idle"] == st["size"] and 1 <= st["size"] <= 2
            assert st["waiting"] == 0
        # two at a time fill the pool, and both come back
        await asyncio.gather(assert_pool_answers(p), assert_pool_answers(p))
        st = p.status()
        assert _core(st) == {"max_size": 2, "size": st["size"], "idle": st["size"],
                             "waiting": 0, "lent": 0}


def _core(st: dict[str, int]) -> dict[str, int]:
    """The status keys these tests are about (life-cycle counts left out)."""
    return {k: st[k] for k in ("max_size", "size", "idle", "waiting", "lent")}


async def _waiting(p: PSQLPool, n: int) -> bool:
    """The pool has `n` calls waiting for a connection."""
    return p.status()["waiting"] == n


async def test_status_reports_waiters_and_they_are_served(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        conn = await p.connection()
        pid = await backend_pid(conn)
        assert _core(p.status()) == {"max_size": 1, "size": 1, "idle": 0, "waiting": 0,
                                     "lent": 1}
        t1 = asyncio.create_task(p.execute("SELECT pg_backend_pid() AS pid, 1 AS n"))
        t2 = asyncio.create_task(p.execute("SELECT pg_backend_pid() AS pid, 2 AS n"))
        assert await wait_until(lambda: _waiting(p, 2))
        assert not t1.done() and not t2.done()
        conn.close()
        r1, r2 = await asyncio.wait_for(asyncio.gather(t1, t2), 10)
        assert r1.result() == [{"pid": pid, "n": 1}]
        assert r2.result() == [{"pid": pid, "n": 2}]
        assert _core(p.status()) == {"max_size": 1, "size": 1, "idle": 1, "waiting": 0,
                                     "lent": 0}


# ---------------------------------------------------------------------------
# pool.connection()


async def test_connection_execute_keeps_one_session(pool):
    conn = await pool.connection()
    assert isinstance(conn, Connection)
    try:
        await conn.execute("SET application_name = 'psqlpy-conn-test'")
        res = await conn.execute("SELECT current_setting('application_name') AS app, "
                                 "$1::int4 * 3 AS n", [7])
        assert res.result() == [{"app": "psqlpy-conn-test", "n": 21}]
        assert await backend_pid(conn) == await backend_pid(conn)
    finally:
        conn.close()


async def test_connection_close_returns_it_to_the_pool(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        conn = await p.connection()
        pid = await backend_pid(conn)
        assert p.status()["idle"] == 0
        await conn.close()
        assert p.status()["idle"] == 1
        assert await backend_pid(p) == pid        # the very same session is reused
        with pytest.raises(exceptions.InterfaceError):
            await conn.execute("SELECT 1")


async def test_connection_async_with_returns_it_to_the_pool(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        conn = await p.connection()
        async with conn as c:
            assert c is conn
            pid = await backend_pid(c)
            assert p.status()["idle"] == 0
        assert p.status()["idle"] == 1
        assert await backend_pid(p) == pid


async def test_garbage_collected_connection_returns_to_the_pool(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        conn = await p.connection()
        pid = await backend_pid(conn)
        waiter = asyncio.create_task(p.execute("SELECT pg_backend_pid() AS pid"))
        assert await wait_until(lambda: _waiting(p, 1))
        assert not waiter.done()
        del conn
        gc.collect()
        res = await asyncio.wait_for(waiter, 10)
        assert res.result() == [{"pid": pid}]


async def test_connection_left_in_a_transaction_is_rolled_back(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        conn = await p.connection()
        await conn.execute("BEGIN")
        await conn.execute("CREATE TABLE rollback_probe (a int)")
        conn.close()
        res = await p.execute("SELECT to_regclass('rollback_probe') IS NULL AS gone, "
                              "pg_current_xact_id_if_assigned() IS NULL AS no_tx")
        assert res.result() == [{"gone": True, "no_tx": True}]


# ---------------------------------------------------------------------------
# parameters travel out of line


INJECTIONS = [
    "x'; DROP TABLE inj_probe; --",
    "'); DELETE FROM inj_probe; --",
    "$2 $1 \\' \" ; SELECT 1",
    "E'\\x00' || chr(0)",
]


async def test_parameters_are_never_spliced_into_sql(dsn):
    async with open_pool(dsn, max_db_pool_size=1) as p:
        async with await p.connection() as conn:
            await conn.execute("CREATE TEMP TABLE inj_probe (id int, body text)")
            for i, s in enumerate(INJECTIONS):
                await conn.execute("INSERT INTO inj_probe VALUES ($1, $2)", [i, s])
            res = await conn.execute("SELECT id, body FROM inj_probe ORDER BY id")
            assert res.result() == [{"id": i, "body": s} for i, s in enumerate(INJECTIONS)]
            res = await conn.execute("SELECT count(*) AS n FROM inj_probe WHERE body = $1",
                                     [INJECTIONS[0]])
            assert res.result() == [{"n": 1}]
            res = await conn.execute("SELECT $1::text AS s, length($1::text) AS n",
                                     [INJECTIONS[0]])
            assert res.result() == [{"s": INJECTIONS[0], "n": len(INJECTIONS[0])}]


# ---------------------------------------------------------------------------
# connection recycling


async def _dirty_then_reacquire(p: PSQLPool):
    """Leave session state on the pool's only connection, give it back, take
    it again; returns (state before, state after) and checks it is the same
    backend both times."""
    probe = ("SELECT pg_backend_pid() AS pid, current_setting('work_mem') AS work_mem, "
             "to_regclass('pg_temp.recycle_probe') IS NOT NULL AS temp_table, "
             "ARRAY(SELECT pg_listening_channels()) AS listening, "
             "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
             "   AND pid = pg_backend_pid()) AS advisory_locks, "
             "(SELECT count(*) FROM pg_prepared_statements WHERE name = 'recycle_ps') "
             "   AS prepared")
    conn = await p.connection()
    clean_state = (await conn.execute(probe)).result()[0]
    new_mem = "9137kB" if clean_state["work_mem"] != "9137kB" else "9138kB"
    await conn.execute(f"SET work_mem = '{new_mem}'")
    await conn.execute("CREATE TEMP TABLE recycle_probe (a int)")
    await conn.execute("LISTEN recycle_channel")
    await conn.execute("SELECT pg_advisory_lock(424242)")
    await conn.execute("PREPARE recycle_ps AS SELECT 41 + 1 AS answer")
    dirty = (await conn.execute(probe)).result()[0]
    assert dirty == {"pid": clean_state["pid"], "work_mem": new_mem, "temp_table": True,
                     "listening": ["recycle_channel"], "advisory_locks": 1, "prepared": 1}
    conn.close()
    conn = await p.connection()
    try:
        after = (await conn.execute(probe)).result()[0]   # cached statement, reused
        assert after["pid"] == clean_state["pid"], "not the same connection"
        answer = (await conn.execute("EXECUTE recycle_ps")).result()
    finally:
        conn.close()
    return clean_state, dirty, after, answer


async def test_fast_recycling_keeps_session_state(dsn):
    async with open_pool(dsn, max_db_pool_size=1,
                         conn_recycling_method=ConnRecyclingMethod.Fast) as p:
        _, dirty, after, answer = await _dirty_then_reacquire(p)
        assert after == dirty
        assert answer == [{"answer": 42}]


async def test_clean_recycling_resets_session_but_keeps_prepared_statements(dsn):
    async with open_pool(dsn, max_db_pool_size=1,
                         conn_recycling_method=ConnRecyclingMethod.Clean) as p:
        clean_state, _, after, answer = await _dirty_then_reacquire(p)
        assert after["work_mem"] == clean_state["work_mem"]
        assert after["temp_table"] is False
        assert after["listening"] == []
        assert after["advisory_locks"] == 0
        assert after["prepared"] == 1      # prepared statements survive
        assert answer == [{"answer": 42}]
        await assert_pool_answers(p)


@pytest.fixture
async def recycle_objects(observer):
    """A role and a sequence (real, not temporary: DISCARD TEMP must not be
    what makes currval() fail) for the Clean recycling test."""
    tag = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
    role, seq = f"recycle_role_{tag}", f"recycle_seq_{tag}"
    await observer.execute(f"CREATE ROLE {role} NOLOGIN")
    await observer.execute(f"CREATE SEQUENCE {seq}")
    await observer.execute(f"GRANT USAGE ON SEQUENCE {seq} TO {role}")
    try:
        yield role, seq
    finally:
        await observer.execute(f"DROP SEQUENCE {seq}")
        await observer.execute(f"DROP ROLE {role}")


_SESSION_PROBE = (
    "SELECT pg_backend_pid() AS pid, current_user::text AS cur, session_user::text AS ses, "
    "(SELECT count(*) FROM pg_cursors WHERE is_holdable) AS cursors")


@pytest.mark.parametrize("switch", ["SET SESSION AUTHORIZATION", "SET ROLE"])
@pytest.mark.parametrize("method", [ConnRecyclingMethod.Fast, ConnRecyclingMethod.Clean])
async def test_clean_recycling_resets_identity_sequences_and_cursors(
        dsn, recycle_objects, method, switch):
    """What the other Clean test cannot see: the session's identity (SET
    SESSION AUTHORIZATION / SET ROLE), currval() of a sequence used before,
    and a cursor WITH HOLD.  Fast keeps all of it, which shows the state
    really was there to reset."""
    role, seq = recycle_objects
    async with open_pool(dsn, max_db_pool_size=1, conn_recycling_method=method) as p:
        conn = await p.connection()
        try:
            clean = (await conn.execute(_SESSION_PROBE)).result()[0]
            n = (await conn.execute(f"SELECT nextval('{seq}') AS n")).result()[0]["n"]
            await conn.execute("DECLARE recycle_cur CURSOR WITH HOLD FOR SELECT 1 AS one")
            await conn.execute(f"{switch} {role}")
            dirty = (await conn.execute(_SESSION_PROBE)).result()[0]
            assert dirty == dict(clean, cur=role, cursors=1,
                                 ses=role if switch.startswith("SET SESSION") else clean["ses"])
        finally:
            conn.close()
        conn = await p.connection()
        try:
            after = (await conn.execute(_SESSION_PROBE)).result()[0]
            assert after["pid"] == clean["pid"], "not the same connection"
            if method == ConnRecyclingMethod.Fast:
                assert after == dirty
                res = await conn.execute(f"SELECT currval('{seq}') AS n")
                assert res.result() == [{"n": n}]
            else:
                assert after == clean
                with pytest.raises(exceptions.OperationalError) as info:
                    await conn.execute(f"SELECT currval('{seq}') AS n")
                assert info.value.sqlstate == "55000"     # not yet defined in this session
                with pytest.raises(exceptions.ProgrammingError) as info:
                    await conn.execute("FETCH NEXT FROM recycle_cur")
                assert info.value.sqlstate == "34000"
        finally:
            conn.close()
        await assert_pool_answers(p)


@pytest.mark.parametrize("method", [ConnRecyclingMethod.Verified, ConnRecyclingMethod.Clean])
async def test_checked_recycling_replaces_a_dead_connection(dsn, observer, method):
    """A connection whose server session was killed while idle is not
    handed out: the caller gets a fresh one and its own answer."""
    async with open_pool(dsn, max_db_pool_size=1, conn_recycling_method=method) as p:
        pid = await backend_pid(p)
        res = await observer.execute("SELECT pg_terminate_backend($1) AS ok", [pid])
        assert res.result() == [{"ok": True}]

        async def gone():
            return await activity(observer, pid) is None
        assert await wait_until(gone)
        res = await p.execute("SELECT pg_backend_pid() AS pid, $1::text AS s", ["fresh"])
        row = res.result()[0]
        assert row["s"] == "fresh" and row["pid"] != pid
        await assert_pool_answers(p)
        assert p.status()["size"] == 1


@pytest.mark.parametrize("method, checks", [
    (ConnRecyclingMethod.Fast, False),
    (ConnRecyclingMethod.Verified, True),
    (ConnRecyclingMethod.Clean, True),
])
async def test_recycling_runs_a_statement_only_when_it_should(dsn, observer, method, checks):
    """Verified (and Clean) run something on the server when an idle
    connection is handed out; Fast does not.  Seen from outside: the
    backend's last statement in pg_stat_activity changes on hand-out."""
    async with open_pool(dsn, max_db_pool_size=1, conn_recycling_method=method) as p:
        marker = "SELECT pg_backend_pid() AS pid, 'recycle-marker' AS marker"
        pid = (await p.execute(marker)).result()[0]["pid"]

        async def last_is_marker():
            a = await activity(observer, pid)
            return a is not None and a["state"] == "idle" and a["query"] == marker
        assert await wait_until(last_is_marker)

        conn = await p.connection()       # hand-out of the idle connection
        try:
            async def changed():
                a = await activity(observer, pid)
                return a is not None and a["query"] != marker
            if checks:
                assert await wait_until(changed, timeout=5)
                a = await activity(observer, pid)
                assert a["state"] == "idle"
            else:
                assert not await wait_until(changed, timeout=0.3)
            assert await backend_pid(conn) == pid
        finally:
            conn.close()


# ---------------------------------------------------------------------------
# call signatures: positional and keyword arguments mean the same


async def test_execute_arguments_positional_or_keyword(pool):
    marker = "SELECT $1::int4 + 1 AS n /* positional-prepared-check */"
    conn = await pool.connection()
    try:
        # querystring, parameters, timeout, prepared: all four positional
        res = await conn.execute(marker, [41], None, False)
        assert res.result() == [{"n": 42}]
        res = await conn.execute("SELECT count(*)::int4 AS n FROM pg_prepared_statements "
                                 "WHERE statement LIKE '%positional-prepared-check%' "
                                 "AND statement NOT LIKE '%pg_prepared_statements%'")
        assert res.result() == [{"n": 0}]
        res = await conn.execute(marker, [1], None, True)
        assert res.result(as_tuple=True) == [(2,)]
        res = await conn.execute("SELECT count(*)::int4 AS n FROM pg_prepared_statements "
                                 "WHERE statement LIKE '%positional-prepared-check%' "
                                 "AND statement NOT LIKE '%pg_prepared_statements%'")
        assert res.result() == [{"n": 1}]
        res = await conn.execute(querystring=marker, parameters=[2], prepared=False)
        assert res.result() == [{"n": 3}]
        with pytest.raises(TypeError):
            await conn.execute(marker, [1], None, True, "one too many")
        with pytest.raises(TypeError):
            await conn.execute(marker, [1], querystring=marker)

        class NoTruth:
            def __bool__(self):
                raise ZeroDivisionError("no truth value")

        with pytest.raises(ZeroDivisionError):
            await conn.execute(marker, [1], None, NoTruth())
        with pytest.raises(TypeError):
            res.result(True)   # as_tuple is keyword-only
        # the connection is still usable after every refusal
        assert (await conn.execute("SELECT 7 AS n")).result() == [{"n": 7}]
    finally:
        conn.close()
    assert (await pool.execute("SELECT $1::int4 AS n", [5], None, False)).result() == [{"n": 5}]
    with pytest.raises(TypeError):
        await pool.execute("SELECT 1", None, None, True, 1)
