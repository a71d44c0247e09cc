"""Session setup and visibility: init=, server_settings=, server notices
(on_notice= and the "psqlpy" logger) and query hooks, against the real server."""

from __future__ import annotations

import asyncio
import logging

import pytest

from psqlpy import Notice, PSQLPool, QueryEvent
from psqlpy.exceptions import DatabaseError, PoolConfigurationError


async def _until(cond, what: str, limit: float = 10.0) -> None:
    """Let the loop run until cond() holds (generous guard, not a timing claim)."""
    for _ in range(int(limit / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


# ---- server_settings= -------------------------------------------------------

async def test_server_settings_are_the_sessions_settings(dsn):
    settings = {"application_name": "psqlpy sessions \\ test",
                "search_path": "pg_catalog, public", "work_mem": "5MB"}
    async with PSQLPool(dsn=dsn, max_db_pool_size=2, server_settings=settings) as pool:
        for name, value in settings.items():
            got = (await pool.fetch_row(f"SHOW {name}")).result()
            assert got[name] == value
        # both connections of the pool get them
        conns = [await pool.connection() for _ in range(2)]
        for c in conns:
            assert (await c.fetch_row("SHOW work_mem")).result()["work_mem"] == "5MB"
        # the session's defaults: RESET brings them back
        await conns[0].execute("SET work_mem = '9MB'")
        await conns[0].execute("RESET work_mem")
        assert (await conns[0].fetch_row("SHOW work_mem")).result()["work_mem"] == "5MB"
        for c in conns:
            c.close()


async def test_server_settings_apply_with_a_dsn_and_keywords(dsn, dsn_parts):
    pool = PSQLPool(server_settings={"application_name": "kw"}, **{
        k: v for k, v in dsn_parts.items()
        if k in ("username", "password", "host", "port", "db_name")})
    async with pool:
        got = (await pool.fetch_row("SHOW application_name")).result()
        assert got["application_name"] == "kw"


@pytest.mark.parametrize("bad", [{"work mem": "1"}, {"a=b": "1"}, {"": "x"},
                                 {"work_mem": 5}, {1: "x"}, "work_mem=5",
                                 {"application_name": "a\0b"}])
def test_server_settings_refuses_what_it_cannot_send(bad):
    with pytest.raises(PoolConfigurationError):
        PSQLPool(dsn="postgresql://localhost/x", server_settings=bad)


async def test_an_unknown_server_setting_fails_the_connect(dsn):
    pool = PSQLPool(dsn=dsn, server_settings={"no_such_setting": "1"})
    with pytest.raises(Exception, match="no_such_setting"):
        await pool.startup()
    pool.close()


# ---- init= ------------------------------------------------------------------

async def test_init_runs_once_per_new_connection_before_its_first_use(dsn):
    seen: list[int] = []

    async def init(conn):
        pid = (await conn.fetch_row("SELECT pg_backend_pid() AS p")).result()["p"]
        await conn.execute("SET application_name = 'from-init'")
        await conn.execute("CREATE TEMP TABLE init_mark (x int)")
        seen.append(pid)

    async with PSQLPool(dsn=dsn, max_db_pool_size=3, init=init) as pool:

        async def use():
            async with await pool.connection() as conn:
                row = (await conn.fetch_row(
                    "SELECT pg_backend_pid() AS p, current_setting('application_name') AS a, "
                    "(SELECT count(*) FROM init_mark) AS n")).result()
                await asyncio.sleep(0.02)
                return row

        rows = await asyncio.gather(*(use() for _ in range(12)))
        for row in rows:
            assert row["a"] == "from-init"
            assert row["p"] in seen
        # once per connection: no more runs than connections opened
        assert len(seen) == len(set(seen)) <= 3
        # the pool-level statements go through it too
        got = (await pool.fetch_row("SELECT current_setting('application_name') AS a"))
        assert got.result()["a"] == "from-init"


async def test_init_raising_gives_the_caller_the_error_and_drops_the_connection(dsn):
    calls = 0

    class Boom(Exception):
        pass

    async def init(conn):
        nonlocal calls
        calls += 1
        await conn.execute("SELECT 1")
        if calls <= 2:
            raise Boom(f"init {calls}")

    pool = PSQLPool(dsn=dsn, max_db_pool_size=1, init=init)
    with pytest.raises(Boom, match="init 1"):
        await pool.startup()  # the first connection is the startup's
    with pytest.raises(Boom, match="init 2"):
        await pool.execute("SELECT 1")
    # the failed connections are gone: the slot opens a new one, whose init passes
    res = await pool.fetch_row("SELECT 42 AS x")
    assert res.result()["x"] == 42
    assert calls == 3
    assert pool.status()["size"] == 1
    await pool.close()


async def test_init_with_a_failing_statement_raises_the_servers_error(dsn):
    async def init(conn):
        await conn.execute("SELECT * FROM no_such_table_for_init")

    pool = PSQLPool(dsn=dsn, init=init)
    with pytest.raises(DatabaseError, match="no_such_table_for_init"):
        await pool.startup()
    await pool.close()


async def test_closing_the_pool_while_init_runs_fails_the_waiting_call(dsn):
    from psqlpy.exceptions import InterfaceError

    started = asyncio.Event()
    go_on = asyncio.Event()

    async def init(conn):
        started.set()
        await go_on.wait()
        await conn.execute("SELECT 1")

    pool = PSQLPool(dsn=dsn, init=init)
    startup = asyncio.ensure_future(pool.startup())
    await asyncio.wait_for(started.wait(), 10)
    await pool.close()
    go_on.set()
    with pytest.raises(InterfaceError, match="closed"):
        await asyncio.wait_for(startup, 10)
    assert pool.status()["size"] == 0


def test_init_must_be_callable():
    with pytest.raises(PoolConfigurationError):
        PSQLPool(dsn="postgresql://localhost/x", init=42)
    with pytest.raises(PoolConfigurationError):
        PSQLPool(dsn="postgresql://localhost/x", on_notice="no")


# ---- notices ----------------------------------------------------------------

RAISE = """DO $$BEGIN
  RAISE NOTICE 'hello %', 7 USING DETAIL = 'the detail', HINT = 'the hint';
  RAISE WARNING 'careful' USING ERRCODE = '01000';
END$$"""


async def test_notices_reach_the_callback_and_the_logger(dsn, caplog):
    got: list[Notice] = []
    caplog.set_level(logging.DEBUG, logger="psqlpy")
    async with PSQLPool(dsn=dsn, on_notice=got.append) as pool:
        await pool.execute(RAISE)
        await _until(lambda: len(got) >= 2, "two notices")
    notice, warning = got
    assert notice.severity_nonlocalized == "NOTICE"
    assert notice.message == "hello 7"
    assert notice.detail == "the detail"
    assert notice.hint == "the hint"
    assert notice.sqlstate == "00000"
    assert warning.severity_nonlocalized == "WARNING"
    assert warning.message == "careful"
    assert warning.sqlstate == "01000"
    records = [r for r in caplog.records if r.name == "psqlpy"]
    levels = {r.getMessage(): r.levelno for r in records}
    assert any("hello 7" in m and lv == logging.INFO for m, lv in levels.items()), levels
    assert any("careful" in m and lv == logging.WARNING for m, lv in levels.items()), levels
    assert all(getattr(r, "pg_notice", None) is not None for r in records)


async def test_notices_are_logged_without_a_callback_and_a_raising_callback_is_logged(
        dsn, caplog):
    caplog.set_level(logging.INFO, logger="psqlpy")
    async with PSQLPool(dsn=dsn) as pool:
        async with await pool.connection() as conn:
            await conn.execute("DO $$BEGIN RAISE NOTICE 'no callback'; END$$")
        await _until(lambda: any("no callback" in r.getMessage() for r in caplog.records),
                     "the logged notice")

    def bad(n):
        raise RuntimeError("callback broke")

    async with PSQLPool(dsn=dsn, on_notice=bad) as pool:
        await pool.execute("DO $$BEGIN RAISE NOTICE 'n2'; END$$")
        await _until(lambda: any("on_notice" in r.getMessage() for r in caplog.records),
                     "the callback's failure logged")
        # the pool goes on
        assert (await pool.fetch_row("SELECT 1 AS x")).result()["x"] == 1


# ---- query hooks ------------------------------------------------------------

async def test_query_hook_sees_success_and_error(dsn):
    events: list[QueryEvent] = []
    async with PSQLPool(dsn=dsn) as pool:
        pool.add_query_hook(events.append)
        await pool.execute("SELECT g FROM generate_series(1, $1::int) g", [5])
        with pytest.raises(DatabaseError):
            await pool.execute("SELECT * FROM no_such_table_for_hooks")
        async with await pool.connection() as conn:
            await conn.execute("CREATE TEMP TABLE hk (x int)")
            await conn.execute("INSERT INTO hk SELECT generate_series(1, 3)")
        await _until(lambda: len(events) >= 4, "four events")
        ok, err, create, insert = events[:4]
        assert ok.sql == "SELECT g FROM generate_series(1, $1::int) g"
        assert ok.parameters == 1 and ok.rows == 5 and ok.error is None
        assert 0 <= ok.duration < 30
        assert err.sql == "SELECT * FROM no_such_table_for_hooks"
        assert isinstance(err.error, DatabaseError) and err.rows is None
        assert insert.rows == 3 and insert.parameters == 0
        assert create.error is None


async def test_query_hooks_add_remove_and_a_raising_hook(dsn, caplog):
    a: list[QueryEvent] = []
    b: list[QueryEvent] = []

    def broken(event):
        raise ValueError("hook broke")

    async with PSQLPool(dsn=dsn) as pool:
        pool.add_query_hook(a.append)
        pool.add_query_hook(broken)
        pool.add_query_hook(b.append)
        await pool.execute("SELECT 1")
        await _until(lambda: len(a) == 1 and len(b) == 1, "both hooks")
        assert any("query hook" in r.getMessage() for r in caplog.records)
        pool.remove_query_hook(broken)
        pool.remove_query_hook(a.append)
        await pool.execute("SELECT 2")
        await _until(lambda: len(b) == 2, "the remaining hook")
        assert len(a) == 1
        pool.remove_query_hook(b.append)
        await pool.execute("SELECT 3")
        # events arrive in order: once a later statement's event is in, the
        # removed hook has had its chance at "SELECT 3"
        marker: list[QueryEvent] = []
        pool.add_query_hook(marker.append)
        await pool.execute("SELECT 4")
        await _until(lambda: len(marker) == 1, "the marker event")
        pool.remove_query_hook(marker.append)
        assert len(b) == 2
        with pytest.raises(ValueError):
            pool.remove_query_hook(b.append)
        with pytest.raises(TypeError):
            pool.add_query_hook(42)  # type: ignore[arg-type]


async def test_internal_steps_are_not_reported(dsn):
    """Recycling checks and the rollback of a connection returned inside a
    transaction are the pool's own: hooks see only the caller's statements."""
    from psqlpy import ConnRecyclingMethod

    events: list[QueryEvent] = []
    async with PSQLPool(dsn=dsn, max_db_pool_size=1,
                        conn_recycling_method=ConnRecyclingMethod.Verified) as pool:
        pool.add_query_hook(events.append)
        conn = await pool.connection()
        await conn.execute("BEGIN")
        conn.close()  # rolled back by the pool
        await pool.execute("SELECT 1")
        await pool.execute("SELECT 'marker'")
        await _until(lambda: len(events) >= 3, "the marker event")
        assert [e.sql for e in events] == ["BEGIN", "SELECT 1", "SELECT 'marker'"]


# ---- the psqlpy 0.13 ConnectionPool ------------------------------------------

async def test_connection_pool_013_passes_the_session_options_on(dsn):
    from psqlpy import ConnectionPool

    notices: list[Notice] = []
    events: list[QueryEvent] = []
    pool = ConnectionPool(dsn=dsn, options="-c work_mem=3MB",
                          server_settings={"application_name": "p013 x", "lock_timeout": "7s"},
                          on_notice=notices.append, max_idle=60, max_lifetime=600)
    pool.add_query_hook(events.append)
    pool.resize(2)
    try:
        async with pool.acquire() as conn:
            row = await conn.fetch_row(
                "SELECT current_setting('application_name') AS a, "
                "current_setting('lock_timeout') AS l, current_setting('work_mem') AS w")
            assert row.result() == {"a": "p013 x", "l": "7s", "w": "3MB"}
            await conn.execute("DO $$BEGIN RAISE NOTICE 'from 013'; END$$")
        await _until(lambda: any(n.message == "from 013" for n in notices), "the notice")
        await _until(lambda: len(events) >= 2, "the hook's events")
        pool.remove_query_hook(events.append)
    finally:
        pool.close()


def test_connection_pool_013_refuses_bad_server_settings():
    from psqlpy import ConnectionPool
    from psqlpy.exceptions import ConnectionPoolConfigurationError

    with pytest.raises(ConnectionPoolConfigurationError):
        ConnectionPool(dsn="postgresql://localhost/x", server_settings={"a b": "1"})
