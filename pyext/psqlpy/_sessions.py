"""Session setup and visibility: the Python half of pyext/src/sessions.c.

The extension hands notices and finished statements to the event loop
(``loop.call_soon``) and calls the functions below from there, never from
inside the driver's reading; ``init=`` runs as a task.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Callable, Optional

__all__ = ["Notice", "QueryEvent"]

logger = logging.getLogger("psqlpy")

# the server's (non-localized) severity -> logging level
_LEVELS = {
    "DEBUG": logging.DEBUG,
    "LOG": logging.INFO,
    "INFO": logging.INFO,
    "NOTICE": logging.INFO,
    "WARNING": logging.WARNING,
}


@dataclass(frozen=True)
class Notice:
    """A notice or warning the server sent (``RAISE NOTICE``, a ``WARNING``).

    The fields are the server's; ``None`` when it did not send one.
    ``severity_nonlocalized`` is ``"NOTICE"``, ``"WARNING"``, ``"INFO"``,
    ``"LOG"`` or ``"DEBUG"`` whatever the server's language.
    """

    severity: Optional[str]
    severity_nonlocalized: Optional[str]
    sqlstate: Optional[str]
    message: Optional[str]
    detail: Optional[str]
    hint: Optional[str]
    context: Optional[str]
    position: Optional[str]
    schema: Optional[str]
    table: Optional[str]
    column: Optional[str]
    datatype: Optional[str]
    constraint: Optional[str]

    @property
    def level(self) -> int:
        """The ``logging`` level the notice is logged at."""
        sev = self.severity_nonlocalized or self.severity or ""
        return _LEVELS.get(sev, logging.INFO)


@dataclass(frozen=True)
class QueryEvent:
    """One statement run on a pool's connection, as query hooks see it.

    ``sql`` is the statement's text (a tuple of texts for a pipeline);
    ``parameters`` how many parameters it had (per row for
    ``execute_many``); ``duration`` seconds from sending it to its
    outcome; ``rows`` the rows it returned or changed (``None`` when the
    server did not say); ``error`` the exception it raised, or ``None``.
    """

    sql: Any
    parameters: int
    duration: float
    rows: Optional[int]
    error: Optional[BaseException]


def _dispatch_notice(callback: Optional[Callable[[Notice], Any]],
                     fields: dict[str, Optional[str]]) -> None:
    notice = Notice(**fields)
    if logger.isEnabledFor(notice.level):
        logger.log(notice.level, "%s: %s", notice.severity or "NOTICE", notice.message,
                   extra={"pg_notice": notice})
    if callback is not None:
        try:
            callback(notice)
        except Exception:
            logger.exception("psqlpy: the on_notice callback raised")


def _dispatch_query(hooks: tuple[Callable[[QueryEvent], Any], ...], sql: Any,
                    nparams: int, duration: float, rows: int,
                    error: Optional[BaseException]) -> None:
    event = QueryEvent(sql, nparams, duration, rows if rows >= 0 else None, error)
    for hook in hooks:
        try:
            hook(event)
        except Exception:
            logger.exception("psqlpy: a query hook raised")


_running: set[asyncio.Task[None]] = set()


async def _init_one(pool: Any, rc: Any, conn: Any, init: Callable[[Any], Any]) -> None:
    error: Optional[BaseException] = None
    try:
        await init(conn)
    except BaseException as exc:  # noqa: B036 - handed on to the waiting caller
        error = exc
    finally:
        conn.close()
    pool._init_done(rc, error)


def _run_init(loop: asyncio.AbstractEventLoop, pool: Any, rc: Any, conn: Any,
              init: Callable[[Any], Any]) -> None:
    task = loop.create_task(_init_one(pool, rc, conn, init))
    _running.add(task)
    task.add_done_callback(_running.discard)
