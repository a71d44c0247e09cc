"""Transactions and server-side cursors.

Thin Python classes over the C connection: each statement call checks the
transaction's state and hands the C awaitable straight back (no extra
coroutine on the hot path).
"""

from __future__ import annotations

import itertools
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Sequence

from psqlpy._copy import CopyMethods
from psqlpy._enums import IsolationLevel, ReadVariant
from psqlpy.exceptions import CursorError, TransactionError

if TYPE_CHECKING:  # pragma: no cover
    from psqlpy import Connection
    from psqlpy._psqlpy import PendingQuery, QueryResult, SingleQueryResult

__all__ = ["Transaction", "Cursor"]

_ISOLATION_SQL = {
    IsolationLevel.ReadUncommitted: "READ UNCOMMITTED",
    IsolationLevel.ReadCommitted: "READ COMMITTED",
    IsolationLevel.RepeatableRead: "REPEATABLE READ",
    IsolationLevel.Serializable: "SERIALIZABLE",
}
_READ_SQL = {ReadVariant.ReadOnly: "READ ONLY", ReadVariant.ReadWrite: "READ WRITE"}

_NEW, _ACTIVE, _DONE = "new", "active", "done"
_cursor_ids = itertools.count(1)


def quote_ident(name: str, what: str = "name") -> str:
    """Quote an SQL identifier safely (doubling embedded quotes)."""
    if not isinstance(name, str) or not name:
        raise TransactionError(f"{what} must be a non-empty str, got {name!r}")
    if "\x00" in name:
        raise TransactionError(f"{what} must not contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


class Transaction(CopyMethods):
    """A transaction on one connection.

    Use it as ``async with connection.transaction() as tx:`` (begins,
    commits on normal exit, rolls back when the block raises) or call
    ``begin()``, ``commit()`` and ``rollback()`` yourself.  Once
    committed or rolled back it is finished: every further call raises
    ``TransactionError``.
    """

    __slots__ = (
        "_conn", "_isolation_level", "_read_variant", "_deferrable", "_state",
        "_savepoints", "_release", "__weakref__",
    )

    def __init__(
        self,
        connection: Connection,
        isolation_level: IsolationLevel | None = None,
        read_variant: ReadVariant | None = None,
        deferrable: bool | None = None,
        *,
        release_connection: bool = False,
    ) -> None:
        if isolation_level is not None and not isinstance(isolation_level, IsolationLevel):
            raise TransactionError(
                f"isolation_level must be an IsolationLevel, got {isolation_level!r}")
        if read_variant is not None and not isinstance(read_variant, ReadVariant):
            raise TransactionError(
                f"read_variant must be a ReadVariant, got {read_variant!r}")
        if deferrable is not None and not isinstance(deferrable, bool):
            raise TransactionError(f"deferrable must be a bool, got {deferrable!r}")
        self._conn = connection
        self._isolation_level = isolation_level
        self._read_variant = read_variant
        self._deferrable = deferrable
        self._state = _NEW
        self._savepoints: list[str] = []
        self._release = release_connection

    # -- state ---------------------------------------------------------------
    def _check_active(self) -> None:
        if self._state is not _ACTIVE:
            if self._state is _DONE:
                raise TransactionError("the transaction is finished (committed or rolled back)")
            raise TransactionError("the transaction has not begun: await begin() first")

    def _begin_sql(self) -> str:
        parts = ["BEGIN"]
        if self._isolation_level is not None:
            parts.append("ISOLATION LEVEL " + _ISOLATION_SQL[self._isolation_level])
        if self._read_variant is not None:
            parts.append(_READ_SQL[self._read_variant])
        if self._deferrable is not None:
            parts.append("DEFERRABLE" if self._deferrable else "NOT DEFERRABLE")
        return " ".join(parts)

    def _copy_raw(self) -> Connection:
        self._check_active()
        return self._conn

    @property
    def connection(self) -> Connection:
        """The connection the transaction runs on."""
        return self._conn

    async def begin(self) -> None:
        """Start the transaction (``BEGIN`` with the chosen options)."""
        if self._state is _ACTIVE:
            raise TransactionError("the transaction has already begun")
        if self._state is _DONE:
            raise TransactionError("the transaction is finished (committed or rolled back)")
        await self._conn._simple(self._begin_sql())
        self._state = _ACTIVE

    async def _finish(self, sql: str) -> None:
        self._check_active()
        self._state = _DONE
        self._savepoints.clear()
        try:
            await self._conn._simple(sql)
        finally:
            if self._release:
                self._conn.close()

    async def commit(self) -> None:
        """Commit; the transaction is finished afterwards, even if COMMIT fails."""
        await self._finish("COMMIT")

    async def rollback(self) -> None:
        """Roll back; the transaction is finished afterwards."""
        await self._finish("ROLLBACK")

    # -- statements ------------------------------------------------------------
    # timeout: seconds for the call (None: the pool's command_timeout);
    # QueryTimeoutError when it expires, with the transaction left failed
    # as by a cancelled statement.  prepared=False: the unnamed statement,
    # nothing kept prepared (as with the pool's statement_cache_size=0).
    def execute(self, querystring: str, parameters: Sequence[Any] | None = None,
                timeout: float | None = None,
                prepared: bool = True) -> PendingQuery[QueryResult]:
        """Run one statement in the transaction; awaitable -> QueryResult."""
        self._check_active()
        return self._conn.execute(querystring, parameters, timeout, prepared)

    def execute_many(self, querystring: str,
                     parameters: Sequence[Sequence[Any]] | None = None,
                     timeout: float | None = None,
                     prepared: bool = True) -> PendingQuery[None]:
        """Run one statement for each parameter list, pipelined (one Sync)."""
        self._check_active()
        return self._conn.execute_many(querystring, parameters, timeout, prepared)

    def fetch_row(self, querystring: str, parameters: Sequence[Any] | None = None,
                  timeout: float | None = None,
                  prepared: bool = True) -> PendingQuery[SingleQueryResult]:
        """The first row as a SingleQueryResult; NoRowsError when there is none."""
        self._check_active()
        return self._conn.fetch_row(querystring, parameters, timeout, prepared)

    def pipeline(
        self, queries: Sequence[tuple[str, Sequence[Any] | None]],
        timeout: float | None = None, prepared: bool = True,
    ) -> PendingQuery[list[QueryResult]]:
        """Run several statements in one pipeline; awaitable -> list[QueryResult]."""
        self._check_active()
        return self._conn.pipeline(queries, timeout, prepared)

    # -- savepoints ------------------------------------------------------------
    async def savepoint(self, savepoint_name: str) -> None:
        """Create a savepoint; its name must not be in use in this transaction."""
        self._check_active()
        quoted = quote_ident(savepoint_name, "savepoint_name")
        if savepoint_name in self._savepoints:
            raise TransactionError(f"savepoint {savepoint_name!r} already exists")
        await self._conn._simple("SAVEPOINT " + quoted)
        self._savepoints.append(savepoint_name)

    def _savepoint_index(self, savepoint_name: str) -> int:
        self._check_active()
        quote_ident(savepoint_name, "savepoint_name")
        try:
            return self._savepoints.index(savepoint_name)
        except ValueError:
            raise TransactionError(f"there is no savepoint {savepoint_name!r}") from None

    async def rollback_to(self, savepoint_name: str) -> None:
        """``ROLLBACK TO SAVEPOINT``: later savepoints are gone, this one stays."""
        i = self._savepoint_index(savepoint_name)
        await self._conn._simple("ROLLBACK TO SAVEPOINT " + quote_ident(savepoint_name))
        del self._savepoints[i + 1:]

    async def release_savepoint(self, savepoint_name: str) -> None:
        """``RELEASE SAVEPOINT``: this savepoint and later ones are gone."""
        i = self._savepoint_index(savepoint_name)
        await self._conn._simple("RELEASE SAVEPOINT " + quote_ident(savepoint_name))
        del self._savepoints[i:]

    # -- cursors -----------------------------------------------------------------
    async def cursor(
        self,
        querystring: str,
        parameters: Sequence[Any] | None = None,
        fetch_number: int | None = None,
        scroll: bool | None = None,
    ) -> Cursor:
        """Declare a server-side cursor in this transaction."""
        self._check_active()
        cur = Cursor(self, querystring, parameters, fetch_number, scroll)
        await cur._declare()
        return cur

    # -- context manager -----------------------------------------------------------
    async def __aenter__(self) -> Transaction:
        # PSQLPool.transaction() hands out a transaction that has begun already
        if not (self._release and self._state is _ACTIVE):
            await self.begin()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None,
                        tb: TracebackType | None) -> Literal[False]:
        if self._state is _ACTIVE:
            if exc_type is None:
                await self.commit()
            else:
                await self.rollback()
        return False

    def __repr__(self) -> str:
        return f"<Transaction {self._state}>"


class Cursor:
    """A server-side cursor (``DECLARE ... CURSOR``), made by
    ``Transaction.cursor()``.  Iterate it with ``async for`` to get
    ``QueryResult`` chunks of ``fetch_number`` rows."""

    __slots__ = ("_tx", "_name", "_query", "_params", "_fetch_number", "_scroll",
                 "_state", "__weakref__")

    def __init__(self, transaction: Transaction, querystring: str,
                 parameters: Sequence[Any] | None, fetch_number: int | None,
                 scroll: bool | None) -> None:
        if fetch_number is None:
            fetch_number = 10
        if not isinstance(fetch_number, int) or isinstance(fetch_number, bool) or fetch_number < 1:
            raise CursorError(f"fetch_number must be a positive int, got {fetch_number!r}")
        if scroll is not None and not isinstance(scroll, bool):
            raise CursorError(f"scroll must be a bool or None, got {scroll!r}")
        if not isinstance(querystring, str):
            raise CursorError("querystring must be a str")
        self._tx = transaction
        self._name = f"psqlpy_cursor_{next(_cursor_ids)}"
        self._query = querystring
        self._params = parameters
        self._fetch_number = fetch_number
        self._scroll = scroll
        self._state = _NEW

    @property
    def fetch_number(self) -> int:
        """Rows per ``fetch()`` without a count, and per ``async for`` step."""
        return self._fetch_number

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called (or the ``async with`` block ended)."""
        return self._state is _DONE

    async def _declare(self) -> None:
        scroll = "" if self._scroll is None else (" SCROLL" if self._scroll else " NO SCROLL")
        await self._tx._conn.execute(
            f"DECLARE {self._name}{scroll} CURSOR FOR {self._query}", self._params)
        self._state = _ACTIVE

    def _fetch(self, what: str, timeout: float | None = None) -> PendingQuery[QueryResult]:
        if self._state is not _ACTIVE:
            raise CursorError("the cursor is closed" if self._state is _DONE
                              else "the cursor is not declared")
        if self._tx._state is not _ACTIVE:
            raise CursorError("the cursor's transaction is finished")
        return self._tx._conn.execute(f"FETCH {what} FROM {self._name}", None, timeout)

    @staticmethod
    def _count(value: Any, name: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise CursorError(f"{name} must be an int, got {value!r}")
        return value

    # Every fetch takes timeout= (seconds; None: the pool's command_timeout).
    def fetch(self, fetch_number: int | None = None,
              timeout: float | None = None) -> PendingQuery[QueryResult]:
        """The next ``fetch_number`` rows (``FETCH FORWARD n``).

        Without ``fetch_number`` the cursor's own ``fetch_number`` is used,
        as ``async for`` does.  Fewer rows come back near the end, none past
        it.  A negative count is refused: use ``fetch_backward()``.
        ``timeout`` (seconds) bounds the call, as on ``execute()``.
        Awaitable returning a ``QueryResult``.
        """
        n = self._fetch_number if fetch_number is None else self._count(fetch_number, "fetch_number")
        if n < 0:
            raise CursorError("fetch_number must not be negative; use fetch_backward()")
        return self._fetch(f"FORWARD {n}", timeout)

    def fetch_next(self, timeout: float | None = None) -> PendingQuery[QueryResult]:
        """The row after the current position (``FETCH NEXT``); no row at
        the end.  Awaitable returning a ``QueryResult``."""
        return self._fetch("NEXT", timeout)

    def fetch_prior(self, timeout: float | None = None) -> PendingQuery[QueryResult]:
        """The row before the current position (``FETCH PRIOR``); no row
        before the first.  Moves backwards, so the cursor must be declared
        with ``scroll=True`` unless the server can run the query backwards.
        Awaitable returning a ``QueryResult``."""
        return self._fetch("PRIOR", timeout)

    def fetch_first(self, timeout: float | None = None) -> PendingQuery[QueryResult]:
        """The first row (``FETCH FIRST``), wherever the cursor stands; going
        back to it needs ``scroll=True`` as ``fetch_prior()`` does.
        Awaitable returning a ``QueryResult``."""
        return self._fetch("FIRST", timeout)

    def fetch_last(self, timeout: float | None = None) -> PendingQuery[QueryResult]:
        """The last row (``FETCH LAST``); the cursor stays on it, so a
        following ``fetch_prior()`` walks back from the end.  Awaitable
        returning a ``QueryResult``."""
        return self._fetch("LAST", timeout)

    def fetch_absolute(self, absolute_number: int,
                       timeout: float | None = None) -> PendingQuery[QueryResult]:
        """The row at position ``absolute_number`` (``FETCH ABSOLUTE n``):
        1 is the first row, -1 the last, 0 leaves the cursor before the
        first row and returns none.  Awaitable returning a
        ``QueryResult``."""
        return self._fetch(f"ABSOLUTE {self._count(absolute_number, 'absolute_number')}",
                           timeout)

    def fetch_relative(self, relative_number: int,
                       timeout: float | None = None) -> PendingQuery[QueryResult]:
        """The row ``relative_number`` rows away from the current one
        (``FETCH RELATIVE n``; negative moves backwards, 0 re-reads the
        current row).  Awaitable returning a ``QueryResult``."""
        return self._fetch(f"RELATIVE {self._count(relative_number, 'relative_number')}",
                           timeout)

    def fetch_forward_all(self, timeout: float | None = None) -> PendingQuery[QueryResult]:
        """Every remaining row (``FETCH FORWARD ALL``); the cursor ends up
        after the last row.  Awaitable returning a ``QueryResult``."""
        return self._fetch("FORWARD ALL", timeout)

    def fetch_backward(self, backward_count: int,
                       timeout: float | None = None) -> PendingQuery[QueryResult]:
        """Up to ``backward_count`` rows before the current position, nearest
        first (``FETCH BACKWARD n``); needs ``scroll=True`` as
        ``fetch_prior()`` does.  Awaitable returning a ``QueryResult``."""
        return self._fetch(f"BACKWARD {self._count(backward_count, 'backward_count')}",
                           timeout)

    def fetch_backward_all(self, timeout: float | None = None) -> PendingQuery[QueryResult]:
        """Every row before the current position, nearest first (``FETCH
        BACKWARD ALL``); the cursor ends up before the first row.  Awaitable
        returning a ``QueryResult``."""
        return self._fetch("BACKWARD ALL", timeout)

    async def close(self) -> None:
        """Close the cursor; closing twice is harmless."""
        if self._state is not _ACTIVE:
            self._state = _DONE
            return
        self._state = _DONE
        if self._tx._state is _ACTIVE:
            await self._tx._conn._simple(f"CLOSE {self._name}")

    def __aiter__(self) -> Cursor:
        return self

    async def __anext__(self) -> QueryResult:
        if self._state is _DONE:
            raise CursorError("the cursor is closed")
        chunk = await self.fetch()
        if len(chunk) == 0:
            raise StopAsyncIteration
        return chunk

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None,
                        tb: TracebackType | None) -> Literal[False]:
        await self.close()
        return False

    def __repr__(self) -> str:
        return f"<Cursor {self._name} {self._state}>"
