"""Connection, Transaction, Cursor and PreparedStatement of the psqlpy 0.13 API.

They wrap the same C connection that PSQLPool lends (``psqlpy.Connection``)
and change only what the 0.13 API does differently (see
docs/migrating.md, "The two APIs side by side"):

* errors: a failing statement raises ConnectionExecuteError /
  TransactionExecuteError, made together with the SQLSTATE class the C core
  chose (``exceptions.execute_error``); use after close raises
  ConnectionClosedError / TransactionClosedError;
* ``fetch_row``/``fetch_val`` want exactly one row;
* a Transaction runs statements before ``begin()`` (outside a transaction);
* ``$(name)p`` placeholders bound from a mapping;
* a sync ``cursor()`` returning an unstarted Cursor, which also works on a
  Connection without a transaction (it then opens one for its lifetime, as
  psqlpy 0.13.1 does: its cursors there are not WITH HOLD).
"""

from __future__ import annotations

import asyncio
import itertools
import re
from types import TracebackType
from typing import TYPE_CHECKING, Any, Awaitable, Literal, Mapping, Sequence, TypeVar

from psqlpy import _psqlpy
from psqlpy._copy import CopyFormat, CopyMethods, CopyOut
from psqlpy._enums import IsolationLevel, ReadVariant
from psqlpy._transaction import _ISOLATION_SQL, _READ_SQL, quote_ident
from psqlpy.exceptions import (
    ConnectionClosedError,
    ConnectionExecuteError,
    CursorClosedError,
    CursorFetchError,
    CursorStartError,
    Error,
    PyToRustValueMappingError,
    TransactionBeginError,
    TransactionClosedError,
    TransactionCommitError,
    TransactionError,
    TransactionExecuteError,
    TransactionSavepointError,
    _TransactionRollbackFailed,
    execute_error,
)
from psqlpy.exceptions import NoRowsError as _NoRows

if TYPE_CHECKING:  # pragma: no cover
    from psqlpy._config013 import PoolConfig
    from psqlpy._pool013 import ConnectionPool
    from psqlpy._psqlpy import QueryResult, SingleQueryResult

__all__ = ["Connection", "Transaction", "Cursor", "PreparedStatement", "Column"]

ParamsT = Sequence[Any] | Mapping[str, Any] | None

# prepared=False on the statement methods: forwarded to the C core once its
# methods take the keyword (read from their signatures); until then every
# statement is prepared and cached.
def _takes_prepared(method: object) -> bool:
    return "prepared" in (getattr(method, "__text_signature__", None) or "")


_C_TAKES_PREPARED = _takes_prepared(_psqlpy.Connection.execute)
_C_MANY_TAKES_PREPARED = _takes_prepared(_psqlpy.Connection.execute_many)
_C_ROW_TAKES_PREPARED = _takes_prepared(_psqlpy.Connection.fetch_row)

# ---------------------------------------------------------------------------
# $(name)p placeholders

_NAMED = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)p")
_named_cache: dict[str, tuple[str, tuple[str, ...]]] = {}
_NAMED_CACHE_MAX = 1024


def _rewrite(querystring: str) -> tuple[str, tuple[str, ...]]:
    """``$(name)p`` -> ``$n`` (one number per distinct name), once per SQL text."""
    hit = _named_cache.get(querystring)
    if hit is not None:
        return hit
    names: list[str] = []

    def number(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    hit = (_NAMED.sub(number, querystring), tuple(names))
    if len(_named_cache) >= _NAMED_CACHE_MAX:
        _named_cache.clear()
    _named_cache[querystring] = hit
    return hit


def bind(querystring: str, parameters: ParamsT) -> tuple[str, Sequence[Any] | None]:
    """The SQL and positional parameters to run for ``parameters``: a mapping
    fills ``$(name)p`` placeholders; a missing key raises
    PyToRustValueMappingError."""
    if parameters is None or not isinstance(parameters, Mapping):
        return querystring, parameters
    sql, names = _rewrite(querystring)
    if not names and parameters:
        # psqlpy 0.13.1 refuses a mapping for a query without $(name)p too
        raise PyToRustValueMappingError(
            "parameters given as a mapping need $(name)p placeholders in the query")
    try:
        return sql, [parameters[n] for n in names]
    except KeyError as e:
        raise PyToRustValueMappingError(
            f"no value for the parameter $({e.args[0]})p in the mapping") from None


# ---------------------------------------------------------------------------

_background: set[asyncio.Future[Any]] = set()


def _spawn(aw: Awaitable[Any]) -> asyncio.Future[Any] | None:
    """Keep an already started C operation alive until it ends; its error, if
    any, is consumed (used by the sync close() methods).  None when no loop
    runs (a close() after the loop ended: nothing can run any more)."""
    try:
        fut = asyncio.ensure_future(aw)
    except RuntimeError:
        close = getattr(aw, "close", None)
        if close is not None:
            close()
        return None
    _background.add(fut)

    def done(f: asyncio.Future[Any]) -> None:
        _background.discard(f)
        if not f.cancelled():
            f.exception()

    fut.add_done_callback(done)
    return fut


_PROFILE_013 = 1
_R = TypeVar("_R", "QueryResult", "SingleQueryResult")


def _as013(res: _R) -> _R:
    """res, set to decode as psqlpy 0.13 does (uuid as str, geometry as
    tuples, ...: the table in pyext/src/builders.c).  Every result this
    module hands out passes through here; PSQLPool's never do."""
    res._profile = _PROFILE_013
    return res


def _all013(results: list[QueryResult]) -> list[QueryResult]:
    for r in results:
        _as013(r)
    return results


class Column:
    """A result column of a PreparedStatement: its name and the OID of the
    table it comes from (None when computed)."""

    __slots__ = ("name", "table_oid")

    def __init__(self, name: str, table_oid: int | None) -> None:
        self.name = name
        self.table_oid = table_oid

    def __repr__(self) -> str:
        return f"Column(name={self.name!r}, table_oid={self.table_oid!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Column) and self.name == other.name
                and self.table_oid == other.table_oid)

    __hash__ = None  # type: ignore[assignment]


class _Runner(CopyMethods):
    """Statement methods shared by Connection and Transaction."""

    __slots__ = ()
    _execute_error: type[Error] = ConnectionExecuteError

    def _copy_raw(self) -> _psqlpy.Connection:
        return self._raw_conn()

    def _copy_error(self, exc: Error) -> Error:
        return self._wrap(exc)

    def copy_from_query(self, query: str, params: ParamsT = None, output: Any = None,
                        format: CopyFormat = "text") -> CopyOut:
        """``COPY (query) TO STDOUT``; ``params`` as for ``execute`` (a
        mapping fills ``$(name)p``).  See the PSQLPool Connection's."""
        sql, bound = bind(query, params)
        return super().copy_from_query(sql, bound, output, format)

    def _raw_conn(self) -> _psqlpy.Connection:  # pragma: no cover - overridden
        raise NotImplementedError

    def _owner(self) -> Connection:  # pragma: no cover - overridden
        raise NotImplementedError

    def _wrap(self, exc: Error) -> Error:
        return execute_error(self._execute_error, exc)

    async def execute(self, querystring: str, parameters: ParamsT = None,
                      prepared: bool = True) -> QueryResult:
        """Run one statement; its QueryResult."""
        raw = self._raw_conn()
        sql, params = bind(querystring, parameters)
        try:
            if _C_TAKES_PREPARED:
                return _as013(await raw.execute(sql, params, prepared=prepared))
            return _as013(await raw.execute(sql, params))
        except Error as e:
            raise self._wrap(e) from None

    async def fetch(self, querystring: str, parameters: ParamsT = None,
                    prepared: bool = True) -> QueryResult:
        """The same as ``execute()``."""
        return await self.execute(querystring, parameters, prepared)

    async def execute_many(self, querystring: str,
                           parameters: Sequence[ParamsT] | None = None,
                           prepared: bool = True) -> None:
        """Run one statement once per parameter set, pipelined."""
        raw = self._raw_conn()
        if not parameters:
            return None
        rows = [bind(querystring, p) for p in parameters]
        sql = rows[0][0]
        try:
            if _C_MANY_TAKES_PREPARED:
                await raw.execute_many(sql, [r[1] or [] for r in rows],
                                       prepared=prepared)
            else:
                await raw.execute_many(sql, [r[1] or [] for r in rows])
        except Error as e:
            raise self._wrap(e) from None
        return None

    async def execute_batch(self, querystring: str) -> None:
        """Run one or more ``;``-separated statements through the simple-query
        protocol (no parameters, no results)."""
        raw = self._raw_conn()
        try:
            await raw._simple(querystring)
        except Error as e:
            raise self._wrap(e) from None

    async def fetch_row(self, querystring: str, parameters: ParamsT = None,
                        prepared: bool = True) -> SingleQueryResult:
        """The only row of the result; ConnectionExecuteError (TransactionExecuteError
        in a Transaction) when there is not exactly one."""
        raw = self._raw_conn()
        sql, params = bind(querystring, parameters)
        try:
            if _C_ROW_TAKES_PREPARED:
                row = await raw.fetch_row(sql, params, prepared=prepared)
            else:
                row = await raw.fetch_row(sql, params)
        except _NoRows:
            raise self._execute_error("the query returned no rows, expected exactly one") from None
        except Error as e:
            raise self._wrap(e) from None
        n = row.rows_affected
        if n is not None and n != 1:
            raise self._execute_error(f"the query returned {n} rows, expected exactly one")
        return _as013(row)

    async def fetch_val(self, querystring: str, parameters: ParamsT = None,
                        prepared: bool = True) -> Any:
        """The first column of the only row of the result."""
        row = await self.fetch_row(querystring, parameters, prepared)
        return row.result(as_tuple=True)[0]

    async def pipeline(self, queries: Sequence[tuple[str, ParamsT]] | None = None,
                       prepared: bool = True) -> list[QueryResult]:
        """Run several statements in one pipeline; their QueryResults in order."""
        raw = self._raw_conn()
        bound = [bind(q, p) for q, p in (queries or [])]
        if not bound:
            return []
        try:
            return _all013(await raw.pipeline(bound))
        except Error as e:
            raise self._wrap(e) from None

    async def prepare(self, querystring: str, parameters: ParamsT = None) -> PreparedStatement:
        """A PreparedStatement of the query with these parameters."""
        self._raw_conn()
        sql, params = bind(querystring, parameters)
        ps = PreparedStatement(self, sql, params)
        await ps._describe()
        return ps

    def cursor(self, querystring: str | None = None, parameters: ParamsT = None,
               fetch_number: int | None = None, *, array_size: int | None = None) -> Cursor:
        """A Cursor over the query, not started yet (``start()``, ``async with``,
        ``execute()``).  ``array_size`` is psqlpy 0.13.1's run-time name of
        ``fetch_number``."""
        self._raw_conn()
        return Cursor(self, querystring, parameters,
                      array_size if array_size is not None else fetch_number)

    # the attributes psqlpy 0.13 gives Connection and Transaction
    @property
    def conn_dbname(self) -> str | None:
        return self._owner()._config.dbname

    @property
    def user(self) -> str | None:
        return self._owner()._config.user

    @property
    def hosts(self) -> list[str]:
        return self._owner()._config.hosts

    @property
    def ports(self) -> list[int]:
        return self._owner()._config.ports

    @property
    def host_addrs(self) -> list[str]:
        return self._owner()._config.host_addrs

    @property
    def options(self) -> str | None:
        return self._owner()._config.params.get("options")


class Connection(_Runner):
    """A connection of a ConnectionPool (psqlpy 0.13 API).

    From ``await pool.connection()`` (give it back with ``close()``) or
    ``async with pool.acquire() as conn`` (given back when the block ends).
    """

    __slots__ = ("_pool", "_raw", "_closed", "_config", "_slot", "_bg", "__weakref__")

    def __init__(self, pool: ConnectionPool, raw: _psqlpy.Connection | None = None) -> None:
        self._pool = pool
        self._config: PoolConfig = pool._config
        self._raw = raw
        self._closed = False
        self._slot = raw is not None   # holds one of the pool's max_size places
        # statements a sync close() started (a Cursor's CLOSE), still running
        self._bg: set[asyncio.Future[Any]] = set()

    def _background(self, aw: Awaitable[Any]) -> None:
        fut = _spawn(aw)
        if fut is not None:
            self._bg.add(fut)
            fut.add_done_callback(self._bg.discard)

    async def _settle(self) -> None:
        """Wait for the statements a sync close() started (their errors are not
        the caller's)."""
        while self._bg:
            await asyncio.wait(list(self._bg))

    def _raw_conn(self) -> _psqlpy.Connection:
        raw = self._raw
        if raw is None or self._closed:
            raise ConnectionClosedError(
                "the connection is closed" if self._closed
                else "the connection is not acquired: use `async with pool.acquire()`")
        if raw.closed:
            raise ConnectionClosedError("the connection is closed (lost or given back)")
        return raw

    def _owner(self) -> Connection:
        return self

    def transaction(self, isolation_level: IsolationLevel | None = None,
                    read_variant: ReadVariant | None = None,
                    deferrable: bool | None = None) -> Transaction:
        """A Transaction on this connection, not begun yet."""
        self._raw_conn()
        return Transaction(self, isolation_level, read_variant, deferrable)

    def in_transaction(self) -> bool:
        """Whether a transaction is open on the connection."""
        raw = self._raw
        return raw is not None and not self._closed and raw.transaction_status in (
            "intrans", "inerror", "active")

    def is_closed(self) -> bool:
        """Whether close() was called (or the connection is lost)."""
        return self._closed or self._raw is None or self._raw.closed

    def close(self) -> None:
        """Give the connection back to its pool; using it later raises
        ConnectionClosedError."""
        if self._closed:
            return
        self._closed = True
        if self._bg:   # give the connection back once a cursor's CLOSE has run
            _spawn(self._close_later())
            return
        self._give_back()

    async def _close_later(self) -> None:
        await self._settle()
        self._give_back()

    def _give_back(self) -> None:
        raw, self._raw = self._raw, None
        if raw is not None:
            raw.close()
        if self._slot:
            self._slot = False
            self._pool._release_slot()
        if self._pool._standalone:   # from connect(): its pool of one goes with it
            self._pool.close()

    def __del__(self) -> None:
        if getattr(self, "_slot", False):
            self._slot = False
            self._pool._release_slot()

    async def __aenter__(self) -> Connection:
        if self._raw is None and not self._closed:
            self._raw = await self._pool._acquire_raw()
            self._slot = True
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None,
                        tb: TracebackType | None) -> Literal[False]:
        self.close()
        return False

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("acquired" if self._raw else "not acquired")
        return f"<psqlpy Connection {state}>"


_NEW, _ACTIVE, _DONE = 0, 1, 2


class Transaction(_Runner):
    """A transaction of the psqlpy 0.13 API: ``async with conn.transaction()``
    or ``begin()``/``commit()``/``rollback()``.  Statements before ``begin()``
    run outside a transaction (as in psqlpy 0.13); after commit or rollback
    every call raises TransactionClosedError."""

    __slots__ = ("_conn", "_begin", "_state", "__weakref__")
    _execute_error = TransactionExecuteError

    def __init__(self, connection: Connection, isolation_level: IsolationLevel | None = None,
                 read_variant: ReadVariant | None = None,
                 deferrable: bool | None = None) -> None:
        if isolation_level is not None and not isinstance(isolation_level, IsolationLevel):
            raise TransactionBeginError(
                f"isolation_level must be an IsolationLevel, got {isolation_level!r}")
        if read_variant is not None and not isinstance(read_variant, ReadVariant):
            raise TransactionBeginError(f"read_variant must be a ReadVariant, got {read_variant!r}")
        if deferrable is not None and not isinstance(deferrable, bool):
            raise TransactionBeginError(f"deferrable must be a bool, got {deferrable!r}")
        parts = ["BEGIN"]
        if isolation_level is not None:
            parts.append("ISOLATION LEVEL " + _ISOLATION_SQL[isolation_level])
        if read_variant is not None:
            parts.append(_READ_SQL[read_variant])
        if deferrable is not None:
            parts.append("DEFERRABLE" if deferrable else "NOT DEFERRABLE")
        self._conn = connection
        self._begin = " ".join(parts)
        self._state = _NEW

    def _raw_conn(self) -> _psqlpy.Connection:
        if self._state == _DONE:
            raise TransactionClosedError("the transaction is committed or rolled back")
        try:
            return self._conn._raw_conn()
        except ConnectionClosedError as e:
            raise TransactionClosedError(f"the transaction's connection is closed: {e}") from None

    def _owner(self) -> Connection:
        return self._conn

    async def _run(self, sql: str, error: type[Error]) -> None:
        raw = self._raw_conn()
        try:
            await raw._simple(sql)
        except Error as e:
            raise execute_error(error, e) from None

    async def begin(self) -> None:
        """BEGIN, with the options given to ``transaction()``."""
        if self._state == _ACTIVE:
            raise TransactionBeginError("the transaction has already begun")
        self._raw_conn()
        await self._run(self._begin, TransactionBeginError)
        self._state = _ACTIVE

    async def _finish(self, sql: str, error: type[Error]) -> None:
        # Before begin() too, as psqlpy 0.13.1 does: COMMIT/ROLLBACK go to
        # the server (which only warns when no transaction is open) and the
        # Transaction is finished.
        raw = self._raw_conn()
        self._state = _DONE
        try:
            await raw._simple(sql)
        except Error as e:
            raise execute_error(error, e) from None

    async def commit(self) -> None:
        """COMMIT; the transaction is finished afterwards, even if COMMIT fails."""
        await self._finish("COMMIT", TransactionCommitError)

    async def rollback(self) -> None:
        """ROLLBACK; the transaction is finished afterwards."""
        await self._finish("ROLLBACK", _TransactionRollbackFailed)

    def _active(self) -> None:
        if self._state != _ACTIVE:
            if self._state == _DONE:
                raise TransactionClosedError("the transaction is committed or rolled back")
            raise TransactionSavepointError("the transaction has not begun")

    async def create_savepoint(self, savepoint_name: str) -> None:
        """SAVEPOINT name (a name may be used again; the newest one counts)."""
        self._active()
        await self._run("SAVEPOINT " + self._quote(savepoint_name), TransactionSavepointError)

    async def rollback_savepoint(self, savepoint_name: str) -> None:
        """ROLLBACK TO SAVEPOINT name."""
        self._active()
        await self._run("ROLLBACK TO SAVEPOINT " + self._quote(savepoint_name),
                        TransactionSavepointError)

    async def release_savepoint(self, savepoint_name: str) -> None:
        """RELEASE SAVEPOINT name."""
        self._active()
        await self._run("RELEASE SAVEPOINT " + self._quote(savepoint_name),
                        TransactionSavepointError)

    @staticmethod
    def _quote(name: str) -> str:
        try:
            return quote_ident(name, "savepoint_name")
        except TransactionError as e:
            raise TransactionSavepointError(str(e)) from None

    def is_closed(self) -> bool:
        """Whether the transaction is committed or rolled back."""
        return self._state == _DONE

    async def __aenter__(self) -> Transaction:
        await self.begin()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None,
                        tb: TracebackType | None) -> Literal[False]:
        if self._state == _ACTIVE:
            if exc_type is None:
                await self.commit()
            else:
                await self.rollback()
        return False

    def __repr__(self) -> str:
        return f"<psqlpy Transaction {('new', 'active', 'done')[self._state]}>"


_cursor_ids = itertools.count(1)


class Cursor:
    """A server-side cursor of the psqlpy 0.13 API.

    ``start()`` declares it (``async with`` does so and closes it at the end),
    ``fetchone()``/``fetchmany()``/``fetchall()`` read from it, ``async for``
    gives QueryResults of up to ``array_size`` rows.  On a Connection with no
    transaction open, ``start()`` opens one that ``close()`` commits.
    """

    __slots__ = ("_runner", "_name", "querystring", "parameters", "array_size",
                 "_state", "_own_tx", "__weakref__")

    def __init__(self, runner: _Runner, querystring: str | None, parameters: ParamsT,
                 array_size: int | None) -> None:
        if array_size is None:
            array_size = 10
        if not isinstance(array_size, int) or isinstance(array_size, bool) or array_size < 1:
            raise CursorStartError(f"array_size must be a positive int, got {array_size!r}")
        self._runner = runner
        self._name = f"psqlpy_cursor013_{next(_cursor_ids)}"
        self.querystring = querystring
        self.parameters = parameters
        self.array_size = array_size
        self._state = _NEW
        self._own_tx = False

    def _raw(self) -> _psqlpy.Connection:
        try:
            return self._runner._raw_conn()
        except Error as e:
            raise CursorClosedError(str(e)) from None

    async def start(self) -> None:
        """Declare the cursor."""
        if self._state == _ACTIVE:
            raise CursorStartError("the cursor is already started")
        if self._state == _DONE:
            raise CursorClosedError("the cursor is closed")
        if not isinstance(self.querystring, str):
            raise CursorStartError("the cursor has no query")
        await self._runner._owner()._settle()
        raw = self._raw()
        sql, params = bind(self.querystring, self.parameters)
        own_tx = raw.transaction_status == "idle"
        try:
            if own_tx:
                await raw._simple("BEGIN")
            try:
                await raw.execute(f"DECLARE {self._name} CURSOR FOR {sql}", params)
            except BaseException:
                if own_tx and not raw.closed:
                    await raw._simple("ROLLBACK")
                raise
        except Error as e:
            raise execute_error(CursorStartError, e) from None
        self._own_tx = own_tx
        self._state = _ACTIVE

    async def execute(self, querystring: str, parameters: ParamsT = None) -> QueryResult:
        """Declare the cursor for this query (closing an earlier one); the
        result of ``FETCH FORWARD 0``: the columns, no rows, position unchanged
        (psqlpy 0.13.1 returns None here and leaves the first row to fetchone())."""
        if self._state == _ACTIVE:
            self.close()
            self._state = _NEW
            self._name = f"psqlpy_cursor013_{next(_cursor_ids)}"
        self.querystring = querystring
        self.parameters = parameters
        await self.start()
        return await self._fetch("FORWARD 0")

    async def _fetch(self, what: str) -> QueryResult:
        if self._state != _ACTIVE:
            raise CursorClosedError("the cursor is closed" if self._state == _DONE
                                    else "the cursor is not started: await start() first")
        raw = self._raw()
        try:
            return _as013(await raw.execute(f"FETCH {what} FROM {self._name}"))
        except Error as e:
            raise execute_error(CursorFetchError, e) from None

    async def fetchone(self) -> QueryResult:
        """The next row (a QueryResult of at most one row)."""
        return await self._fetch("NEXT")

    async def fetchmany(self, size: int | None = None) -> QueryResult:
        """The next ``size`` rows (``array_size`` without it)."""
        n = self.array_size if size is None else size
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise CursorFetchError(f"size must be a non-negative int, got {size!r}")
        return await self._fetch(f"FORWARD {n}")

    async def fetchall(self, size: int | None = None) -> QueryResult:
        """Every remaining row (``size`` is accepted and ignored, as in psqlpy 0.13)."""
        return await self._fetch("FORWARD ALL")

    def close(self) -> None:
        """Close the cursor (and commit the transaction ``start()`` opened);
        closing twice is harmless."""
        if self._state != _ACTIVE:
            self._state = _DONE
            return
        self._state = _DONE
        owner = self._runner._owner()
        raw = owner._raw
        if raw is None or raw.closed:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:   # the loop has ended: nothing can run on the connection
            return
        sql = f"CLOSE {self._name}"
        if self._own_tx:
            sql += "; COMMIT"
        owner._background(raw._simple(sql))

    def is_closed(self) -> bool:
        return self._state == _DONE

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> QueryResult:
        if self._state == _NEW:
            await self.start()
        chunk = await self.fetchmany()
        if len(chunk) == 0:
            raise StopAsyncIteration
        return chunk

    async def __aenter__(self) -> Cursor:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None,
                        tb: TracebackType | None) -> Literal[False]:
        self.close()
        return False

    def __repr__(self) -> str:
        return f"<psqlpy Cursor {self._name} {('new', 'active', 'done')[self._state]}>"


_DESCRIBABLE = re.compile(r"\s*(\(\s*)*(select|with|values|table)\b", re.IGNORECASE)


class PreparedStatement:
    """A statement with its parameters, from ``prepare()``: ``execute()``,
    ``cursor()`` and ``columns()``."""

    __slots__ = ("_runner", "_sql", "_params", "_columns")

    def __init__(self, runner: _Runner, sql: str, params: Sequence[Any] | None) -> None:
        self._runner = runner
        self._sql = sql
        self._params = params
        self._columns: list[Column] = []

    async def _describe(self) -> None:
        # The statement's columns without running it: queries are asked for
        # no rows; other statements (INSERT ... RETURNING, ...) get their
        # columns from their first execute().
        if _DESCRIBABLE.match(self._sql):
            sql = self._sql.rstrip().rstrip(";")
            res = await self._runner.execute(
                f"SELECT * FROM ({sql}) AS psqlpy_describe LIMIT 0", self._params)
            self._set_columns(res)

    def _set_columns(self, res: QueryResult) -> None:
        tables = res._column_tables
        self._columns = [Column(n, t) for n, t in zip(res.columns, tables)]

    async def execute(self) -> QueryResult:
        """Run the statement; its QueryResult."""
        res = await self._runner.execute(self._sql, self._params)
        if not self._columns:
            self._set_columns(res)
        return res

    def cursor(self) -> Cursor:
        """A Cursor over the statement, not started yet."""
        return self._runner.cursor(self._sql, self._params)

    def columns(self) -> list[Column]:
        """The result columns: name and source table OID (None when computed)."""
        return list(self._columns)
