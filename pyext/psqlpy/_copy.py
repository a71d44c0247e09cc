"""COPY on a connection: records or binary data in, chunks out.

The C connection offers the steps (``_copy(step, arg)``, see
``pyext/src/copy.c``) and the binary row encoder (``_copy_columns``,
``_copy_encode``); this module strings them together for both APIs.

Memory stays bounded: rows are taken from the iterable (by the C encoder
itself for a plain iterable, a batch at a time for an async one), encoded
into the connection's COPY buffer and sent once about ``CHUNK_SIZE`` bytes
are buffered; each send completes only when the socket
took the data, so a slow server slows the producer down instead of letting
buffers grow.  Out, the next chunk is read from the socket only when the
consumer asks for it.

A COPY that fails on our side (a row of the wrong length, a value the
column's codec refuses, an exception from the iterable or the source, a
cancelled task) is aborted before anything is committed: COPY FROM STDIN
ends with CopyFail, which makes the server roll the COPY back, and the
connection stays usable.  A COPY TO STDOUT that is cancelled cannot be
stopped without reading it to the end, so its connection is closed.
"""
from __future__ import annotations

import inspect
import itertools
import re
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Awaitable,
    Generator,
    Literal,
    Sequence,
    Union,
)

from psqlpy.exceptions import Error, InterfaceError

if TYPE_CHECKING:
    from psqlpy._psqlpy import Connection as _RawConnection

__all__ = ["CopyMethods", "CopyOut", "copy_records_to_table", "binary_copy_to_table",
           "query_out_sql", "table_out_sql", "CHUNK_SIZE"]

# the C connection's COPY steps (OP_COPY_* in pyext/src/pyext.h)
_START, _PUT, _END, _GET, _ABORT = range(5)

CHUNK_SIZE = 256 * 1024
_BATCH_ROWS = 512  # rows handed to the encoder per call

CopyFormat = Literal["text", "csv", "binary"]
CopySource = Union[bytes, bytearray, memoryview, Any]

_FORMATS = ("text", "csv", "binary")


def quote_name(name: Any, what: str) -> str:
    """``name`` as a quoted SQL identifier (embedded quotes doubled)."""
    if not isinstance(name, str) or not name:
        raise InterfaceError(f"{what} must be a non-empty str, got {name!r}")
    if "\x00" in name:
        raise InterfaceError(f"{what} must not contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


def _qualified(table_name: str, schema_name: str | None) -> str:
    table = quote_name(table_name, "table_name")
    if schema_name is None:
        return table
    return quote_name(schema_name, "schema_name") + "." + table


def _column_list(columns: Sequence[str] | None) -> tuple[str, ...] | None:
    if columns is None:
        return None
    if isinstance(columns, str):
        raise InterfaceError("columns must be a sequence of column names, not a str")
    cols = tuple(columns)
    for c in cols:
        quote_name(c, "a column name")
    if not cols:
        raise InterfaceError("columns must name at least one column")
    return cols


def copy_table_sql(table_name: str, columns: Sequence[str] | None,
                   schema_name: str | None, direction: str, options: str) -> str:
    """``COPY "schema"."table" ("a", ...) FROM STDIN|TO STDOUT (options)``."""
    sql = "COPY " + _qualified(table_name, schema_name)
    cols = _column_list(columns)
    if cols is not None:
        sql += " (" + ", ".join(quote_name(c, "a column name") for c in cols) + ")"
    return f"{sql} {direction} ({options})"


# -- column types ---------------------------------------------------------------

_TYPES_SQL = (
    "SELECT a.attname::text, a.atttypid::int8 FROM pg_catalog.pg_attribute a "
    "WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped "
    "AND a.attgenerated = '' ORDER BY a.attnum"
)


async def _column_types(raw: _RawConnection, table_name: str, schema_name: str | None,
                        columns: tuple[str, ...] | None
                        ) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The type OIDs and names of the COPY's columns, looked up once per
    (connection, table, columns) and kept on the connection."""
    cache: dict[Any, Any] = raw._copy_cache
    key = (schema_name, table_name, columns)
    hit = cache.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    res = await raw.execute(_TYPES_SQL, [_qualified(table_name, schema_name)])
    table = dict(res.result(as_tuple=True))
    names = columns if columns is not None else tuple(table)
    missing = [c for c in names if c not in table]
    if missing:
        raise InterfaceError(
            f"table {_qualified(table_name, schema_name)} has no column "
            + ", ".join(repr(m) for m in missing))
    found = (tuple(int(table[c]) for c in names), tuple(names))
    if len(cache) >= 64:
        cache.clear()
    cache[key] = found
    return found


# -- in ----------------------------------------------------------------------------

async def _abort(raw: _RawConnection, why: str) -> None:
    """End the COPY in progress without committing anything; errors of the
    abort itself (the server's "COPY ... failed" answer, a connection
    already closed) are expected."""
    try:
        await raw._copy(_ABORT, why[:200])
    except Error:
        pass


def _copy_dir(raw: _RawConnection) -> int:
    """1 in a COPY FROM STDIN, 2 in a COPY TO STDOUT, else 0 (also when
    the connection is closed)."""
    try:
        return raw._copy_dir()
    except Error:
        return 0


def _sync_rows(records: Any) -> Any:
    """``records`` checked as a plain iterable of rows."""
    if isinstance(records, (str, bytes)) or not hasattr(records, "__iter__"):
        raise InterfaceError(
            f"records must be an iterable or async iterable of rows, got "
            f"{type(records).__name__}")
    return records


async def _rows(records: Any) -> AsyncIterator[list[Any]]:
    """Batches of rows from an async iterable."""
    batch: list[Any] = []
    async for row in records:
        batch.append(row)
        if len(batch) >= _BATCH_ROWS:
            yield batch
            batch = []
    if batch:
        yield batch


async def _copy_in(raw: _RawConnection, sql: str, feed: AsyncIterator[None],
                   invalidate: Any = None) -> int:
    """Run a COPY FROM STDIN whose data `feed` sends (each step awaits its
    puts); abort on any failure on our side."""
    await raw._copy(_START, sql)
    try:
        async for _ in feed:
            pass
        n: int = await raw._copy(_END, None)
        return n
    except BaseException as e:
        if not isinstance(e, Error) or _copy_dir(raw) == 1:
            await _abort(raw, f"COPY aborted by the client: {type(e).__name__}")
        if isinstance(e, Error) and invalidate is not None:
            invalidate()
        raise
    finally:
        await _close_feed(feed)


async def _close_feed(feed: AsyncIterator[Any]) -> None:
    aclose = getattr(feed, "aclose", None)
    if aclose is not None:
        await aclose()


async def copy_records_to_table(raw: _RawConnection, table_name: str, records: Any,
                                columns: Sequence[str] | None = None,
                                schema_name: str | None = None) -> int:
    """Binary COPY of ``records`` (rows: sequences of values) into the
    table; the number of rows copied."""
    cols = _column_list(columns)
    oids, names = await _column_types(raw, table_name, schema_name, cols)
    sql = copy_table_sql(table_name, names, schema_name, "FROM STDIN", "FORMAT binary")

    async def feed() -> AsyncIterator[None]:
        raw._copy_columns(oids, names)  # the COPY has started
        first = 0
        if hasattr(records, "__aiter__"):
            async for batch in _rows(records):
                buffered = raw._copy_encode(batch, first, names)
                first += len(batch)
                if buffered >= CHUNK_SIZE:
                    await raw._copy(_PUT, None)
                yield None
        else:
            # a plain iterable: the C encoder takes the rows itself, a
            # buffer's worth per call, with no Python code per row
            it = iter(_sync_rows(records))
            while True:
                taken, buffered = raw._copy_encode_iter(it, first, names, CHUNK_SIZE)
                first += taken
                if buffered < CHUNK_SIZE:
                    break  # the iterator is exhausted
                await raw._copy(_PUT, None)
                yield None
        # what is still buffered goes with the end (END sends it first)

    def invalidate() -> None:
        raw._copy_cache.pop((schema_name, table_name, cols), None)

    return await _copy_in(raw, sql, feed(), invalidate)


def _read_chunks(source: Any) -> AsyncIterator[Any]:
    """The data of a binary source, in chunks of at most CHUNK_SIZE."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        view = memoryview(source).cast("B")

        async def slices() -> AsyncIterator[Any]:
            for i in range(0, len(view), CHUNK_SIZE):
                yield view[i:i + CHUNK_SIZE]
        return slices()
    read = getattr(source, "read", None)
    if read is None:
        try:
            view = memoryview(source).cast("B")  # any other buffer
        except TypeError:
            raise InterfaceError(
                "source must be bytes, bytearray, a buffer or a file-like object with "
                f"read(), got {type(source).__name__}") from None
        return _read_chunks(view)

    async def reads() -> AsyncIterator[Any]:
        while True:
            data = read(CHUNK_SIZE)
            if inspect.isawaitable(data):
                data = await data
            if not data:
                return
            if isinstance(data, str):
                raise InterfaceError("source.read() returned str; open the file in binary mode")
            yield data
    return reads()


async def binary_copy_to_table(raw: _RawConnection, source: CopySource, table_name: str,
                               columns: Sequence[str] | None = None,
                               schema_name: str | None = None) -> int:
    """COPY ... FROM STDIN (FORMAT binary) of data in PostgreSQL's binary
    COPY format; the number of rows copied."""
    sql = copy_table_sql(table_name, columns, schema_name, "FROM STDIN", "FORMAT binary")
    chunks = _read_chunks(source)

    async def feed() -> AsyncIterator[None]:
        async for data in chunks:
            await raw._copy(_PUT, data)
            yield None

    try:
        return await _copy_in(raw, sql, feed())
    finally:
        await _close_feed(chunks)


# -- out ---------------------------------------------------------------------------

def _out_options(format: str) -> str:
    if format not in _FORMATS:
        raise InterfaceError(f"format must be one of {', '.join(_FORMATS)}; got {format!r}")
    return f"FORMAT {format}"


class CopyOut:
    """A COPY TO STDOUT, started when used.

    ``await`` it to write every chunk to ``output`` (its ``write()`` may be
    sync or async) and get the number of rows; or, made with
    ``output=None``, iterate it: ``async for chunk in ...`` gives ``bytes``
    chunks (``rows`` holds the count afterwards); ``async with`` it to be
    sure a loop left early stops the COPY at once.  The next chunk is read
    from the server only when the previous one was written or taken.  A
    COPY stopped early (a loop left, a cancelled task) is cancelled on the
    server and what it had sent is dropped: the connection stays usable
    (inside a transaction block, the transaction is then failed, as by any
    cancelled statement).
    """

    __slots__ = ("_raw", "_sql", "_output", "_used", "_gen", "_params", "_format", "rows")

    def __init__(self, raw: _RawConnection, sql: str, output: Any,
                 params: tuple[str, Sequence[Any]] | None = None,
                 format: str = "text") -> None:
        self._raw = raw
        self._sql = sql
        self._params = params  # (query, parameters) to render first
        self._format = format
        self._output = output
        self._used = False
        self._gen: Any = None
        self.rows: int | None = None  # rows copied, once the COPY is over

    async def __aenter__(self) -> AsyncIterator[bytes]:
        self._gen = self.__aiter__()
        return self._gen  # type: ignore[no-any-return]

    async def __aexit__(self, *exc_info: object) -> None:
        """Stops a COPY not read to the end (the connection stays usable)."""
        if self._gen is not None:
            await _close_feed(self._gen)

    def _take(self) -> None:
        if self._used:
            raise InterfaceError("this COPY was already run")
        self._used = True

    async def _chunks(self) -> AsyncIterator[bytes]:
        raw = self._raw
        if self._params is not None:
            query, params = self._params
            self._sql = query_out_sql(await render_params(raw, query, params), self._format)
        await raw._copy(_START, self._sql)
        try:
            while True:
                chunk = await raw._copy(_GET)
                if isinstance(chunk, int):
                    self.rows = chunk
                    return
                yield chunk
        except BaseException as e:
            # cancelled, or the consumer left the loop (GeneratorExit):
            # stop the COPY so that the connection is usable again
            if not isinstance(e, Error) or _copy_dir(raw) == 2:
                await _abort(raw, "COPY cancelled by the client")
            raise

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._output is not None:
            raise InterfaceError("a COPY with an output is awaited, not iterated")
        self._take()
        return self._chunks()

    async def _run(self) -> int:
        if self._output is None:
            raise InterfaceError("a COPY without an output is iterated with async for, "
                                 "not awaited")
        write = getattr(self._output, "write", None)
        if write is None:
            raise InterfaceError("output must have a write() method")
        self._take()
        gen = self._chunks()
        try:
            async for chunk in gen:
                r = write(chunk)
                if inspect.isawaitable(r):
                    await r
        finally:
            await _close_feed(gen)
        return self.rows if self.rows is not None else 0

    def __await__(self) -> Generator[Any, None, int]:
        return self._run().__await__()


def query_out_sql(sql: str, format: str) -> str:
    if not isinstance(sql, str):
        raise InterfaceError(f"the query must be a str, got {type(sql).__name__}")
    return f"COPY ({sql}) TO STDOUT ({_out_options(format)})"


_probe_ids = itertools.count(1)
_PLACEHOLDER = re.compile(r"\$(\d+)\b")


async def render_params(raw: _RawConnection, sql: str, params: Sequence[Any]) -> str:
    """``sql`` with its ``$n`` placeholders replaced by SQL literals of
    ``params``: COPY cannot bind parameters.  The server gives the types it
    infers for them (a PREPARE, read back from pg_prepared_statements) and
    makes the literals itself (``quote_nullable($n::type::text)``, the
    values bound as for any statement), so nothing is quoted here."""
    if isinstance(params, (str, bytes)) or not isinstance(params, Sequence):
        raise InterfaceError("params must be a sequence of values")
    name = f"psqlpy_copy_probe_{next(_probe_ids)}"
    await raw.execute(f"PREPARE {name} AS {sql}")
    try:
        res = await raw.fetch_row(
            "SELECT parameter_types::text[] AS t FROM pg_catalog.pg_prepared_statements "
            "WHERE name = $1", [name])
    finally:
        await raw.execute(f"DEALLOCATE {name}")
    types = res.result()["t"] or []
    if len(types) != len(params):
        raise InterfaceError(f"the query takes {len(types)} parameter(s), "
                             f"{len(params)} given")
    if not types:
        return sql
    cols = ", ".join(f"quote_nullable(${i}::{t}::text)" for i, t in enumerate(types, 1))
    literals = (await raw.fetch_row(f"SELECT {cols}", list(params))).result(as_tuple=True)

    def literal(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return str(literals[n - 1]) if 1 <= n <= len(literals) else m.group(0)
    return _PLACEHOLDER.sub(literal, sql)


def table_out_sql(table_name: str, columns: Sequence[str] | None, schema_name: str | None,
                  format: str) -> str:
    return copy_table_sql(table_name, columns, schema_name, "TO STDOUT", _out_options(format))


class CopyMethods:
    """The COPY methods of Connection and Transaction (both APIs).

    ``_copy_raw()`` gives the C connection to run on (checking the object
    is usable); ``_copy_error()`` re-makes an error as the API's class."""

    __slots__ = ()

    def _copy_raw(self) -> _RawConnection:  # pragma: no cover - overridden
        raise NotImplementedError

    def _copy_error(self, exc: Error) -> Error:
        return exc

    async def copy_records_to_table(self, table_name: str, records: Any,
                                    columns: Sequence[str] | None = None,
                                    schema_name: str | None = None) -> int:
        """Copy ``records`` (an iterable or async iterable of rows, each a
        sequence of values in column order) into the table with a binary
        COPY; each value is encoded for its column's type.  Returns the
        number of rows copied.  A row of the wrong length or a value the
        column's type refuses raises ``ParameterError`` naming the row
        (0-based) and the column, and nothing is copied."""
        return await self._copy_in_api(copy_records_to_table(
            self._copy_raw(), table_name, records, columns, schema_name))

    async def _copy_in_api(self, run: Awaitable[int]) -> int:
        """Await a COPY in, its errors re-made as the API's classes."""
        try:
            return await run
        except Error as e:
            new = self._copy_error(e)
            if new is e:
                raise
            raise new from None

    async def binary_copy_to_table(self, source: CopySource, table_name: str,
                                   columns: Sequence[str] | None = None,
                                   schema_name: str | None = None) -> int:
        """``COPY table FROM STDIN (FORMAT binary)`` of ``source``: bytes,
        bytearray, a buffer, or a file-like object whose ``read(n)`` is
        sync or async, holding PostgreSQL's binary COPY format.  Returns
        the number of rows copied."""
        return await self._copy_in_api(binary_copy_to_table(
            self._copy_raw(), source, table_name, columns, schema_name))

    def copy_from_query(self, query: str, params: Sequence[Any] | None = None,
                        output: Any = None, format: CopyFormat = "text") -> CopyOut:
        """``COPY (query) TO STDOUT`` in ``format`` ("text", "csv" or
        "binary").  With ``output`` (``write()`` sync or async), await it:
        the number of rows.  Without, iterate it: ``bytes`` chunks.
        ``params`` fill ``$1``, ``$2``, ... : COPY cannot bind parameters,
        so the server turns each value into a literal of the type it infers
        for it (two extra round trips) and the query runs with those."""
        return CopyOut(self._copy_raw(), query_out_sql(query, format), output,
                       (query, params) if params else None, format)

    def copy_from_table(self, table_name: str, columns: Sequence[str] | None = None,
                        schema_name: str | None = None, output: Any = None,
                        format: CopyFormat = "text") -> CopyOut:
        """``COPY table (columns) TO STDOUT``; see ``copy_from_query``."""
        return CopyOut(self._copy_raw(),
                       table_out_sql(table_name, columns, schema_name, format), output)
