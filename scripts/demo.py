"""A short tour of psqlpy's public API against a running PostgreSQL.

    python scripts/demo.py postgresql://user:password@host:port/db

(or with the DSN in PSQLPY_TEST_DSN).  scripts/run-demo.sh starts a
throwaway server and runs this against it.  Each step prints what it did and
checks what it got back; any surprise ends the demo with exit status 1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from urllib.parse import unquote, urlsplit

from psqlpy import IsolationLevel, PSQLPool, QueryResult

TABLE = "psqlpy_demo_books"


@dataclasses.dataclass
class Book:
    id: int
    title: str
    year: int


class DemoError(Exception):
    pass


def check(what: str, got: object, expected: object) -> None:
    if got != expected:
        raise DemoError(f"{what}: expected {expected!r}, got {got!r}")
    print(f"   ok: {what}")


async def count(pool: PSQLPool) -> int:
    res = await pool.execute(f"SELECT count(*) AS n FROM {TABLE}")
    return res.result()[0]["n"]


async def main(dsn: str) -> None:
    url = urlsplit(dsn)

    print("1. a pool from keyword arguments, and one from the DSN")
    pool = PSQLPool(
        username=unquote(url.username or ""),
        password=unquote(url.password or ""),
        host=url.hostname,
        port=url.port or 5432,
        db_name=url.path.lstrip("/") or "postgres",
        max_db_pool_size=2,
    )
    await pool.startup()
    dsn_pool = PSQLPool(dsn=dsn, max_db_pool_size=2)
    await dsn_pool.startup()
    res = await dsn_pool.execute("SELECT current_user::text AS who, 6 * 7 AS answer")
    check("SELECT through the DSN pool", res.result(), [{"who": url.username, "answer": 42}])

    print("2. execute with parameters")
    await pool.execute(f"DROP TABLE IF EXISTS {TABLE}")
    await pool.execute(
        f"CREATE TABLE {TABLE} (id int PRIMARY KEY, title text NOT NULL, year int NOT NULL)")
    books = [(1, "The C Programming Language", 1978),
             (2, "Structure and Interpretation of Computer Programs", 1985),
             (3, "The Art of PostgreSQL", 2019)]
    for book_id, title, year in books:
        await pool.execute(f"INSERT INTO {TABLE} (id, title, year) VALUES ($1, $2, $3)",
                           [book_id, title, year])
    res: QueryResult = await pool.execute(
        f"SELECT id, title, year FROM {TABLE} WHERE year < $1 ORDER BY id", [2000])
    print("   result():", res.result())
    check("rows before 2000", [r["id"] for r in res.result()], [1, 2])

    print("3. as_class() into a dataclass")
    objs = res.as_class(as_class=Book)
    print("   ", objs)
    check("first Book", objs[0], Book(1, "The C Programming Language", 1978))

    print("4. one connection from the pool")
    conn = await pool.connection()
    res = await conn.execute(f"SELECT title FROM {TABLE} WHERE id = $1", [3])
    check("title of book 3", res.result(), [{"title": "The Art of PostgreSQL"}])

    print("5. a transaction that commits (async with)")
    async with conn.transaction() as tx:
        await tx.execute(f"INSERT INTO {TABLE} VALUES ($1, $2, $3)",
                         [4, "Database System Concepts", 1986])
        row = await tx.fetch_row(f"SELECT count(*) AS n FROM {TABLE}")
        check("rows seen inside the transaction", row.result(), {"n": 4})
    check("rows after commit", await count(pool), 4)

    print("6. a transaction that rolls back")
    tx = conn.transaction(isolation_level=IsolationLevel.Serializable)
    await tx.begin()
    await tx.execute(f"DELETE FROM {TABLE} WHERE year < $1", [1990])
    await tx.rollback()
    check("rows after rollback", await count(pool), 4)

    print("7. a cursor, fetched in chunks of 3")
    tx = conn.transaction()
    await tx.begin()
    cursor = await tx.cursor(
        querystring=f"SELECT id FROM {TABLE} ORDER BY id", fetch_number=3)
    chunks = []
    async for chunk in cursor:
        chunks.append([r["id"] for r in chunk.result()])
        print("   chunk:", chunks[-1])
        if len(chunks) > 5:
            raise DemoError("cursor did not stop")
    await cursor.close()
    await tx.commit()
    check("cursor chunks", chunks, [[1, 2, 3], [4]])

    await pool.execute(f"DROP TABLE {TABLE}")
    print("demo finished: every step gave the expected result")


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PSQLPY_TEST_DSN")
    if not target:
        sys.exit("usage: demo.py DSN   (or set PSQLPY_TEST_DSN)")
    try:
        asyncio.run(main(target))
    except DemoError as e:
        sys.exit(f"demo failed: {e}")
