"""Several hosts, replicas and failover (docs/scaling.md).

Against clusters this module starts itself (tests/py/pgcluster.py): a
primary with a streaming standby made by pg_basebackup, shared by the
read-only tests, and a second pair for the failover test, which stops
the primary and promotes the standby.  Hosts that fail are made here too:
a closed port, a listening socket whose accept queue is full (SYNs are
dropped: the connect hangs, as with an unreachable address) and a socket
that accepts and never answers.

Every test is bounded by asyncio.wait_for; the only clock assertions are
the behavioural deadlines (a connect that must reach the next host well
before its guard, writes that must resume within 10 s of the promotion).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import socket
import time
from typing import Any, AsyncIterator, Dict, Iterator, List, Tuple

import pytest

import pgcluster
from psqlpy import ConnectionPool, LoadBalanceHosts, PSQLPool, TargetSessionAttrs
from psqlpy.exceptions import (
    ConnectionFailedError,
    DatabaseError,
    PoolConfigurationError,
    QueryTimeoutError,
)

GUARD = 20.0  # no single step may take longer than this


# --------------------------------------------------------------------------
# clusters and broken hosts

@pytest.fixture(scope="module")
def pair() -> Iterator[Tuple[pgcluster.PgCluster, pgcluster.PgCluster]]:
    """(primary, standby): streaming replication, not modified by the tests."""
    primary = pgcluster.PgCluster(replication=True)
    primary.start()
    try:
        standby = primary.make_standby()
        try:
            yield primary, standby
        finally:
            standby.stop()
    finally:
        primary.stop()


def auth(c: pgcluster.PgCluster) -> Dict[str, Any]:
    return {"username": c.user, "password": c.password, "db_name": c.dbname}


def uri(c: pgcluster.PgCluster, ports: List[int], **query: Any) -> str:
    hosts = ",".join(f"127.0.0.1:{p}" for p in ports)
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return (f"postgresql://{c.user}:{c.password}@{hosts}/{c.dbname}" + (f"?{q}" if q else ""))


def kv(c: pgcluster.PgCluster, ports: List[int], **opts: Any) -> str:
    s = (f"host={','.join('127.0.0.1' for _ in ports)} port={','.join(map(str, ports))} "
         f"user={c.user} password='{c.password}' dbname={c.dbname}")
    return s + "".join(f" {k}={v}" for k, v in opts.items())


def make_pool(form: str, c: pgcluster.PgCluster, ports: List[int], size: int = 1,
              **opts: Any) -> PSQLPool:
    """A pool over 127.0.0.1:ports, the options given as a URI, a key=value
    DSN or PSQLPool keywords."""
    if form == "uri":
        return PSQLPool(dsn=uri(c, ports, **opts), max_db_pool_size=size)
    if form == "kv":
        return PSQLPool(dsn=kv(c, ports, **opts), max_db_pool_size=size)
    return PSQLPool(host=["127.0.0.1"] * len(ports), port=ports, max_db_pool_size=size,
                    **auth(c), **opts)


@contextlib.asynccontextmanager
async def started(pool: PSQLPool) -> AsyncIterator[PSQLPool]:
    await asyncio.wait_for(pool.startup(), GUARD)
    try:
        yield pool
    finally:
        await pool.close()


async def where(pool: PSQLPool) -> Tuple[int, bool]:
    """(port, in recovery) of the server the pool's connection is on."""
    row = (await pool.fetch_row(
        "SELECT current_setting('port')::int AS port, pg_is_in_recovery() AS standby",
        timeout=GUARD)).result()
    return row["port"], row["standby"]


@contextlib.contextmanager
def blackhole() -> Iterator[int]:
    """A port whose SYNs go unanswered: a listener with a full accept queue
    (backlog 0 holds one connection; the kernel drops further SYNs)."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    fillers = []
    try:
        for _ in range(2):
            f = socket.socket()
            f.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                f.connect(("127.0.0.1", port))
            fillers.append(f)
        time.sleep(0.1)
        yield port
    finally:
        for f in fillers:
            f.close()
        lst.close()


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(64)
    try:
        yield lst.getsockname()[1]
    finally:
        lst.close()


FORMS = ["uri", "kv", "keywords"]


# --------------------------------------------------------------------------
# a host that fails: the next one

@pytest.mark.parametrize("form", FORMS)
async def test_first_host_closed_port_connects_at_once(pair, form: str) -> None:
    primary, _ = pair
    dead = pgcluster.free_port()
    t0 = time.monotonic()
    async with started(make_pool(form, primary, [dead, primary.port], connect_timeout=10)) as p:
        assert await where(p) == (primary.port, False)
    assert time.monotonic() - t0 < 5, "a refused host must not cost its connect_timeout"


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kind", ["blackhole", "silent"])
async def test_unanswered_first_host_times_out_per_host(pair, form: str, kind: str) -> None:
    """The first host takes the SYN (or the connection) and never answers:
    after its own connect_timeout the next host is tried, and the pool
    connects well before a whole-connect deadline would have expired."""
    primary, _ = pair
    with (blackhole() if kind == "blackhole" else silent_server()) as hole:
        t0 = time.monotonic()
        async with started(make_pool(form, primary, [hole, primary.port],
                                     connect_timeout=2)) as p:
            elapsed = time.monotonic() - t0
            assert await where(p) == (primary.port, False)
    assert 1.5 < elapsed < 8, f"connected after {elapsed:.2f} s (connect_timeout=2 per host)"


async def test_every_host_failing_names_each(pair) -> None:
    primary, _ = pair
    dead = pgcluster.free_port()
    with blackhole() as hole:
        pool = make_pool("keywords", primary, [dead, hole], connect_timeout=2)
        t0 = time.monotonic()
        with pytest.raises(ConnectionFailedError) as ei:
            await asyncio.wait_for(pool.startup(), GUARD)
        elapsed = time.monotonic() - t0
        await pool.close()
    msg = str(ei.value)
    assert f"port {dead} failed" in msg and "refused" in msg, msg
    assert f"port {hole} failed: timeout expired after 2 s" in msg, msg
    assert elapsed < 8


async def test_bad_multi_host_options_refused_at_construction(pair) -> None:
    primary, _ = pair
    with pytest.raises(PoolConfigurationError, match="load_balance_hosts"):
        make_pool("uri", primary, [1, 2], load_balance_hosts="sometimes")
    with pytest.raises(PoolConfigurationError, match="target_session_attrs"):
        make_pool("keywords", primary, [1, 2], target_session_attrs="primary-ish")
    with pytest.raises(PoolConfigurationError, match="3 port numbers to 2 hosts"):
        PSQLPool(host="127.0.0.1,127.0.0.1", port=[1, 2, 3])
    with pytest.raises(PoolConfigurationError, match="port number"):
        PSQLPool(host=["127.0.0.1"], port=[70000])
    with pytest.raises(PoolConfigurationError, match="connect_timeout"):
        PSQLPool(dsn=primary.dsn, connect_timeout=-1)


# --------------------------------------------------------------------------
# target_session_attrs over a primary and its standby

TSA_CASES = [
    # (attrs, standby listed first?, expected: "primary" / "standby")
    ("any", True, "standby"), ("any", False, "primary"),
    ("read-write", True, "primary"), ("read-write", False, "primary"),
    ("primary", True, "primary"), ("primary", False, "primary"),
    ("read-only", True, "standby"), ("read-only", False, "standby"),
    ("standby", True, "standby"), ("standby", False, "standby"),
    ("prefer-standby", True, "standby"), ("prefer-standby", False, "standby"),
]


@pytest.mark.parametrize("form", FORMS)
async def test_target_session_attrs(pair, form: str) -> None:
    primary, standby = pair
    for attrs, standby_first, want in TSA_CASES:
        ports = [standby.port, primary.port] if standby_first else [primary.port, standby.port]
        async with started(make_pool(form, primary, ports, target_session_attrs=attrs)) as p:
            port, in_recovery = await where(p)
            target = standby if want == "standby" else primary
            assert (port, in_recovery) == (target.port, want == "standby"), (attrs, ports)


async def test_prefer_standby_falls_back_and_standby_fails_without_one(pair) -> None:
    primary, _ = pair
    dead = pgcluster.free_port()
    async with started(make_pool("kv", primary, [dead, primary.port],
                                 target_session_attrs="prefer-standby")) as p:
        assert await where(p) == (primary.port, False)
    pool = make_pool("kv", primary, [dead, primary.port], target_session_attrs="standby")
    with pytest.raises(ConnectionFailedError, match="hot standby"):
        await asyncio.wait_for(pool.startup(), GUARD)
    await pool.close()


async def test_reads_routed_to_the_standby(pair) -> None:
    """The documented split: a read-write pool for writes, a standby pool
    (prefer-standby: the primary when no standby is up) for reads."""
    primary, standby = pair
    both = [standby.port, primary.port]
    async with started(make_pool("keywords", primary, both, size=2,
                                 target_session_attrs="read-write")) as writes, \
            started(make_pool("keywords", primary, both, size=2,
                              target_session_attrs="prefer-standby")) as reads:
        await writes.execute("CREATE TABLE IF NOT EXISTS routed (k text PRIMARY KEY)")
        key = f"k{time.monotonic_ns()}"
        await writes.execute("INSERT INTO routed VALUES ($1)", [key])
        assert await where(writes) == (primary.port, False)
        assert await where(reads) == (standby.port, True)
        deadline = time.monotonic() + GUARD
        while True:   # replication is asynchronous: the row arrives shortly
            if (await reads.fetch_row("SELECT to_regclass('routed') IS NOT NULL AS t")
                    ).result()["t"]:
                res = await reads.execute("SELECT count(*) AS n FROM routed WHERE k = $1",
                                          [key])
                if res.result()[0]["n"] == 1:
                    break
            assert time.monotonic() < deadline, "the row never reached the standby"
            await asyncio.sleep(0.05)
        with pytest.raises(DatabaseError) as ei:
            await reads.execute("INSERT INTO routed VALUES ($1)", [key + "x"])
        assert ei.value.sqlstate == "25006"   # read_only_sql_transaction


# --------------------------------------------------------------------------
# load_balance_hosts=random

@pytest.mark.parametrize("form", FORMS)
async def test_load_balance_random_spreads_pools(pair, form: str) -> None:
    """40 single-connection pools over two servers land on both (neither
    below 20%); without load_balance_hosts every one takes the first host."""
    primary, standby = pair
    ports = [primary.port, standby.port]
    counts: Dict[int, int] = collections.Counter()
    for _ in range(40):
        async with started(make_pool(form, primary, ports, load_balance_hosts="random")) as p:
            counts[(await where(p))[0]] += 1
    print(f"\nload_balance_hosts=random ({form}), 40 pools: "
          f"primary {counts[primary.port]}, standby {counts[standby.port]}")
    assert counts[primary.port] >= 8 and counts[standby.port] >= 8, counts
    plain: Dict[int, int] = collections.Counter()
    for _ in range(10):
        async with started(make_pool(form, primary, ports)) as p:
            plain[(await where(p))[0]] += 1
    assert plain == {primary.port: 10}


async def test_load_balance_random_connection_pool_013(pair) -> None:
    """The 0.13 ConnectionPool hands LoadBalanceHosts.Random to the same C
    code: 40 pools land on both servers, and so do one pool's connections."""
    primary, standby = pair
    kw = dict(hosts=["127.0.0.1"] * 2, ports=[primary.port, standby.port],
              username=primary.user, password=primary.password, db_name=primary.dbname,
              load_balance_hosts=LoadBalanceHosts.Random,
              target_session_attrs=TargetSessionAttrs.Any)
    counts: Dict[int, int] = collections.Counter()
    for _ in range(40):
        with ConnectionPool(**kw, max_db_pool_size=1) as pool:
            async with pool.acquire() as conn:
                counts[await conn.fetch_val("SELECT inet_server_port()")] += 1
    print(f"\nLoadBalanceHosts.Random (ConnectionPool), 40 pools: "
          f"primary {counts[primary.port]}, standby {counts[standby.port]}")
    assert counts[primary.port] >= 8 and counts[standby.port] >= 8, counts
    with ConnectionPool(**kw, max_db_pool_size=20) as pool:
        conns = [await asyncio.wait_for(pool.connection(), GUARD) for _ in range(20)]
        ports = collections.Counter([await c.fetch_val("SELECT inet_server_port()")
                                     for c in conns])
        for c in conns:
            c.close()
    assert ports[primary.port] >= 4 and ports[standby.port] >= 4, ports


async def test_enum_members_as_keywords(pair) -> None:
    primary, standby = pair
    async with started(make_pool("keywords", primary, [standby.port, primary.port],
                                 target_session_attrs=TargetSessionAttrs.ReadWrite,
                                 load_balance_hosts=LoadBalanceHosts.Disable)) as p:
        assert await where(p) == (primary.port, False)


async def test_load_balance_random_per_connection(pair) -> None:
    """The order is drawn for each new connection, not once per pool."""
    primary, standby = pair
    async with started(make_pool("keywords", primary, [primary.port, standby.port], size=20,
                                 load_balance_hosts="random")) as p:
        conns = [await asyncio.wait_for(p.connection(), GUARD) for _ in range(20)]
        ports = collections.Counter()
        for c in conns:
            res = await c.execute("SELECT current_setting('port')::int AS port")
            ports[res.result()[0]["port"]] += 1
        assert ports[primary.port] >= 4 and ports[standby.port] >= 4, ports


# --------------------------------------------------------------------------
# failover

async def test_failover_writes_resume_on_the_promoted_standby() -> None:
    """4 tasks insert through a read-write pool over (standby, primary); the
    primary is stopped (fast) and the standby promoted.  Writes resume
    within 10 s of the promotion, every acknowledged row is on the new
    primary, every failed call raised ConnectionFailedError or
    QueryTimeoutError, and rows whose insert failed are the only ones that
    may or may not be there."""
    primary = pgcluster.PgCluster(replication=True)
    primary.start()
    standby = None
    try:
        standby = primary.make_standby()
        async with started(make_pool("keywords", primary, [primary.port])) as p:
            await p.execute("CREATE TABLE acked (task int, n int, PRIMARY KEY (task, n))")
        async with started(make_pool("keywords", primary, [standby.port])) as s:
            deadline = time.monotonic() + GUARD
            while (await s.fetch_row("SELECT to_regclass('acked') IS NOT NULL AS ok")).result()["ok"] is False:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)

        pool = make_pool("keywords", primary, [standby.port, primary.port], size=4,
                         target_session_attrs="read-write", connect_timeout=2)
        acked: set = set()
        failed: set = set()
        unexpected: List[str] = []
        ack_times: List[float] = []
        stop = asyncio.Event()

        async def writer(task: int) -> None:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    await pool.execute("INSERT INTO acked VALUES ($1, $2)", [task, n], timeout=5)
                except (ConnectionFailedError, QueryTimeoutError):
                    failed.add((task, n))
                    await asyncio.sleep(0.01)
                    continue
                except Exception as e:  # noqa: BLE001 - recorded and asserted on below
                    unexpected.append(repr(e))
                    failed.add((task, n))
                    await asyncio.sleep(0.01)
                    continue
                acked.add((task, n))
                ack_times.append(time.monotonic())
                await asyncio.sleep(0.002)

        async with started(pool):
            tasks = [asyncio.create_task(writer(i)) for i in range(4)]
            try:
                await asyncio.sleep(0.5)
                before = len(acked)
                assert before > 0, "no write went through before the failover"
                t_stop = time.monotonic()
                await asyncio.to_thread(primary.stop_server, "fast")
                t_stopped = time.monotonic()
                await asyncio.to_thread(standby.promote)
                t_promoted = time.monotonic()
                deadline = t_promoted + GUARD
                while not [t for t in ack_times if t > t_stopped][20:]:
                    assert time.monotonic() < deadline, (
                        f"writes did not resume within {GUARD} s of the promotion "
                        f"(unexpected errors: {unexpected[:3]})")
                    await asyncio.sleep(0.01)
            finally:
                stop.set()
                await asyncio.wait_for(asyncio.gather(*tasks), GUARD)
        resumed = min(t for t in ack_times if t > t_stopped)
        print(f"\nfailover: primary stop took {t_stopped - t_stop:.3f} s, promote "
              f"{t_promoted - t_stopped:.3f} s; first write acknowledged "
              f"{resumed - t_promoted:+.3f} s after the promotion returned "
              f"({resumed - t_stop:.3f} s after the stop began); {len(acked)} acknowledged, "
              f"{len(failed)} failed")
        assert resumed - t_promoted < 10
        assert not unexpected, unexpected

        async with started(make_pool("keywords", primary, [standby.port])) as s:
            rows = {(r["task"], r["n"]) for r in
                    (await s.execute("SELECT task, n FROM acked")).result()}
            assert (await where(s))[1] is False
        assert acked <= rows, f"acknowledged but lost: {sorted(acked - rows)[:10]}"
        assert rows - acked <= failed
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()
