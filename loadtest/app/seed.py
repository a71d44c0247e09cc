"""Create and fill the load test's tables (drops them first).

accounts: the table the endpoints read, insert into and update; `--rows`
rows of plausible user data (text of varying length, integers, a boolean, a
timestamp).  transfers: written by the transaction endpoint.

Run: python seed.py --dsn postgresql://... --rows 1000000
"""

import argparse
import asyncio
import time

import asyncpg

SCHEMA = """
DROP TABLE IF EXISTS transfers;
DROP TABLE IF EXISTS accounts;
CREATE TABLE accounts (
    id            bigserial PRIMARY KEY,
    username      text        NOT NULL,
    email         text        NOT NULL,
    age           bigint      NOT NULL,
    balance_cents bigint      NOT NULL,
    is_active     boolean     NOT NULL,
    created_at    timestamptz NOT NULL,
    bio           text        NOT NULL
);
CREATE TABLE transfers (
    id           bigserial   PRIMARY KEY,
    account_id   bigint      NOT NULL REFERENCES accounts (id),
    amount_cents bigint      NOT NULL,
    created_at   timestamptz NOT NULL
);
"""

# Deterministic pseudo-random data computed by the server: the same --rows
# always produces the same table.
FILL = """
INSERT INTO accounts (username, email, age, balance_cents, is_active, created_at, bio)
SELECT 'user' || g,
       'user' || g || '@example.org',
       18 + (g * 7919) % 73,
       (g * 104729) % 10000000,
       g % 10 <> 0,
       timestamptz '2020-01-01 00:00:00+00' + (g * 7907 % 157680000) * interval '1 second',
       repeat(md5(g::text), (1 + g % 4)::int)
FROM generate_series(1, $1::bigint) AS g
"""


async def seed(dsn: str, rows: int) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCHEMA)
        await conn.execute(FILL, rows)
        await conn.execute("VACUUM (ANALYZE) accounts")
        await conn.execute("VACUUM (ANALYZE) transfers")
        got = await conn.fetchval("SELECT count(*) FROM accounts")
        if got != rows:
            raise SystemExit(f"seeded {got} rows, expected {rows}")
    finally:
        await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    t0 = time.monotonic()
    asyncio.run(seed(args.dsn, args.rows))
    print(f"seeded {args.rows} rows in {time.monotonic() - t0:.1f}s")


if __name__ == "__main__":
    main()
