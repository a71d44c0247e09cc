"""pgvector's `vector` type (codecs/vector) against a real pgvector.

The server is PostgreSQL 16 with pgvector 0.6, unpacked from PyPI's
pgserver wheel by scripts/setup.sh (tests/py/pgvector_server.py): Debian 12
has no pgvector package for its PostgreSQL 15.  It runs as a throwaway
cluster of this module's own.

A vector decodes to a list of floats (each element is a float4 on the
server, so 0.1 comes back as float32(0.1) widened to a double); it is sent
from a list or tuple of numbers, from a str in the server's text form, or
from extra_types.PgVector.
"""

from __future__ import annotations

import math
import struct
from typing import AsyncIterator, Iterator, List, Optional, Sequence

import pgcluster
import pgvector_server
import pytest
import pytest_asyncio

from helpers import open_pool
from psqlpy import PSQLPool, connect_pool
from psqlpy import exceptions
from psqlpy.extra_types import PgVector


def f4(values: Sequence[float]) -> List[float]:
    """What the server holds for these numbers: each rounded to float4."""
    return [struct.unpack("<f", struct.pack("<f", v))[0] for v in values]


@pytest.fixture(scope="module")
def vector_dsn() -> Iterator[str]:
    if not pgvector_server.ready():
        pytest.fail("no pgvector server: run scripts/setup.sh "
                    f"(it unpacks {pgvector_server.PIN} into {pgvector_server.home()})")
    with pgcluster.PgCluster(bindir=pgvector_server.bindir()) as c:
        yield c.dsn


@pytest_asyncio.fixture
async def vpool(vector_dsn: str) -> AsyncIterator[PSQLPool]:
    async with open_pool(vector_dsn, max_db_pool_size=2) as p:
        await p.execute("CREATE EXTENSION IF NOT EXISTS vector")
        yield p


async def one(pool: PSQLPool, sql: str, params: Optional[list] = None) -> dict:
    rows = (await pool.execute(sql, params or [])).result()
    assert len(rows) == 1
    return rows[0]


async def test_server_is_postgres_with_pgvector(vpool):
    row = await one(vpool, "SELECT extversion FROM pg_extension WHERE extname = 'vector'")
    assert row["extversion"].split(".")[0] == "0"


@pytest.mark.parametrize("value", [
    [1, 2.5, -3],
    (0.1, 0.0, 1e-3),
    [3.4e38, -1.2e-38, 7],
    [0.5] * 1000,
])
async def test_vector_both_ways_matches_the_servers_text(vpool, value):
    text = "[" + ",".join(repr(float(v)) for v in value) + "]"
    row = await one(vpool, "SELECT $1::vector AS v, $1::vector::text AS t,"
                           " $2::text::vector AS parsed, $2::text::vector = $1::vector AS same",
                    [value, text])
    assert row["v"] == f4(value)
    assert all(type(x) is float for x in row["v"])
    assert row["parsed"] == f4(value)
    assert row["same"] is True
    # the server's own text of what we sent reads back as the same numbers
    assert [float(x) for x in row["t"].strip("[]").split(",")] == \
        pytest.approx(f4(value), rel=1e-6)


async def test_vector_column_nearest_neighbour(vpool):
    await vpool.execute("DROP TABLE IF EXISTS items")
    await vpool.execute("CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))")
    vecs = {1: [1, 2, 3], 2: [4, 5, 6], 3: [-1, 0, 0.5], 4: [0.1, 0.2, 0.3]}
    conn = await vpool.connection()
    await conn.execute_many("INSERT INTO items VALUES ($1, $2)",
                            [[k, v] for k, v in vecs.items()])
    probe = [0.2, 0.1, 0.25]
    rows = (await vpool.execute(
        "SELECT id, embedding, embedding <-> $1 AS dist FROM items ORDER BY embedding <-> $1",
        [probe])).result()
    want = sorted(vecs, key=lambda k: math.dist(f4(vecs[k]), f4(probe)))
    assert [r["id"] for r in rows] == want
    for r in rows:
        assert r["embedding"] == f4(vecs[r["id"]])
        assert r["dist"] == pytest.approx(math.dist(f4(vecs[r["id"]]), f4(probe)), rel=1e-6)
    await vpool.execute("DROP TABLE items")


async def test_vector_arrays_nulls_and_text_format(vpool):
    # in an array parameter a tuple is one vector (a list is a dimension)
    row = await one(vpool, "SELECT $1::vector[] AS a, NULL::vector AS n", [[(1, 2), None, (3, 4)]])
    assert row == {"a": [[1.0, 2.0], None, [3.0, 4.0]], "n": None}
    # a tsvector column makes the server send the whole row as text: the
    # vector then goes through the text decoder, to the same value
    row = await one(vpool, "SELECT '[0.1, 2,-3e-2]'::vector AS v, 'a b'::tsvector AS t")
    assert row["v"] == f4([0.1, 2, -3e-2])


@pytest.mark.parametrize("value, message", [
    ([float("nan")], "not a finite float4"),
    ([1, float("inf")], "not a finite float4"),
    ([1e39], "not a finite float4"),
    (["1"], "must be a number, not str"),
    ([1, None], "None"),
])
async def test_bad_vector_parameters_are_refused_before_sending(vpool, value, message):
    with pytest.raises(exceptions.ParameterError, match=message):
        await vpool.execute("SELECT $1::vector", [value])
    assert (await one(vpool, "SELECT $1::vector AS v", [[1]])) == {"v": [1.0]}


async def test_server_side_vector_errors_carry_their_sqlstate(vpool):
    with pytest.raises(exceptions.DatabaseError, match="at least 1 dimension") as ei:
        await vpool.execute("SELECT $1::vector", [[]])
    assert ei.value.sqlstate == "22000"
    with pytest.raises(exceptions.DatabaseError, match="expected 2 dimensions, not 3") as ei:
        await vpool.execute("SELECT $1::vector(2)", [[1, 2, 3]])
    assert ei.value.sqlstate == "22000"
    assert (await one(vpool, "SELECT 1 AS ok")) == {"ok": 1}


async def test_013_api_pgvector_parameter_and_list_results(vector_dsn):
    pool = connect_pool(dsn=vector_dsn, max_db_pool_size=2)
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            await conn.execute("DROP TABLE IF EXISTS docs")
            await conn.execute("CREATE TABLE docs (id int, embedding vector(2))")
            await conn.execute("INSERT INTO docs VALUES (1, $1), (2, $2)",
                               [PgVector([1, 0]), PgVector([0.6, 0.8])])
            got = await conn.fetch("SELECT id, embedding FROM docs ORDER BY embedding <=> $1",
                                   [PgVector([0, 1])])
            assert got.result() == [{"id": 2, "embedding": f4([0.6, 0.8])},
                                    {"id": 1, "embedding": [1.0, 0.0]}]
            assert await conn.fetch_val("SELECT $1::vector::text", [PgVector([1.5, -2])]) \
                == "[1.5,-2]"
            await conn.execute("DROP TABLE docs")
    finally:
        pool.close()
