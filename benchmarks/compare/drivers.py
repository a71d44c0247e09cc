"""One adapter per driver, each using its driver the way an application
would: the driver's own pool, its default statement preparation and result
types, rows materialised as the driver's Python objects.

Imported only by worker.py; each driver module is imported inside its
adapter, so a worker imports exactly one driver.

Adapter protocol (all coroutines except version/values):
  open(dsn, size, single)  pool of `size` (or one plain connection if single)
  fetch(sql, params, conn=None)
                           run a query, return the materialised rows (a list):
                           on `conn` when given, else through the pool (the
                           driver's own per-query path: borrow, run, give back)
  insert_many(sql, rows, conn=None)
                           executemany in one transaction (on `conn` if given)
  hold() -> conn           borrow a connection from the pool for a task to keep
  release(conn)            give it back
  open_copy(dsn) -> conn   one connection for COPY (our psqlpy: the 0.13 API)
  copy(conn, table, columns, records)
                           COPY the iterable `records` into `table` in binary
                           form, the driver's own records-to-table call
  close()
  version() -> str         driver version
  values(row) -> tuple     a row as a plain tuple (checks only, never timed)
"""

from __future__ import annotations

import os

import re

_DOLLAR = re.compile(r"\$\d+")


def _first(*objs):
    """The first of objs that is not None (connections are not tested for
    truth: a driver may give them a length)."""
    return next((o for o in objs if o is not None), None)


class _Adapter:
    """What most adapters share: an optional pool and an optional single
    connection, both closed with an awaited close(); rows are mappings."""

    _pool = None
    _conn = None
    _pool013 = None

    async def close(self):
        if self._conn is not None:
            await self._conn.close()
        if self._pool is not None:
            await self._pool.close()

    @staticmethod
    def values(row):
        return tuple(row.values())


class AsyncpgAdapter(_Adapter):
    name = "asyncpg"

    def __init__(self):
        import asyncpg
        self._mod = asyncpg

    def version(self):
        return self._mod.__version__

    async def open(self, dsn, size, single):
        if single:
            self._conn = await self._mod.connect(dsn)
        else:
            self._pool = await self._mod.create_pool(dsn, min_size=size, max_size=size)

    async def fetch(self, sql, params, conn=None):
        target = _first(conn, self._conn, self._pool)
        return await target.fetch(sql, *params)

    async def insert_many(self, sql, rows, conn=None):
        if conn is not None:
            async with conn.transaction():
                await conn.executemany(sql, rows)
            return
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                await conn.executemany(sql, rows)

    async def hold(self):
        return self._conn if self._conn is not None else await self._pool.acquire()

    async def release(self, conn):
        if conn is not self._conn:
            await self._pool.release(conn)

    async def open_copy(self, dsn):
        self._conn = await self._mod.connect(dsn)
        return self._conn

    async def copy(self, conn, table, columns, records):
        await conn.copy_records_to_table(table, records=records, columns=columns)


class PsycopgAdapter(_Adapter):
    """psycopg 3 with its C implementation (psycopg[binary]); refuses to run
    on the pure-Python one, which would not be an honest comparison."""

    name = "psycopg"

    def __init__(self):
        import psycopg
        import psycopg_pool
        if psycopg.pq.__impl__ not in ("binary", "c"):
            raise ImportError(f"psycopg runs its {psycopg.pq.__impl__} implementation, "
                              "not the C one (install psycopg[binary] or psycopg[c])")
        self._mod = psycopg
        self._poolmod = psycopg_pool

    def version(self):
        return f"{self._mod.__version__} ({self._mod.pq.__impl__}), pool {self._poolmod.__version__}"

    async def open(self, dsn, size, single):
        if single:
            self._conn = await self._mod.AsyncConnection.connect(dsn, autocommit=True)
        else:
            self._pool = self._poolmod.AsyncConnectionPool(
                dsn, min_size=size, max_size=size, open=False,
                kwargs={"autocommit": True})
            await self._pool.open(wait=True)

    @staticmethod
    def _sql(sql):
        return _DOLLAR.sub("%s", sql)

    async def fetch(self, sql, params, conn=None):
        sql = self._sql(sql)
        conn = _first(conn, self._conn)
        if conn is not None:
            cur = await conn.execute(sql, params)
            return await cur.fetchall()
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchall()

    async def insert_many(self, sql, rows, conn=None):
        if conn is not None:
            await self._insert_many(conn, sql, rows)
            return
        async with self._pool.connection() as conn:
            await self._insert_many(conn, sql, rows)

    async def _insert_many(self, conn, sql, rows):
        async with conn.transaction():
            async with conn.cursor() as cur:
                await cur.executemany(self._sql(sql), rows)

    async def hold(self):
        return self._conn if self._conn is not None else await self._pool.getconn()

    async def release(self, conn):
        if conn is not self._conn:
            await self._pool.putconn(conn)

    async def open_copy(self, dsn):
        self._conn = await self._mod.AsyncConnection.connect(dsn, autocommit=True)
        return self._conn

    # psycopg's binary COPY needs the column types up front.
    COPY_TYPES = {"_bench_copy": ["int4", "text", "float8"]}

    async def copy(self, conn, table, columns, records):
        stmt = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        async with conn.cursor() as cur:
            async with cur.copy(stmt) as cp:
                cp.set_types(self.COPY_TYPES[table])
                for rec in records:
                    await cp.write_row(rec)

    @staticmethod
    def values(row):
        return tuple(row)


class PsqlpyAdapter(_Adapter):
    """This project's psqlpy (the C driver), through the API in
    shared/reference/psqlpy-api-signatures.md."""

    name = "psqlpy"

    def __init__(self):
        import psqlpy
        if not hasattr(psqlpy, "PSQLPool"):
            raise ImportError(f"the psqlpy imported from {psqlpy.__file__} has no PSQLPool; "
                              "is this the PyPI (Rust) package?")
        self._mod = psqlpy

    def version(self):
        return getattr(self._mod, "__version__", "unknown")

    async def open(self, dsn, size, single):
        # PSQLPY_BENCH_AUTO_PIPELINE=0 measures ours with automatic
        # pipelining off (the "before" of benchmarks/README.md)
        kw = {}
        if os.environ.get("PSQLPY_BENCH_AUTO_PIPELINE") == "0":
            kw["auto_pipeline"] = False
        self._pool = self._mod.PSQLPool(dsn=dsn, max_db_pool_size=size, **kw)
        await self._pool.startup()
        if single:
            self._conn = await self._pool.connection()

    async def fetch(self, sql, params, conn=None):
        target = _first(conn, self._conn, self._pool)
        res = await target.execute(sql, list(params))
        return res.result()

    async def insert_many(self, sql, rows, conn=None):
        if conn is not None:
            await self._insert_many(conn, sql, rows)
            return
        conn = await self._pool.connection()
        try:
            await self._insert_many(conn, sql, rows)
        finally:
            conn.close()  # back to the pool

    @staticmethod
    async def _insert_many(conn, sql, rows):
        tx = conn.transaction()
        await tx.begin()
        try:
            await tx.execute_many(sql, [list(r) for r in rows])
        except BaseException:
            await tx.rollback()
            raise
        await tx.commit()

    async def hold(self):
        return self._conn if self._conn is not None else await self._pool.connection()

    async def release(self, conn):
        if conn is not self._conn:
            conn.close()  # back to the pool

    async def open_copy(self, dsn):
        # COPY on the psqlpy 0.13 API, the one the Rust package has too.
        self._pool013 = self._mod.connect_pool(dsn=dsn, max_db_pool_size=2)
        self._conn013 = await self._pool013.connection()
        return self._conn013

    async def copy(self, conn, table, columns, records):
        await conn.copy_records_to_table(table, records, columns=columns)

    async def close(self):
        self._conn = None
        if getattr(self, "_pool013", None) is not None:
            self._conn013.close()
            self._pool013.close()
        close = getattr(self._pool, "close", None)
        if close is not None:
            res = close()
            if hasattr(res, "__await__"):
                await res


class PsqlpyRustAdapter(_Adapter):
    """The Rust psqlpy from PyPI (pinned in requirements-rust.txt). Its API
    moved on from the one we implement: ConnectionPool instead of PSQLPool,
    no pool.execute, connections borrowed with pool.acquire()."""

    name = "psqlpy-rust"

    def __init__(self):
        import psqlpy
        if not hasattr(psqlpy, "ConnectionPool"):
            raise ImportError(f"the psqlpy imported from {psqlpy.__file__} has no ConnectionPool; "
                              "is this the Rust package from PyPI?")
        from importlib.metadata import version
        self._version = version("psqlpy")
        self._mod = psqlpy

    def version(self):
        return self._version

    async def open(self, dsn, size, single):
        if single:
            self._conn = await self._mod.connect(dsn=dsn)
        else:
            # 0.13 refuses max_db_pool_size < 2; with one task only one
            # connection is ever borrowed, so the big result is unaffected.
            size = max(size, 2)
            self._pool = self._mod.ConnectionPool(dsn=dsn, max_db_pool_size=size)
            # The pool connects lazily; borrow every connection once so
            # connecting is not timed (the warm-up would hide it anyway).
            conns = [await self._pool.connection() for _ in range(size)]
            for c in conns:
                c.close()

    async def fetch(self, sql, params, conn=None):
        conn = _first(conn, self._conn)
        if conn is not None:
            res = await conn.execute(sql, list(params))
        else:
            async with self._pool.acquire() as conn:
                res = await conn.execute(sql, list(params))
        return res.result()

    async def insert_many(self, sql, rows, conn=None):
        if conn is not None:
            async with conn.transaction() as tx:
                await tx.execute_many(sql, [list(r) for r in rows])
            return
        async with self._pool.acquire() as conn:
            async with conn.transaction() as tx:
                await tx.execute_many(sql, [list(r) for r in rows])

    async def hold(self):
        return self._conn if self._conn is not None else await self._pool.connection()

    async def release(self, conn):
        if conn is not self._conn:
            conn.close()  # back to the pool

    async def open_copy(self, dsn):
        self._conn = await self._mod.connect(dsn=dsn)
        return self._conn

    async def copy(self, conn, table, columns, records):
        await conn.copy_records_to_table(table, records, columns=columns)

    async def close(self):
        if self._conn is not None:
            self._conn.close()
        if self._pool is not None:
            self._pool.close()


ADAPTERS = {
    "psqlpy": PsqlpyAdapter,
    "asyncpg": AsyncpgAdapter,
    "psycopg": PsycopgAdapter,
    "psqlpy-rust": PsqlpyRustAdapter,
}
