"""One driver runs one workload N times on one connection and materialises
the rows in one shape; started by rows_callgrind.py under callgrind.

    python rows_worker.py DRIVER SHAPE WORKLOAD QUERIES DSN

DRIVER/SHAPE: psqlpy dict|tuple|record|iter (iter: `for row in res`),
asyncpg record, psycopg tuple.
Prints the number of rows of one query on stdout.
"""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "compare"))
from workloads import BY_NAME  # noqa: E402


async def run_psqlpy(shape, sql, params, n, dsn):
    import psqlpy
    pool = psqlpy.PSQLPool(dsn=dsn, max_db_pool_size=1)
    await pool.startup()
    conn = await pool.connection()
    rows = 0
    for _ in range(n):
        res = await conn.execute(sql, list(params))
        if shape == "dict":
            rows = len(res.result())
        elif shape == "tuple":
            rows = len(res.result(as_tuple=True))
        elif shape == "record":
            rows = len(res.records())
        elif shape == "iter":
            rows = sum(1 for _ in res)  # one dict per row through res[i]
        else:
            raise SystemExit(f"psqlpy has no shape {shape}")
    conn = None
    pool.close()
    return rows


async def run_asyncpg(shape, sql, params, n, dsn):
    import asyncpg
    if shape != "record":
        raise SystemExit("asyncpg rows are Records")
    conn = await asyncpg.connect(dsn)
    rows = 0
    for _ in range(n):
        rows = len(await conn.fetch(sql, *params))
    await conn.close()
    return rows


async def run_psycopg(shape, sql, params, n, dsn):
    import psycopg
    if shape != "tuple":
        raise SystemExit("psycopg rows are tuples")
    conn = await psycopg.AsyncConnection.connect(dsn, autocommit=True)
    sql = sql.replace("$1", "%s").replace("$2", "%s")
    rows = 0
    for _ in range(n):
        cur = await conn.execute(sql, params)
        rows = len(await cur.fetchall())
    await conn.close()
    return rows


def main():
    driver, shape, workload, n, dsn = sys.argv[1:6]
    w = BY_NAME[workload]
    fn = {"psqlpy": run_psqlpy, "asyncpg": run_asyncpg, "psycopg": run_psycopg}[driver]
    print(asyncio.run(fn(shape, w.sql, w.params, int(n), dsn)))


if __name__ == "__main__":
    main()
