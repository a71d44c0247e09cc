"""aiohttp application serving the same four endpoints through one driver.

One process serves one driver; the runner starts one process per driver with
the same pool size, pinned to the same CPU, so the drivers are compared under
identical conditions.  The driver-specific code is confined to the adapter
classes below: each exposes the same five coroutines and returns plain Python
values, and everything else (routing, JSON encoding, error handling) is
shared.

Endpoints (all return JSON):
  GET  /health          driver name, implementation details, pool size
  GET  /row/{id}        one row of `accounts` by primary key (404 if absent)
  GET  /list?after=N    the 100 rows following id N, in id order
  POST /insert          insert one row, return its id
  POST /tx/{id}         three statements in one transaction: lock the
                        account row, update its balance, record a transfer

Run: python server.py --driver asyncpg --dsn postgresql://... --port 8001
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import random
import sys

from aiohttp import web

LIST_LIMIT = 100

SQL_ROW = (
    "SELECT id, username, email, age, balance_cents, is_active, created_at, bio "
    "FROM accounts WHERE id = $1"
)
SQL_LIST = (
    "SELECT id, username, email, age, balance_cents, is_active, created_at, bio "
    "FROM accounts WHERE id > $1 ORDER BY id LIMIT 100"
)
SQL_INSERT = (
    "INSERT INTO accounts (username, email, age, balance_cents, is_active, created_at, bio) "
    "VALUES ($1, $2, $3, $4, $5, now(), $6) RETURNING id"
)
SQL_TX_LOCK = "SELECT balance_cents FROM accounts WHERE id = $1 FOR UPDATE"
SQL_TX_UPDATE = "UPDATE accounts SET balance_cents = balance_cents - $2 WHERE id = $1"
SQL_TX_RECORD = (
    "INSERT INTO transfers (account_id, amount_cents, created_at) "
    "VALUES ($1, $2, now()) RETURNING id"
)


def psycopg_sql(sql: str) -> str:
    """Rewrite $n placeholders to psycopg's %s (parameters are in order)."""
    out = sql
    for n in range(9, 0, -1):
        out = out.replace(f"${n}", "%s")
    return out


def new_account() -> list:
    """Values for one inserted account, in SQL_INSERT's parameter order."""
    n = random.randrange(1 << 40)
    return [f"user{n}", f"user{n}@example.org", random.randint(18, 90),
            random.randint(0, 10_000_000), True, "inserted by the load test"]


def _psqlpy_info(api: str) -> dict:
    """Which psqlpy the app imported (ours or the Rust package), for the report."""
    import psqlpy
    info = {"module": psqlpy.__file__, "api": api}
    try:
        from importlib.metadata import version
        info["version"] = version("psqlpy")
    except Exception:  # our in-tree build may carry no metadata
        info["version"] = getattr(psqlpy, "__version__", "unknown")
    return info


class AsyncpgDriver:
    name = "asyncpg"

    def __init__(self, dsn: str, pool_size: int) -> None:
        self.dsn, self.pool_size, self.pool = dsn, pool_size, None

    def describe(self) -> dict:
        import asyncpg
        return {"module": asyncpg.__file__, "version": asyncpg.__version__}

    async def open(self) -> None:
        import asyncpg
        self.pool = await asyncpg.create_pool(
            self.dsn, min_size=self.pool_size, max_size=self.pool_size)

    async def close(self) -> None:
        await self.pool.close()

    async def row(self, id_: int):
        r = await self.pool.fetchrow(SQL_ROW, id_)
        return dict(r) if r is not None else None

    async def list(self, after: int):
        return [dict(r) for r in await self.pool.fetch(SQL_LIST, after)]

    async def insert(self) -> int:
        return await self.pool.fetchval(SQL_INSERT, *new_account())

    async def tx(self, id_: int, amount: int) -> int:
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                if await conn.fetchval(SQL_TX_LOCK, id_) is None:
                    raise LookupError(id_)
                await conn.execute(SQL_TX_UPDATE, id_, amount)
                return await conn.fetchval(SQL_TX_RECORD, id_, amount)


class PsycopgDriver:
    name = "psycopg"
    SQL = {k: psycopg_sql(v) for k, v in {
        "row": SQL_ROW, "list": SQL_LIST, "insert": SQL_INSERT,
        "lock": SQL_TX_LOCK, "update": SQL_TX_UPDATE, "record": SQL_TX_RECORD,
    }.items()}

    def __init__(self, dsn: str, pool_size: int) -> None:
        self.dsn, self.pool_size, self.pool = dsn, pool_size, None

    def describe(self) -> dict:
        import psycopg
        return {"module": psycopg.__file__, "version": psycopg.__version__,
                "pq_impl": psycopg.pq.__impl__}

    async def open(self) -> None:
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool
        if psycopg.pq.__impl__ == "python":
            # The comparison is meant for psycopg's C implementation.
            raise RuntimeError("psycopg is using its pure-Python implementation")
        self.pool = AsyncConnectionPool(
            self.dsn, min_size=self.pool_size, max_size=self.pool_size,
            kwargs={"autocommit": True, "row_factory": dict_row}, open=False)
        await self.pool.open(wait=True)

    async def close(self) -> None:
        await self.pool.close()

    async def row(self, id_: int):
        async with self.pool.connection() as conn:
            cur = await conn.execute(self.SQL["row"], (id_,))
            return await cur.fetchone()

    async def list(self, after: int):
        async with self.pool.connection() as conn:
            cur = await conn.execute(self.SQL["list"], (after,))
            return await cur.fetchall()

    async def insert(self) -> int:
        async with self.pool.connection() as conn:
            cur = await conn.execute(self.SQL["insert"], new_account())
            return (await cur.fetchone())["id"]

    async def tx(self, id_: int, amount: int) -> int:
        async with self.pool.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(self.SQL["lock"], (id_,))
                if await cur.fetchone() is None:
                    raise LookupError(id_)
                await conn.execute(self.SQL["update"], (id_, amount))
                cur = await conn.execute(self.SQL["record"], (id_, amount))
                return (await cur.fetchone())["id"]


class Psqlpy013Driver:
    """The psqlpy 0.13 API only, one code path for both packages that offer
    it: this project's psqlpy (driver "psqlpy-013") and the Rust psqlpy 0.13.1
    from PyPI (driver "psqlpy-rust"), so the two are compared with the same
    application code.  ConnectionPool(dsn=..., max_db_pool_size=...), a
    connection borrowed per request with ``async with pool.acquire()``,
    ``conn.fetch`` / ``fetch_row`` / ``fetch_val``, ``async with
    conn.transaction()``; rows as the QueryResult's dicts.
    """

    def __init__(self, name: str, dsn: str, pool_size: int) -> None:
        self.name, self.dsn, self.pool_size, self.pool = name, dsn, pool_size, None

    def describe(self) -> dict:
        return _psqlpy_info("0.13 (ConnectionPool)")

    async def open(self) -> None:
        import psqlpy
        ours = hasattr(psqlpy, "PSQLPool")
        if self.name == "psqlpy-013" and not ours:
            raise RuntimeError(f"{psqlpy.__file__} is not this project's psqlpy")
        if self.name == "psqlpy-rust" and ours:
            raise RuntimeError(f"{psqlpy.__file__} has PSQLPool: not the pinned Rust release")
        self.pool = psqlpy.ConnectionPool(dsn=self.dsn, max_db_pool_size=self.pool_size)
        # Open every pool connection now, like the other drivers' min_size.
        conns = [await self.pool.connection() for _ in range(self.pool_size)]
        for conn in conns:
            await conn.execute("SELECT 1")
            conn.close()

    async def close(self) -> None:
        self.pool.close()

    async def row(self, id_: int):
        async with self.pool.acquire() as conn:
            rows = (await conn.fetch(SQL_ROW, [id_])).result()
        return rows[0] if rows else None

    async def list(self, after: int):
        async with self.pool.acquire() as conn:
            return (await conn.fetch(SQL_LIST, [after])).result()

    async def insert(self) -> int:
        async with self.pool.acquire() as conn:
            return await conn.fetch_val(SQL_INSERT, new_account())

    async def tx(self, id_: int, amount: int) -> int:
        async with self.pool.acquire() as conn:
            async with conn.transaction() as t:
                if not (await t.fetch(SQL_TX_LOCK, [id_])).result():
                    raise LookupError(id_)
                await t.execute(SQL_TX_UPDATE, [id_, amount])
                return await t.fetch_val(SQL_TX_RECORD, [id_, amount])


class PsqlpyDriver:
    """This project's psqlpy on its reference API (PSQLPool).

    Ours implements the reference API (PSQLPool with execute/connection);
    the pinned Rust release renamed it ConnectionPool and takes connections
    with acquire().  The statements and the work per request are the same.
    The Rust release runs Psqlpy013Driver above.
    """

    def __init__(self, name: str, dsn: str, pool_size: int) -> None:
        self.name, self.dsn, self.pool_size, self.pool = name, dsn, pool_size, None

    def describe(self) -> dict:
        import psqlpy
        return _psqlpy_info("PSQLPool" if hasattr(psqlpy, "PSQLPool") else "ConnectionPool")

    async def open(self) -> None:
        import psqlpy
        if self.name == "psqlpy" and not hasattr(psqlpy, "PSQLPool"):
            raise RuntimeError(f"{psqlpy.__file__} has no PSQLPool: not this project's psqlpy")
        if self.name == "psqlpy-rust" and hasattr(psqlpy, "PSQLPool"):
            raise RuntimeError(f"{psqlpy.__file__} has PSQLPool: not the pinned Rust release")
        if hasattr(psqlpy, "PSQLPool"):
            self.pool = psqlpy.PSQLPool(dsn=self.dsn, max_db_pool_size=self.pool_size)
            await self.pool.startup()
            self._acquire = self._acquire_reference
        else:
            self.pool = psqlpy.ConnectionPool(dsn=self.dsn, max_db_pool_size=self.pool_size)
            self._acquire = self.pool.acquire
        # Open every pool connection now, like the other drivers' min_size.
        await asyncio.gather(*(self._warm() for _ in range(self.pool_size)))

    async def _warm(self) -> None:
        async with self._acquire() as conn:
            await conn.execute("SELECT 1")

    def _acquire_reference(self):
        pool = self.pool

        class _Ctx:
            async def __aenter__(self):
                return await pool.connection()

            async def __aexit__(self, *exc):
                return False
        return _Ctx()

    async def close(self) -> None:
        close = getattr(self.pool, "close", None)
        if close is not None:
            res = close()
            if asyncio.iscoroutine(res):
                await res

    async def _execute(self, sql: str, params: list):
        if hasattr(self.pool, "execute"):
            return await self.pool.execute(sql, params)
        async with self.pool.acquire() as conn:
            return await conn.execute(sql, params)

    async def row(self, id_: int):
        rows = (await self._execute(SQL_ROW, [id_])).result()
        return rows[0] if rows else None

    async def list(self, after: int):
        return (await self._execute(SQL_LIST, [after])).result()

    async def insert(self) -> int:
        return (await self._execute(SQL_INSERT, new_account())).result()[0]["id"]

    async def tx(self, id_: int, amount: int) -> int:
        async with self._acquire() as conn:
            async with conn.transaction() as t:
                if not (await t.execute(SQL_TX_LOCK, [id_])).result():
                    raise LookupError(id_)
                await t.execute(SQL_TX_UPDATE, [id_, amount])
                return (await t.execute(SQL_TX_RECORD, [id_, amount])).result()[0]["id"]


DRIVERS = {
    "asyncpg": lambda dsn, n: AsyncpgDriver(dsn, n),
    "psycopg": lambda dsn, n: PsycopgDriver(dsn, n),
    "psqlpy": lambda dsn, n: PsqlpyDriver("psqlpy", dsn, n),
    "psqlpy-013": lambda dsn, n: Psqlpy013Driver("psqlpy-013", dsn, n),
    "psqlpy-rust": lambda dsn, n: Psqlpy013Driver("psqlpy-rust", dsn, n),
}


def _json_default(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    return str(value)


def json_response(payload, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(payload, default=_json_default),
                        status=status, content_type="application/json")


def int_arg(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise web.HTTPBadRequest(text="expected an integer") from None


def make_app(driver) -> web.Application:
    info = {"driver": driver.name, "pool_size": driver.pool_size, "pid": os.getpid(),
            "python": sys.version.split()[0], **driver.describe()}

    async def health(_request):
        return json_response({**info, "loop": type(asyncio.get_running_loop()).__module__})

    async def row(request):
        r = await driver.row(int_arg(request.match_info["id"]))
        return json_response(r) if r is not None else json_response({"error": "not found"}, 404)

    async def list_(request):
        return json_response(await driver.list(int_arg(request.query.get("after", "0"))))

    async def insert(_request):
        return json_response({"id": await driver.insert()})

    async def tx(request):
        id_ = int_arg(request.match_info["id"])
        try:
            transfer = await driver.tx(id_, random.randint(1, 100))
        except LookupError:
            return json_response({"error": "not found"}, 404)
        return json_response({"transfer": transfer})

    async def on_startup(_app):
        await driver.open()

    async def on_cleanup(_app):
        await driver.close()

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/row/{id}", row)
    app.router.add_get("/list", list_)
    app.router.add_post("/insert", insert)
    app.router.add_post("/tx/{id}", tx)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--driver", required=True, choices=sorted(DRIVERS))
    ap.add_argument("--dsn", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pool-size", type=int, default=10)
    ap.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = ap.parse_args()
    if args.loop == "uvloop":
        import uvloop
        uvloop.install()
    driver = DRIVERS[args.driver](args.dsn, args.pool_size)
    web.run_app(make_app(driver), host=args.host, port=args.port,
                access_log=None, print=None, backlog=1024)


if __name__ == "__main__":
    main()
