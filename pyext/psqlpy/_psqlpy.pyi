"""Type stubs for the C extension psqlpy._psqlpy."""

from collections.abc import Awaitable, Coroutine, Iterator, Mapping, Sequence
from enum import Enum
from typing import Any, Callable, Generator, Generic, Literal, TypeVar, overload

from psqlpy._enums import ConnRecyclingMethod
from psqlpy._sessions import Notice, QueryEvent

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)
_R = TypeVar("_R")

_Decoders = Mapping[str, Callable[[bytes], Any]]

allocator: str
"""Name of the allocator behind driver buffers: "jemalloc" or "system"."""

class PendingQuery(Coroutine[Any, Any, _T_co], Generic[_T_co]):
    """A database operation already started; await it for its result.

    ``await`` gives the operation's value (PendingQuery[QueryResult] gives a
    QueryResult); it is also accepted by asyncio.create_task() and gather().
    """

    @property
    def done(self) -> bool:
        """Whether the operation has finished."""
    def __await__(self) -> Generator[Any, None, _T_co]: ...
    def send(self, value: Any, /) -> Any:
        """Coroutine protocol: resume the operation."""
    def throw(self, typ: Any, val: Any = ..., tb: Any = ..., /) -> Any:
        """Coroutine protocol: raise an exception into the operation (cancellation
        arrives this way).
        """
    def close(self) -> None:
        """Coroutine protocol: abandon the operation."""

class Record:
    """One row of a result: its values by position, by column name or by slice.

    ``r[0]``, ``r[-1]``, ``r["name"]`` (KeyError when no column has that
    name; with duplicate names, the first such column), ``r[1:3]`` (a list);
    iterating gives the values, ``"name" in r`` looks at the column names.
    A Record equals another with the same column names and equal values,
    and a tuple of equal values; it hashes as that tuple.  The Records of one
    result share their column names, so each costs one object plus its values.
    """

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, key: int | str, /) -> Any: ...
    @overload
    def __getitem__(self, key: slice, /) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __contains__(self, key: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def get(self, key: str, default: Any = None, /) -> Any:
        """The value of column key (the first one of that name), or default."""
    def keys(self) -> list[str]:
        """The column names, in order, as a list."""
    def values(self) -> list[Any]:
        """The values, in column order, as a list."""
    def items(self) -> list[tuple[str, Any]]:
        """The (column name, value) pairs, in column order, as a list."""

class QueryResult:
    """The result of a statement: its rows, decoded when asked for.

    ``len(res)``, ``res[i]`` (negative too), ``res[i:j]`` and iteration give
    the rows as the dicts ``result()`` gives.
    """

    @overload
    def result(
        self, *, custom_decoders: _Decoders | None = None, as_tuple: Literal[False] | None = None
    ) -> list[dict[str, Any]]: ...
    @overload
    def result(
        self, *, custom_decoders: _Decoders | None = None, as_tuple: Literal[True]
    ) -> list[tuple[Any, ...]]: ...
    @overload
    def result(
        self, *, custom_decoders: _Decoders | None = None, as_tuple: bool | None = None
    ) -> list[dict[str, Any]] | list[tuple[Any, ...]]:
        """The rows as a list of dicts (column name -> value), or of tuples with
        as_tuple=True. custom_decoders maps column names to callables that get
        the column's cells as the server sent them (bytes; NULL stays None).
        """
    def as_class(self, as_class: Callable[..., _R]) -> list[_R]:
        """The rows as a list of as_class(**row)."""
    def row_factory(
        self, row_factory: Callable[[dict[str, Any]], _R], custom_decoders: _Decoders | None = None
    ) -> list[_R]:
        """The rows as a list of row_factory(row), row being the dict result() gives."""
    def records(self) -> list[Record]:
        """The rows as a list of Record."""
    def __iter__(self) -> Iterator[dict[str, Any]]: ...
    @overload
    def __getitem__(self, index: int, /) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice, /) -> list[dict[str, Any]]: ...
    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in order."""
    @property
    def _column_tables(self) -> tuple[int | None, ...]: ...
    _profile: int
    """The decoding profile: 0 (PSQLPool's) or 1 (psqlpy 0.13's, set by the
    ConnectionPool side of the package)."""
    @property
    def status(self) -> str:
        """The command tag, e.g. 'INSERT 0 1'."""
    @property
    def rows_affected(self) -> int | None:
        """Rows the command affected or returned, or None."""
    def __len__(self) -> int: ...

class SingleQueryResult:
    """The first row of a statement's result."""

    _profile: int

    @overload
    def result(
        self, *, custom_decoders: _Decoders | None = None, as_tuple: Literal[False] | None = None
    ) -> dict[str, Any]: ...
    @overload
    def result(
        self, *, custom_decoders: _Decoders | None = None, as_tuple: Literal[True]
    ) -> tuple[Any, ...]: ...
    @overload
    def result(
        self, *, custom_decoders: _Decoders | None = None, as_tuple: bool | None = None
    ) -> dict[str, Any] | tuple[Any, ...]:
        """The row as a dict (column name -> value), or a tuple with as_tuple=True.
        custom_decoders as in QueryResult.result().
        """
    def as_class(self, as_class: Callable[..., _R]) -> _R:
        """The row as as_class(**row)."""
    def row_factory(
        self, row_factory: Callable[[dict[str, Any]], _R], custom_decoders: _Decoders | None = None
    ) -> _R:
        """row_factory(row), row being the dict result() gives."""
    @property
    def columns(self) -> tuple[str, ...]:
        """Column names, in order."""
    @property
    def status(self) -> str:
        """The command tag, e.g. 'INSERT 0 1'."""
    @property
    def rows_affected(self) -> int | None:
        """Rows the command affected or returned, or None."""

_Params = Sequence[Any] | None

_Timeout = float | None

class Connection:
    """A connection borrowed from a pool; give it back with close() or async with."""

    def execute(
        self,
        querystring: str,
        parameters: _Params = None,
        timeout: _Timeout = None,
        prepared: bool = True,
    ) -> PendingQuery[QueryResult]:
        """Run one statement; awaitable returning a QueryResult. prepared=False: the
        unnamed statement, nothing kept.
        """
    def fetch_row(
        self,
        querystring: str,
        parameters: _Params = None,
        timeout: _Timeout = None,
        prepared: bool = True,
    ) -> PendingQuery[SingleQueryResult]:
        """The first row as a SingleQueryResult (awaitable); NoRowsError when there
        is none.
        """
    def execute_many(
        self, querystring: str, parameters: Sequence[Sequence[Any]] | None = None,
        timeout: _Timeout = None,
        prepared: bool = True,
    ) -> PendingQuery[None]:
        """Run one statement once per parameter list, pipelined with a single Sync
        (awaitable).
        """
    def pipeline(
        self,
        queries: Sequence[tuple[str, _Params]],
        timeout: _Timeout = None,
        prepared: bool = True,
    ) -> PendingQuery[list[QueryResult]]:
        """Run [(querystring, parameters), ...] in one pipeline; awaitable returning
        a list of QueryResult.
        """
    def _simple(self, sql: str, timeout: _Timeout = None, /) -> PendingQuery[None]: ...
    # COPY steps and the binary row encoder (psqlpy/_copy.py strings them together)
    def _copy(self, step: int, arg: Any = None, /) -> PendingQuery[Any]: ...
    def _copy_columns(self, oids: tuple[int, ...], names: tuple[str, ...], /) -> None: ...
    def _copy_encode(self, rows: list[Any], first_index: int, names: tuple[str, ...], /) -> int: ...
    def _copy_encode_iter(self, rows: Iterator[Any], first_index: int, names: tuple[str, ...],
                          limit: int, /) -> tuple[int, int]: ...
    def _copy_dir(self) -> int: ...
    # LISTEN/NOTIFY (psqlpy/_listener.py): a list of (process_id, channel, payload)
    # per I/O step, None once when the connection is lost
    def _set_notify_callback(
        self, callback: Callable[[list[tuple[int, str, str]] | None], object] | None, /
    ) -> None: ...
    @property
    def _copy_cache(self) -> dict[Any, Any]: ...
    # Gives the connection back at once; awaiting the result is optional.
    def close(self) -> Awaitable[None]:
        """Give the connection back to the pool (may be awaited)."""
    @property
    def closed(self) -> bool:
        """Whether the connection can no longer be used."""
    @property
    def transaction_status(self) -> str:
        """'idle', 'active', 'intrans', 'inerror' or 'unknown'."""
    def __aenter__(self: _T) -> PendingQuery[_T]:
        """Awaitable returning the connection itself."""
    def __aexit__(self, *exc: object) -> PendingQuery[Literal[False]]:
        """Give the connection back to the pool; awaitable returning False."""

class Pool:
    """A pool of connections to one server or several (the C base of psqlpy.PSQLPool)."""

    def __init__(
        self,
        dsn: str | None = None,
        username: str | None = None,
        password: str | None = None,
        host: str | Sequence[str] | None = None,
        port: int | str | Sequence[int] | None = None,
        db_name: str | None = None,
        max_db_pool_size: int | None = None,
        conn_recycling_method: ConnRecyclingMethod | None = None,
        sslmode: str | None = None,
        sslrootcert: str | None = None,
        sslcert: str | None = None,
        sslkey: str | None = None,
        command_timeout: float | None = None,
        target_session_attrs: str | Enum | None = None,
        load_balance_hosts: str | Enum | None = None,
        connect_timeout: float | None = None,
        statement_cache_size: int | None = None,
        auto_pipeline: bool | None = None,
        server_settings: Mapping[str, str] | None = None,
        init: Callable[[Any], Awaitable[object]] | None = None,
        on_notice: Callable[[Notice], object] | None = None,
        min_size: int | None = None,
        max_lifetime: float | None = None,
        max_idle: float | None = None,
    ) -> None: ...
    def startup(self) -> PendingQuery[None]:
        """Start the pool on the running event loop and open its first connection
        (awaitable).
        """
    def execute(
        self,
        querystring: str,
        parameters: _Params = None,
        timeout: _Timeout = None,
        prepared: bool = True,
    ) -> PendingQuery[QueryResult]:
        """Run one statement on a pooled connection; awaitable returning a
        QueryResult. prepared=False: the unnamed statement, nothing kept.
        """
    def fetch_row(
        self,
        querystring: str,
        parameters: _Params = None,
        timeout: _Timeout = None,
        prepared: bool = True,
    ) -> PendingQuery[SingleQueryResult]:
        """The first row as a SingleQueryResult (awaitable); NoRowsError when there
        is none.
        """
    def connection(self, timeout: _Timeout = None) -> PendingQuery[Connection]:
        """Borrow a connection (awaitable returning a Connection); timeout bounds the
        wait for a free one.
        """
    def close(self, timeout: float | None = None) -> PendingQuery[None]:
        """Close the pool: idle connections now, lent ones when they come back
        (awaitable); with a timeout, awaiting it waits for them up to timeout
        seconds, then closes them.
        """
    def resize(self, new_max: int, /) -> None:
        """Change max_db_pool_size: more room at once; when smaller, idle
        connections beyond it close now, lent ones when they come back.
        """
    def status(self) -> dict[str, int]:
        """A dict with max_size, min_size, size, idle, lent, waiting, opened, closed
        and failed.
        """
    def add_query_hook(self, hook: Callable[[QueryEvent], object], /) -> None:
        """Call hook(event) after each statement on this pool's connections (a
        psqlpy.QueryEvent).
        """
    def remove_query_hook(self, hook: Callable[[QueryEvent], object], /) -> None:
        """Stop calling a hook added with add_query_hook()."""
    def _init_done(self, rc: object, error: BaseException | None, /) -> None: ...
    def _money_int_cents(self) -> None: ...
    @property
    def closed(self) -> bool:
        """Whether close() was called."""

def load_codec_plugin(path: str, /) -> None:
    """Load a codec plugin (a shared object) into the process. Its codecs serve
    statements prepared afterwards.
    """
def has_codec(oid: int, /) -> bool:
    """Whether a codec is registered for the type OID."""
def _load_codec_dir(path: str, /) -> None: ...
def _register_codec(type_name: str, encode: Callable[[Any], str | bytes] | None, decode: Callable[[Any], Any] | None, binary: bool, /) -> None: ...
def _set_connection_class(cls: type[Connection], /) -> None: ...
