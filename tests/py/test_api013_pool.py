"""The psqlpy 0.13 API's pools: ConnectionPool (lazy), its keyword arguments
mapped onto libpq parameters and checked in the constructor, connect_pool(),
ConnectionPoolBuilder, connect(), acquire(), status(), resize(), sync close()
and ``with`` -- against the real server."""

from __future__ import annotations

import asyncio

import pytest

import pgcluster
from psqlpy import (ConnectionPool, ConnectionPoolBuilder, ConnRecyclingMethod, LoadBalanceHosts,
                    PSQLPool, SslMode, TargetSessionAttrs, connect, connect_pool)
from psqlpy import _internal, exceptions
from psqlpy._config013 import build_config, parse_dsn


@pytest.fixture
def parts(dsn):
    return pgcluster.dsn_parts(dsn)


async def setting(conn, name: str) -> str:
    return await conn.fetch_val("SELECT current_setting($1)", [name])


# ---------------------------------------------------------------------------
# laziness and the lending methods

async def test_pool_is_lazy_and_connects_on_demand(dsn):
    # a pool of an unreachable server builds fine: nothing connects before use
    dead = ConnectionPool(host="127.0.0.1", port=pgcluster.free_port(), username="x",
                          connect_timeout_sec=2)
    assert dead.status().size == 0
    with pytest.raises(exceptions.ConnectionPoolExecuteError) as ei:
        await dead.connection()
    assert isinstance(ei.value, exceptions.ConnectionFailedError)   # today's identity too
    dead.close()

    pool = ConnectionPool(dsn=dsn, max_db_pool_size=3)
    assert not hasattr(pool, "startup")
    assert pool.status() == {"max_size": 3, "size": 0, "available": 0, "idle": 0, "waiting": 0}
    conn = await pool.connection()
    assert isinstance(conn, _internal.Connection)
    assert await conn.fetch_val("SELECT 40 + 2") == 42
    st = pool.status()
    assert (st.max_size, st.size, st.available, st.waiting) == (3, 1, 0, 0)
    conn.close()
    assert pool.status().available == 1
    pool.close()


async def test_acquire_is_an_async_context_manager(dsn):
    with ConnectionPool(dsn=dsn) as pool:
        cm = pool.acquire()
        with pytest.raises(exceptions.ConnectionClosedError):
            await cm.execute("SELECT 1")   # not acquired before `async with`
        async with cm as conn:
            assert conn is cm
            assert await conn.fetch_val("SELECT 7") == 7
            assert pool.status().available == 0
        assert pool.status().available == 1
        with pytest.raises(exceptions.ConnectionClosedError):
            await conn.execute("SELECT 1")
        # a connection from connection() works in `async with` too, and goes back after
        async with await pool.connection() as c2:
            assert await c2.fetch_val("SELECT 1") == 1
        assert c2.is_closed()


async def test_pool_size_limit_and_waiters(dsn):
    pool = ConnectionPool(dsn=dsn, max_db_pool_size=2)
    a, b = await pool.connection(), await pool.connection()
    waiter = asyncio.ensure_future(pool.connection())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiter.done()
    assert pool.status().waiting == 1
    a.close()
    c = await waiter
    assert pool.status().size == 2 and pool.status().waiting == 0
    # a cancelled waiter gives nothing away
    w2 = asyncio.ensure_future(pool.connection())
    await asyncio.sleep(0)
    w2.cancel()
    with pytest.raises(asyncio.CancelledError):
        await w2
    b.close()
    c.close()
    async with pool.acquire() as d, pool.acquire() as e:
        assert await d.fetch_val("SELECT 1") == await e.fetch_val("SELECT 1")
    pool.close()


async def test_resize_grows_and_shrinks_a_running_pool(dsn):
    pool = ConnectionPool(dsn=dsn, max_db_pool_size=1)
    a = await pool.connection()
    waiter = asyncio.ensure_future(pool.connection())
    await asyncio.sleep(0)
    assert not waiter.done()
    pool.resize(2)                    # the waiter gets the new place at once
    b = await waiter
    assert pool.status().max_size == 2 and pool.status().size == 2
    pool.resize(1)
    a.close()
    b.close()
    # one place now: a second borrower waits
    c = await pool.connection()
    w = asyncio.ensure_future(pool.connection())
    for _ in range(10):
        await asyncio.sleep(0)
    assert not w.done()
    c.close()
    (await w).close()
    for bad in (0, -1, True, "2", None):
        with pytest.raises(exceptions.ConnectionPoolConfigurationError):
            pool.resize(bad)   # type: ignore[arg-type]
    pool.close()


async def test_close_is_sync_and_with_closes(dsn):
    with ConnectionPool(dsn=dsn) as pool:
        conn = await pool.connection()
        waiter_pool = pool
    assert waiter_pool.closed
    # a connection lent before close() still works until given back
    assert await conn.fetch_val("SELECT 3") == 3
    conn.close()
    with pytest.raises(exceptions.InterfaceError):
        await pool.connection()
    with pytest.raises(exceptions.ConnectionPoolExecuteError):
        pool.acquire()
    pool.close()                      # twice is harmless
    ConnectionPool(dsn=dsn).close()   # never started


async def test_close_fails_waiters(dsn):
    pool = ConnectionPool(dsn=dsn, max_db_pool_size=1)
    a = await pool.connection()
    w = asyncio.ensure_future(pool.connection())
    await asyncio.sleep(0)
    pool.close()
    with pytest.raises(exceptions.ConnectionPoolExecuteError):
        await w
    a.close()


async def test_status_is_a_dict_with_attributes(dsn):
    st = ConnectionPool(dsn=dsn, max_db_pool_size=4).status()
    assert isinstance(st, dict)
    assert st["max_size"] == st.max_size == 4
    assert st["idle"] == st["available"] == st.available
    assert "available=" in repr(st)


# ---------------------------------------------------------------------------
# keyword arguments

async def test_separate_arguments_and_dsn_overrides(dsn, parts):
    pool = ConnectionPool(username=parts["username"], password=parts["password"],
                          host=parts["host"], port=parts["port"], db_name=parts["db_name"],
                          application_name="api013-sep")
    async with pool.acquire() as conn:
        assert await setting(conn, "application_name") == "api013-sep"
        assert conn.conn_dbname == parts["db_name"]
        assert conn.user == parts["username"]
        assert conn.hosts == [parts["host"]]
        assert conn.ports == [parts["port"]]
        assert conn.host_addrs == []
    pool.close()
    # the separate arguments override the DSN's parts (as psqlpy 0.13.1 does)
    pool = ConnectionPool(dsn=dsn, application_name="over", options="-c work_mem=1234kB")
    async with pool.acquire() as conn:
        assert await setting(conn, "application_name") == "over"
        assert await setting(conn, "work_mem") == "1234kB"
        assert conn.options == "-c work_mem=1234kB"
    pool.close()


async def test_keyword_dsn_and_hosts_lists(dsn, parts):
    kw_dsn = (f"host={parts['host']} port={parts['port']} user={parts['username']} "
              f"password='{parts['password']}' dbname={parts['db_name']}")
    # (a refusing first host is left out: failing over to the next host is
    # the C connection's business, tested with it)
    pool = ConnectionPool(dsn=kw_dsn, hosts=[parts["host"], parts["host"]],
                          ports=[parts["port"], parts["port"]], connect_timeout_sec=3)
    async with pool.acquire() as conn:
        assert await conn.fetch_val("SELECT inet_server_port()") == parts["port"]
        assert conn.hosts == [parts["host"]] * 2
        assert conn.ports == [parts["port"], parts["port"]]
    pool.close()
    pool = ConnectionPool(dsn=dsn, hosts=[parts["host"]] * 3, ports=[parts["port"]] * 3,
                          load_balance_hosts=LoadBalanceHosts.Random)
    async with pool.acquire() as conn:
        assert await conn.fetch_val("SELECT 1") == 1
    pool.close()


async def test_target_session_attrs(dsn):
    for attrs in (TargetSessionAttrs.Any, TargetSessionAttrs.ReadWrite):
        pool = ConnectionPool(dsn=dsn, target_session_attrs=attrs)
        async with pool.acquire() as conn:
            assert await conn.fetch_val("SELECT 1") == 1
        pool.close()
    # the test server is a primary: read-only refuses it
    pool = ConnectionPool(dsn=dsn, target_session_attrs=TargetSessionAttrs.ReadOnly)
    with pytest.raises(exceptions.InterfaceError):
        await pool.connection()
    pool.close()


async def test_timeouts_keepalives_and_tls_arguments_reach_libpq(dsn):
    pool = ConnectionPool(dsn=dsn, connect_timeout_sec=5, connect_timeout_nanosec=500,
                          tcp_user_timeout_sec=9, tcp_user_timeout_nanosec=1000,
                          keepalives=True, keepalives_idle_sec=30, keepalives_interval_sec=5,
                          keepalives_interval_nanosec=1, keepalives_retries=4,
                          ssl_mode=SslMode.Disable)
    p = pool._config.params
    assert p["connect_timeout"] == "6" and p["tcp_user_timeout"] == "9001"
    assert (p["keepalives"], p["keepalives_idle"], p["keepalives_interval"],
            p["keepalives_count"]) == ("1", "30", "6", "4")
    assert p["sslmode"] == "disable"
    # libpq takes them all (they set the client's socket, which the server
    # does not report; TLS is visible from the server's side)
    async with pool.acquire() as conn:
        assert await conn.fetch_val("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") \
            is False
    pool.close()
    # TLS demanded of a server without it: refused on connect, not in the constructor
    pool = ConnectionPool(dsn=dsn, ssl_mode=SslMode.Require, ca_file="/nonexistent/ca.pem")
    assert pool._config.params["sslrootcert"] == "/nonexistent/ca.pem"
    with pytest.raises(exceptions.ConnectionPoolExecuteError):
        await pool.connection()
    pool.close()


@pytest.mark.parametrize("kwargs", [
    {"connect_timeout_nanosec": 5},
    {"tcp_user_timeout_nanosec": 5},
    {"keepalives_idle_nanosec": 5},
    {"keepalives_interval_nanosec": 5},
    {"connect_timeout_sec": -1},
    {"max_db_pool_size": 0},
    {"max_db_pool_size": "3"},
    {"port": 70000},
    {"port": 5432, "ports": [5432]},
    {"host": "a", "hosts": ["a"]},
    {"hosts": ["a", "b", "c"], "ports": [1, 2]},
    {"hosts": "ab"},
    {"ssl_mode": "require"},
    {"target_session_attrs": "read-only"},
    {"load_balance_hosts": True},
    {"keepalives": 1},
    {"keepalives_retries": -2},
    {"conn_recycling_method": 7},
    {"application_name": 5},
])
def test_bad_arguments_raise_in_the_constructor(kwargs):
    with pytest.raises(exceptions.ConnectionPoolConfigurationError):
        ConnectionPool(**kwargs)
    # and they are today's configuration error too
    with pytest.raises(exceptions.PoolConfigurationError):
        connect_pool(**kwargs)


def test_unparsable_dsn_is_a_build_error():
    for bad in ("not a dsn", "host=x port", "bogus://x", "host='unterminated"):
        with pytest.raises(exceptions.ConnectionPoolBuildError):
            ConnectionPool(dsn=bad)
    with pytest.raises(exceptions.ConnectionPoolConfigurationError):
        ConnectionPool(dsn="host=x no_such_option=1")   # libpq refuses the keyword


def test_dsn_parsing():
    assert parse_dsn("postgresql://us%40r:p%3Aw@h1:1,[::1]:2/d%2Fb?application_name=x") == {
        "user": "us@r", "password": "p:w", "host": "h1,::1", "port": "1,2", "dbname": "d/b",
        "application_name": "x"}
    assert parse_dsn("host=a  password='it\\'s' dbname = b") == {
        "host": "a", "password": "it's", "dbname": "b"}
    assert parse_dsn("postgres://h") == {"host": "h"}
    # the C pool shuffles the hosts (ports paired) for every connection; its
    # tests are in test_replicas.py
    cfg = build_config(hosts=["a", "b"], ports=[1, 2], load_balance_hosts=LoadBalanceHosts.Random)
    assert cfg.conninfo() == "host='a,b' port='1,2' load_balance_hosts='random'"
    cfg = build_config(hosts=["a", "b"], load_balance_hosts=LoadBalanceHosts.Disable)
    assert cfg.conninfo() == "host='a,b'"


# ---------------------------------------------------------------------------
# connect_pool, the builder, connect()

async def test_connect_pool_takes_every_argument_of_connection_pool(dsn):
    """connect_pool() is ConnectionPool(...) with the same arguments, the
    session ones included."""
    import inspect
    assert inspect.signature(connect_pool).parameters == \
        inspect.signature(ConnectionPool).parameters
    pool = connect_pool(dsn=dsn, server_settings={"work_mem": "3456kB"})
    try:
        async with pool.acquire() as conn:
            assert await setting(conn, "work_mem") == "3456kB"
    finally:
        pool.close()


async def test_connect_takes_the_arguments_of_connection_pool_but_the_pools_own(dsn):
    """connect() takes ConnectionPool's arguments, in their order (psqlpy
    0.13's positional order: ssl_mode right after load_balance_hosts), the
    session ones included; the two that size and recycle a pool are refused."""
    import inspect
    pools = [p for p in inspect.signature(ConnectionPool).parameters.values()
             if p.name not in ("max_db_pool_size", "conn_recycling_method")]
    params = list(inspect.signature(connect).parameters.values())
    assert params == pools
    names = [p.name for p in params]
    assert names.index("ssl_mode") == names.index("load_balance_hosts") + 1
    seen: list[str] = []
    conn = await connect(dsn, server_settings={"work_mem": "4321kB"},
                         on_notice=lambda n: seen.append(n.message))
    try:
        assert await setting(conn, "work_mem") == "4321kB"
        await conn.execute("DO $$ BEGIN RAISE NOTICE 'hello from connect'; END $$")
        for _ in range(1000):            # the callback runs on the loop after the reading
            if seen:
                break
            await asyncio.sleep(0.01)
        assert seen == ["hello from connect"]
    finally:
        conn.close()
    for pools_own in ({"max_db_pool_size": 3},
                      {"conn_recycling_method": ConnRecyclingMethod.Fast}):
        with pytest.raises(TypeError, match=next(iter(pools_own))):
            await connect(dsn=dsn, **pools_own)


async def test_connect_pool_and_recycling(dsn):
    pool = connect_pool(dsn=dsn, max_db_pool_size=2,
                        conn_recycling_method=ConnRecyclingMethod.Clean)
    assert isinstance(pool, ConnectionPool)
    async with pool.acquire() as conn:
        await conn.execute("SET work_mem = '2345kB'")
    async with pool.acquire() as conn:
        assert await setting(conn, "work_mem") != "2345kB"   # Clean reset the session
    pool.close()


async def test_builder(parts):
    b = ConnectionPoolBuilder()
    built = (b.max_pool_size(3).conn_recycling_method(ConnRecyclingMethod.Fast)
             .user(parts["username"]).password(parts["password"]).dbname(parts["db_name"])
             .host(parts["host"]).port(parts["port"]).hostaddr(parts["host"])
             .options("-c work_mem=3456kB").application_name("built")
             .ssl_mode(SslMode.Prefer).connect_timeout(5).tcp_user_timeout(7)
             .target_session_attrs(TargetSessionAttrs.ReadWrite)
             .load_balance_hosts(LoadBalanceHosts.Disable).keepalives(True)
             .keepalives_idle(20).keepalives_interval(3).keepalives_retries(2))
    assert built is b
    pool = b.build()
    assert pool.status().max_size == 3
    async with pool.acquire() as conn:
        assert await setting(conn, "application_name") == "built"
        assert await setting(conn, "work_mem") == "3456kB"
        assert conn.host_addrs == [parts["host"]]
    pool.close()
    # builders come from psqlpy._internal as applications import them
    assert _internal.ConnectionPoolBuilder is ConnectionPoolBuilder


async def test_connect_gives_a_standalone_connection(dsn):
    conn = await connect(dsn=dsn, application_name="solo")
    assert isinstance(conn, _internal.Connection)
    assert await setting(conn, "application_name") == "solo"
    pool = conn._pool
    conn.close()
    assert pool.closed     # its pool of one goes with it
    with pytest.raises(exceptions.ConnectionClosedError):
        await conn.execute("SELECT 1")
    with pytest.raises(TypeError):
        await connect(dsn=dsn, max_db_pool_size=3)   # type: ignore[call-arg]
    with pytest.raises(exceptions.ConnectionPoolExecuteError):
        await connect(host="127.0.0.1", port=pgcluster.free_port(), connect_timeout_sec=2)


async def test_psqlpool_is_unchanged(dsn):
    # the 0.2 pool keeps its startup(), awaitable close() and plain status dict
    pool = PSQLPool(dsn=dsn)
    await pool.startup()
    st = pool.status()
    assert type(st) is dict and "available" not in st
    conn = await pool.connection()
    assert type(conn).__module__ == "psqlpy"
    conn.close()
    await pool.close()


async def test_failed_connects_and_dropped_connections_give_their_place_back(dsn):
    dead = ConnectionPool(host="127.0.0.1", port=pgcluster.free_port(), max_db_pool_size=1,
                          connect_timeout_sec=2)
    for _ in range(3):   # a refused connect does not keep the only place
        with pytest.raises(exceptions.ConnectionPoolExecuteError):
            async with dead.acquire():
                pass
    dead.close()
    pool = ConnectionPool(dsn=dsn, max_db_pool_size=1)
    conn = await pool.connection()
    del conn             # dropped without close(): its place comes back
    import gc
    gc.collect()
    async with pool.acquire() as c:
        assert await c.fetch_val("SELECT 1") == 1
    pool.close()


def test_sync_close_after_the_loop_ended(dsn):
    # `with ConnectionPool(...)` around asyncio.run(): close() runs with no loop
    with ConnectionPool(dsn=dsn) as pool:
        async def use() -> _internal.Connection:
            conn = await pool.connection()
            assert await conn.fetch_val("SELECT 1") == 1
            cur = conn.cursor("SELECT 1")
            await cur.start()
            kept.append(cur)
            return conn
        kept: list = []
        conn = asyncio.run(use())
        kept[0].close()      # a cursor's close() with no loop: nothing left to run
        conn.close()
    assert pool.closed
