"""Shared pytest set-up for psqlpy's Python tests.

Fixtures:
  dsn        (session) the server to test against: $PSQLPY_TEST_DSN, or a
             throwaway cluster started for this session and removed after it.
  dsn_parts  (session) the same server as PSQLPool keyword arguments:
             {"host", "port", "username", "password", "db_name"}.
  cluster    (module) a throwaway cluster of the test module's own, whatever
             PSQLPY_TEST_DSN says: tests may stop, restart or signal it.

Event loop: pytest-asyncio runs async tests and fixtures (asyncio_mode =
auto, see pyproject.toml).  The loop is the default asyncio loop, or uvloop
for the whole run with ``--loop=uvloop`` or PSQLPY_TEST_LOOP=uvloop.
"""

from __future__ import annotations

import asyncio
import os

import pytest

import pgcluster

LOOPS = ("asyncio", "uvloop")
_loop_key = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--loop", choices=LOOPS, default=None,
        help="event loop for async tests (default: $PSQLPY_TEST_LOOP or asyncio)")


def selected_loop(config: pytest.Config) -> str:
    """The loop this run uses: --loop, else $PSQLPY_TEST_LOOP, else asyncio."""
    name = config.getoption("--loop") or os.environ.get("PSQLPY_TEST_LOOP") or "asyncio"
    if name not in LOOPS:
        raise pytest.UsageError(f"PSQLPY_TEST_LOOP={name!r}: expected one of {LOOPS}")
    return name


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_loop_key] = selected_loop(config)
    if config.stash[_loop_key] == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError as e:   # asked for explicitly: never fall back silently
            raise pytest.UsageError(f"uvloop requested but not importable: {e}") from e


def pytest_report_header(config: pytest.Config) -> str:
    dsn = os.environ.get(pgcluster.ENV_DSN)
    server = "$PSQLPY_TEST_DSN" if dsn else "throwaway cluster (tests/py/pgcluster.py)"
    return f"psqlpy: event loop {config.stash[_loop_key]}, server {server}"


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item):
    """Every async test and fixture runs on the selected loop."""
    if config.stash[_loop_key] == "uvloop":
        import uvloop
        return {"uvloop": uvloop.new_event_loop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture(scope="session")
def loop_name(pytestconfig: pytest.Config) -> str:
    """"asyncio" or "uvloop": the loop async tests run on."""
    return pytestconfig.stash[_loop_key]


@pytest.fixture(scope="session")
def dsn():
    """postgresql:// DSN of the server under test (password auth, 127.0.0.1)."""
    url, cluster = pgcluster.server_for_tests()
    try:
        yield url
    finally:
        if cluster is not None:
            cluster.stop()


@pytest.fixture(scope="session")
def dsn_parts(dsn: str) -> dict:
    """The DSN as PSQLPool(username=, password=, host=, port=, db_name=) kwargs."""
    return pgcluster.dsn_parts(dsn)


@pytest.fixture(scope="module")
def cluster():
    """A throwaway cluster of this test module's own (stopped and deleted
    after it), whatever PSQLPY_TEST_DSN says."""
    with pgcluster.PgCluster() as c:
        yield c
