#!/usr/bin/env python3
"""Smoke test of an installed psqlpy against a real server.

Imports the package, then runs statements on the server named by
PSQLPY_TEST_DSN: parameters and results of the common types (the ones
whose conversion depends on the Python version: int beyond 64 bits, UUID,
date/time, Decimal, JSON), a codec registered from Python, a transaction,
and a pool closed cleanly.  Standard library only, so it runs in a venv
holding nothing but psqlpy: CI runs it on the Python versions that do not
run the whole suite.  Exit status 0 when everything matched.

    PSQLPY_TEST_DSN=postgresql://... python tests/py/smoke.py
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import os
import sys
import uuid


async def main(dsn: str) -> None:
    import psqlpy

    # the codec's type: created first, since a codec registered by name is
    # resolved when a connection first meets the type
    setup = psqlpy.PSQLPool(dsn=dsn, max_db_pool_size=1)
    await setup.startup()
    await setup.execute("DROP TYPE IF EXISTS smoke_mood")
    await setup.execute("CREATE TYPE smoke_mood AS ENUM ('sad', 'ok', 'happy')")
    await setup.close()
    psqlpy.register_codec("smoke_mood", encode=str.lower, decode=str.upper)

    pool = psqlpy.PSQLPool(dsn=dsn, max_db_pool_size=2)
    await pool.startup()
    u = uuid.uuid4()
    now = dt.datetime(2024, 2, 29, 12, 30, 15, 123456, tzinfo=dt.timezone.utc)
    values = [
        42,
        2**70,
        "zoë",
        b"\x00\xff",
        u,
        now,
        now.date(),
        dt.timedelta(days=3, microseconds=7),
        decimal.Decimal("-12.3400"),
        {"a": [1, None, "x"]},
        [1, 2, 3],
        "OK",
    ]
    sql = (
        "SELECT $1::int8 AS i, $2::numeric AS big, $3::text AS t, $4::bytea AS b,"
        " $5::uuid AS u, $6::timestamptz AS ts, $7::date AS d, $8::interval AS iv,"
        " $9::numeric AS n, $10::jsonb AS j, $11::int4[] AS a, $12::smoke_mood AS m,"
        " gen_random_uuid() AS r"
    )
    row = (await pool.fetch_row(sql, values)).result()
    expect = dict(zip("i big t b u ts d iv n j a".split(), values))
    expect["big"] = decimal.Decimal(2**70)
    for key, want in expect.items():
        if row[key] != want:
            raise AssertionError(f"{key}: sent {want!r}, got {row[key]!r}")
    if row["m"] != "OK":  # lower-cased by encode, upper-cased by decode
        raise AssertionError(f"m: {row['m']!r}")
    if not isinstance(row["r"], uuid.UUID) or row["r"].version != 4:
        raise AssertionError(f"r: {row['r']!r}")
    if list(row) != "i big t b u ts d iv n j a m r".split():
        raise AssertionError(f"columns: {list(row)}")

    sql = "SELECT g AS n, g::text AS s FROM generate_series(1, 500) g"
    rows = (await pool.execute(sql)).result()
    if rows[-1] != {"n": 500, "s": "500"} or len(rows) != 500:
        raise AssertionError(f"generate_series: {len(rows)} rows, last {rows[-1]!r}")

    conn = await pool.connection()
    async with conn.transaction() as tx:
        await tx.execute("CREATE TEMP TABLE smoke (id uuid PRIMARY KEY)")
        await tx.execute_many("INSERT INTO smoke VALUES ($1)", [[u], [uuid.UUID(int=0)]])
        got = (await tx.execute("SELECT id FROM smoke ORDER BY id")).result()
    await conn.close()
    if got != [{"id": uuid.UUID(int=0)}, {"id": u}]:
        raise AssertionError(f"transaction: {got!r}")
    await pool.close()

    cleanup = psqlpy.PSQLPool(dsn=dsn, max_db_pool_size=1)
    await cleanup.startup()
    await cleanup.execute("DROP TYPE smoke_mood")
    await cleanup.close()
    print(f"smoke: ok on Python {sys.version.split()[0]} (psqlpy {psqlpy.__version__})")


if __name__ == "__main__":
    target = os.environ.get("PSQLPY_TEST_DSN")
    if not target:
        sys.exit("smoke: set PSQLPY_TEST_DSN to the server to test against")
    asyncio.run(main(target))
