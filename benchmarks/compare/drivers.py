"""One adapter per driver, each using its driver the way an application
would: the driver's own pool, its default statement preparation and result
types, rows materialised as the driver's Python objects.

Imported only by worker.py; each driver module is imported inside its
adapter, so a worker imports exactly one driver.

Adapter protocol (all coroutines except version/values):
  open(dsn, size, single)  pool of `size` (or one plain connection if single)
  fetch(sql, params)       run a query, return the materialised rows (a list)
  insert_many(sql, rows)   executemany in one transaction
  close()
  version() -> str         driver version
  values(row) -> tuple     a row as a plain tuple (checks only, never timed)
"""

from __future__ import annotations

import re

_DOLLAR = re.compile(r"\$\d+")


class _Adapter:
    """What most adapters share: an optional pool and an optional single
    connection, both closed with an awaited close(); rows are mappings."""

    _pool = None
    _conn = None

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

    async def fetch(self, sql, params):
        target = self._conn if self._conn is not None else self._pool
        return await target.fetch(sql, *params)

    async def insert_many(self, sql, rows):
        async with self._pool.acquire() as conn:
            async with conn.transaction():
                await conn.executemany(sql, rows)


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

    async def fetch(self, sql, params):
        sql = self._sql(sql)
        if self._conn is not None:
            cur = await self._conn.execute(sql, params)
            return await cur.fetchall()
        async with self._pool.connection() as conn:
            cur = await conn.execute(sql, params)
            return await cur.fetchall()

    async def insert_many(self, sql, rows):
        async with self._pool.connection() as conn:
            async with conn.transaction():
                async with conn.cursor() as cur:
                    await cur.executemany(self._sql(sql), rows)

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
        self._pool = self._mod.PSQLPool(dsn=dsn, max_db_pool_size=size)
        await self._pool.startup()
        if single:
            self._conn = await self._pool.connection()

    async def fetch(self, sql, params):
        target = self._conn if self._conn is not None else self._pool
        res = await target.execute(sql, list(params))
        return res.result()

    async def insert_many(self, sql, rows):
        conn = await self._pool.connection()
        tx = conn.transaction()
        await tx.begin()
        try:
            await tx.execute_many(sql, [list(r) for r in rows])
        except BaseException:
            await tx.rollback()
            raise
        await tx.commit()

    async def close(self):
        self._conn = None
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

    async def fetch(self, sql, params):
        if self._conn is not None:
            res = await self._conn.execute(sql, list(params))
        else:
            async with self._pool.acquire() as conn:
                res = await conn.execute(sql, list(params))
        return res.result()

    async def insert_many(self, sql, rows):
        async with self._pool.acquire() as conn:
            async with conn.transaction() as tx:
                await tx.execute_many(sql, [list(r) for r in rows])

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
