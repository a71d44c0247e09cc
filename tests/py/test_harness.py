"""The test harness itself: throwaway clusters, DSN handling, loop selection.

These talk to PostgreSQL through psql from the server's own bin directory,
so they need nothing from psqlpy and hold even before the extension builds.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile

import pytest

import pgcluster

HERE = os.path.dirname(os.path.abspath(__file__))


def psql(conninfo: str, sql: str, password: str | None = None) -> subprocess.CompletedProcess:
    """Run one statement with psql (-w: never prompt); returns the process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGCONNECT_TIMEOUT"] = "10"
    if password is not None:
        env["PGPASSWORD"] = password
    return subprocess.run(
        [os.path.join(pgcluster.find_bindir(), "psql"), "-X", "-w", "-A", "-t",
         "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
        env=env, capture_output=True, text=True, timeout=60)


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_dsn_connects_with_its_password(cluster):
    r = psql(cluster.dsn, "select current_user, inet_server_addr(), "
                          "current_setting('server_encoding')")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "postgres|127.0.0.1|UTF8"


def test_wrong_password_is_refused(cluster):
    p = pgcluster.dsn_parts(cluster.dsn)
    bad = pgcluster.make_dsn("postgres", cluster.password + "x", "127.0.0.1",
                             p["port"], "postgres")
    r = psql(bad, "select 1")
    assert r.returncode != 0
    assert 'password authentication failed for user "postgres"' in r.stderr


def test_missing_password_is_refused_over_tcp_and_socket(cluster):
    for host in ("127.0.0.1", cluster.socket_dir):
        r = psql(f"host={host} port={cluster.port} user=postgres dbname=postgres",
                 "select 1")
        assert r.returncode != 0, host
        assert "no password supplied" in r.stderr, (host, r.stderr)


def test_unix_socket_with_password(cluster):
    r = psql(f"host={cluster.socket_dir} port={cluster.port} user=postgres dbname=postgres",
             "select inet_server_addr() is null", password=cluster.password)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "t"


def test_speed_settings_and_listen_address(cluster):
    r = psql(cluster.dsn, "select string_agg(name || '=' || setting, ',' order by name) "
                          "from pg_settings where name in "
                          "('fsync', 'listen_addresses', 'synchronous_commit')")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "fsync=off,listen_addresses=127.0.0.1,synchronous_commit=off"


def test_utf8_with_unicode_case_rules_and_code_point_order(cluster):
    # C.UTF-8: upper()/lower() know non-ASCII letters, sorting is by code point
    r = psql(cluster.dsn, "select upper('héllo') || ' ' || "
                          "string_agg(x, ',' order by x) from unnest(array['b', 'é', 'B', 'a']) x")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "HÉLLO B,a,b,é"


@pytest.mark.skipif(os.geteuid() != 0, reason="only as root is the server user switched")
def test_server_does_not_run_as_root(cluster):
    with open(os.path.join(cluster.datadir, "postmaster.pid")) as f:
        pid = int(f.readline())
    with open(f"/proc/{pid}/status") as f:
        uid_line = next(line for line in f if line.startswith("Uid:"))
    assert int(uid_line.split()[1]) != 0


def test_password_is_random_per_cluster(cluster):
    with pgcluster.PgCluster() as other:
        assert other.password != cluster.password
        assert other.port != cluster.port
        assert len(other.password) >= 20


def test_context_manager_stops_and_deletes():
    with pgcluster.PgCluster() as c:
        port, directory = c.port, c.directory
        assert listening(port)
    assert not os.path.exists(directory)
    assert not listening(port)


def test_cli_start_dsn_stop():
    # under the temp root, not tmp_path: the server's account must reach it
    d = tempfile.mkdtemp(prefix="psqlpy-cli-")
    cli = [sys.executable, os.path.join(HERE, "pgcluster.py")]
    start = subprocess.run(cli + ["start", "--dir", d], capture_output=True, text=True,
                           timeout=120)
    assert start.returncode == 0, start.stderr
    url = start.stdout.strip()
    try:
        assert url.startswith("postgresql://postgres:") and "@127.0.0.1:" in url
        again = subprocess.run(cli + ["dsn", "--dir", d], capture_output=True, text=True)
        assert again.stdout.strip() == url
        r = psql(url, "select 40 + 2")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "42"
        # a second start in the same directory is refused, the first keeps running
        dup = subprocess.run(cli + ["start", "--dir", d], capture_output=True, text=True)
        assert dup.returncode != 0 and "not empty" in dup.stderr
        assert psql(url, "select 1").returncode == 0
    finally:
        stop = subprocess.run(cli + ["stop", "--dir", d], capture_output=True, text=True,
                              timeout=120)
        shutil.rmtree(d, ignore_errors=True)
    assert stop.returncode == 0, stop.stderr
    assert not os.path.exists(d)
    assert not listening(pgcluster.dsn_parts(url)["port"])


def test_cli_stop_without_cluster_fails(tmp_path):
    r = subprocess.run([sys.executable, os.path.join(HERE, "pgcluster.py"), "stop",
                        "--dir", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 1
    assert "pgcluster.json missing" in r.stderr


def test_env_dsn_overrides_cluster(monkeypatch):
    monkeypatch.setenv("PSQLPY_TEST_DSN", "postgresql://u:p@db.invalid:6000/x")
    assert pgcluster.server_for_tests() == ("postgresql://u:p@db.invalid:6000/x", None)


@pytest.mark.parametrize("dsn, parts", [
    ("postgresql://alice:s%40cret@127.0.0.1:6543/app",
     dict(host="127.0.0.1", port=6543, username="alice", password="s@cret", db_name="app")),
    ("postgres://bob@localhost/db",
     dict(host="localhost", port=None, username="bob", password=None, db_name="db")),
    ("host=/tmp/sock port=5433 user=carol password=pw dbname=d1",
     dict(host="/tmp/sock", port=5433, username="carol", password="pw", db_name="d1")),
    (r"host=h user=dave password='a\'b c' dbname=x",
     dict(host="h", port=None, username="dave", password="a'b c", db_name="x")),
])
def test_dsn_parts(dsn, parts):
    assert pgcluster.dsn_parts(dsn) == parts


def test_session_dsn_answers(dsn, dsn_parts):
    r = psql(dsn, "select current_database()")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == dsn_parts["db_name"]
    assert set(dsn_parts) == {"host", "port", "username", "password", "db_name"}


async def test_async_tests_run_on_selected_loop(loop_name):
    loop = asyncio.get_running_loop()
    if loop_name == "uvloop":
        import uvloop
        assert isinstance(loop, uvloop.Loop)
    else:
        assert type(loop).__module__.startswith("asyncio.")
    await asyncio.sleep(0)


# ---- the installed package (pyproject.toml + the CMake install rules) ----------

def test_psqlpy_is_the_installed_wheel_not_the_source_tree():
    import sysconfig
    import psqlpy
    installed = os.path.realpath(os.path.dirname(psqlpy.__file__))
    assert os.path.dirname(installed) == os.path.realpath(sysconfig.get_paths()["platlib"])


def test_codec_plugins_are_installed_beside_the_extension():
    import psqlpy
    pkg = os.path.dirname(psqlpy.__file__)
    assert any(n.startswith("_psqlpy.") and n.endswith(".so") for n in os.listdir(pkg))
    plugins = set(os.listdir(os.path.join(pkg, "codecs")))
    assert {"int.so", "float.so", "bool.so", "text.so", "bytea.so"} <= plugins, plugins


def test_package_version_is_the_cmake_project_version():
    import importlib.metadata
    import re
    with open(os.path.join(os.path.dirname(os.path.dirname(HERE)), "CMakeLists.txt")) as f:
        cmake_version = re.search(r"project\(psqlpy\s+VERSION\s+([0-9.]+)", f.read()).group(1)
    assert importlib.metadata.version("psqlpy") == cmake_version
