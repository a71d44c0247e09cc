#!/usr/bin/env python3
"""Throwaway PostgreSQL clusters for the test suites, benchmarks and demo.

A cluster lives entirely in one directory: the data directory, the unix
socket, the server log and a small state file (``pgcluster.json``) that lets
a later ``stop`` find it again.  It listens on a free TCP port on 127.0.0.1
only and requires a password (scram-sha-256) for every connection; the
password is random per cluster.  The database is UTF-8 with the C.UTF-8
locale (Unicode case rules, code-point sort order).  Durability is switched
off for speed.

PostgreSQL refuses to run as root.  When this module runs as root, initdb
and the server run as an unprivileged system user (``postgres`` if it
exists, else one this module creates) and the cluster directory is handed to
that user.

As a library::

    with PgCluster() as pg:          # stopped and deleted on exit
        connect(pg.dsn)

    primary = PgCluster(replication=True); primary.start()
    standby = primary.make_standby()  # pg_basebackup -R, streaming
    primary.stop_server(); standby.promote()

As a command::

    python3 tests/py/pgcluster.py start --dir D   # prints the DSN, keeps running
    python3 tests/py/pgcluster.py dsn --dir D     # prints the DSN again
    python3 tests/py/pgcluster.py stop --dir D    # stops it and deletes D

``server_for_tests()`` is what test code should call: it honours PSQLPY_TEST_DSN
(a server someone else runs) before starting anything.

Standard library only, Python 3.9+.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Union
from urllib.parse import quote, unquote, urlsplit

ENV_DSN = "PSQLPY_TEST_DSN"
ENV_BINDIR = "PSQLPY_PG_BINDIR"
STATE_FILE = "pgcluster.json"
SERVICE_USER = "psqlpy-pg"   # created only when running as root without a postgres user

# Settings that trade durability for speed; a test cluster is thrown away.
SPEED_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "checkpoint_timeout": "30min",
    "max_wal_size": "1GB",
    "autovacuum": "off",
    "shared_buffers": "128MB",
    "max_connections": "200",
    "log_min_messages": "warning",
    "log_min_error_statement": "panic",
    "log_connections": "off",
    "logging_collector": "off",
}


# Added to a primary that standbys are made from (PgCluster(replication=True)).
REPLICATION_SETTINGS = {
    "wal_level": "replica",
    "max_wal_senders": "10",
    "wal_keep_size": "64MB",
    "hot_standby": "on",
    "wal_receiver_status_interval": "1s",
}


class ClusterError(RuntimeError):
    """Starting or stopping a cluster failed; the message says why."""


# --------------------------------------------------------------------------
# finding things

def _version_key(path: str) -> tuple:
    name = os.path.basename(os.path.dirname(path))
    return tuple(int(p) for p in re.findall(r"\d+", name)) or (0,)


def find_bindir() -> str:
    """The directory of initdb/pg_ctl/postgres to use.

    $PSQLPY_PG_BINDIR if set, else ``pg_config --bindir`` when it holds the
    server binaries, else the newest /usr/lib/postgresql/*/bin.
    """
    wanted = ("initdb", "pg_ctl", "postgres")

    def has_server(d: str) -> bool:
        return all(os.access(os.path.join(d, b), os.X_OK) for b in wanted)

    explicit = os.environ.get(ENV_BINDIR)
    if explicit:
        if not has_server(explicit):
            raise ClusterError(f"${ENV_BINDIR}={explicit} has no {'/'.join(wanted)}")
        return explicit
    candidates: List[str] = []
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True,
                             text=True, check=True).stdout.strip()
        if out:
            candidates.append(out)
    except (OSError, subprocess.CalledProcessError):
        pass
    # glob by hand: the newest major version first
    base = "/usr/lib/postgresql"
    if os.path.isdir(base):
        dirs = [os.path.join(base, v, "bin") for v in os.listdir(base)]
        candidates += sorted(dirs, key=_version_key, reverse=True)
    for d in candidates:
        if has_server(d):
            return d
    raise ClusterError("no PostgreSQL server binaries found (install postgresql, "
                       f"or set ${ENV_BINDIR})")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _service_user() -> Optional[pwd.struct_passwd]:
    """The account to run the server as: None when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", SERVICE_USER):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
    subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                    "--shell", "/usr/sbin/nologin", SERVICE_USER],
                   check=True, capture_output=True)
    return pwd.getpwnam(SERVICE_USER)


# --------------------------------------------------------------------------
# DSNs

def dsn_parts(dsn: str) -> Dict[str, Union[str, int, None]]:
    """Split a DSN into PSQLPool's keyword arguments.

    Returns {"host", "port", "username", "password", "db_name"}; missing
    pieces are None, port is an int.  Accepts postgresql:// / postgres:// URIs
    and libpq ``key=value`` strings (values may be single-quoted).
    """
    if re.match(r"^postgres(ql)?://", dsn):
        u = urlsplit(dsn)
        return {
            "host": unquote(u.hostname) if u.hostname else None,
            "port": u.port,
            "username": unquote(u.username) if u.username else None,
            "password": unquote(u.password) if u.password is not None else None,
            "db_name": unquote(u.path.lstrip("/")) or None,
        }
    kv: Dict[str, str] = {}
    for m in re.finditer(r"(\w+)\s*=\s*('((?:[^'\\]|\\.)*)'|\S+)", dsn):
        val = m.group(3) if m.group(3) is not None else m.group(2)
        kv[m.group(1)] = re.sub(r"\\(.)", r"\1", val) if m.group(3) is not None else val
    port = kv.get("port")
    return {
        "host": kv.get("host") or kv.get("hostaddr"),
        "port": int(port) if port else None,
        "username": kv.get("user"),
        "password": kv.get("password"),
        "db_name": kv.get("dbname"),
    }


def make_dsn(user: str, password: str, host: str, port: int, dbname: str) -> str:
    return (f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@{host}:{port}/{quote(dbname, safe='')}")


# --------------------------------------------------------------------------
# the cluster

class PgCluster:
    """One throwaway cluster in ``directory`` (a new temp dir if None).

    start() initdb's and starts it; stop() stops it and deletes the
    directory.  Used as a context manager it stops on leaving the block, and
    with ``stop_at_exit`` (the default) also when the process exits.
    """

    def __init__(self, directory: Optional[str] = None, *, user: str = "postgres",
                 dbname: str = "postgres", password: Optional[str] = None,
                 port: Optional[int] = None, stop_at_exit: bool = True,
                 settings: Optional[Dict[str, str]] = None,
                 replication: bool = False, bindir: Optional[str] = None) -> None:
        self.directory = os.path.abspath(directory) if directory else None
        self.user = user
        self.dbname = dbname
        self.password = password or secrets.token_urlsafe(18)
        self.port = port
        self.stop_at_exit = stop_at_exit
        self.settings = dict(SPEED_SETTINGS, **(REPLICATION_SETTINGS if replication else {}),
                             **(settings or {}))
        self.bindir: Optional[str] = bindir   # None: find_bindir() at start()
        self.os_user: Optional[str] = None   # account the server runs as
        self.running = False

    # -- paths ------------------------------------------------------------
    @property
    def datadir(self) -> str:
        return os.path.join(self._dir(), "data")

    @property
    def logfile(self) -> str:
        return os.path.join(self._dir(), "server.log")

    @property
    def socket_dir(self) -> str:
        return self._dir()

    @property
    def dsn(self) -> str:
        if self.port is None:
            raise ClusterError("cluster not started")
        return make_dsn(self.user, self.password, "127.0.0.1", self.port, self.dbname)

    def _dir(self) -> str:
        if self.directory is None:
            raise ClusterError("cluster has no directory yet")
        return self.directory

    # -- running commands as the server's account ----------------------------
    def _run(self, argv: List[str], *, check: bool = True, timeout: float = 120,
             env_extra: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C", HOME=self._dir(), **(env_extra or {}))
        kw: dict = {}
        if self.os_user is not None:
            kw = dict(user=self.os_user, group=pwd.getpwnam(self.os_user).pw_gid,
                      extra_groups=[])
        res = subprocess.run(argv, env=env, cwd=self._dir(), capture_output=True,
                             text=True, timeout=timeout, **kw)
        if check and res.returncode != 0:
            raise ClusterError(f"{os.path.basename(argv[0])} failed ({res.returncode}):\n"
                               f"{res.stdout}{res.stderr}".rstrip())
        return res

    def _bin(self, name: str) -> str:
        assert self.bindir is not None
        return os.path.join(self.bindir, name)

    def _log_tail(self, n: int = 30) -> str:
        try:
            with open(self.logfile, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return "(no server log)"

    # -- life cycle -----------------------------------------------------------
    def start(self) -> str:
        """Create and start the cluster; returns the DSN."""
        if self.running:
            return self.dsn
        self.bindir = self.bindir or find_bindir()
        svc = _service_user()
        self.os_user = svc.pw_name if svc else None
        if self.directory is None:
            self.directory = tempfile.mkdtemp(prefix="psqlpy-pg-")
        else:
            os.makedirs(self.directory, exist_ok=True)
            if os.listdir(self.directory):
                raise ClusterError(f"{self.directory} is not empty")
        try:
            if svc is not None:
                os.chown(self.directory, svc.pw_uid, svc.pw_gid)
                os.chmod(self.directory, 0o700)
                if self._run(["test", "-w", self.directory], check=False).returncode:
                    raise ClusterError(f"{self.directory} is not reachable for user "
                                       f"{svc.pw_name}: choose a directory whose "
                                       "parents it may enter (e.g. under /tmp)")
            self._initdb()
            self._start_server()
        except BaseException:
            self._remove_dir()
            raise
        self._mark_started()
        return self.dsn

    def _mark_started(self) -> None:
        """Running: the state file for a later attach(), the stop at exit."""
        self.running = True
        self._write_state()
        if self.stop_at_exit:
            atexit.register(self.stop)

    def _initdb(self) -> None:
        pwfile = os.path.join(self._dir(), "pwfile")
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.password + "\n")
        if self.os_user is not None:
            u = pwd.getpwnam(self.os_user)
            os.chown(pwfile, u.pw_uid, u.pw_gid)
        try:
            self._run([self._bin("initdb"), "-D", self.datadir, "-U", self.user,
                       "--pwfile", pwfile, "--auth=scram-sha-256",
                       "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"])
        finally:
            os.unlink(pwfile)
        with open(os.path.join(self.datadir, "postgresql.conf"), "a") as f:
            f.write("\n# psqlpy throwaway test cluster\n")
            f.write(f"listen_addresses = '127.0.0.1'\n")
            f.write(f"unix_socket_directories = '{self.socket_dir}'\n")
            for k, v in self.settings.items():
                f.write(f"{k} = '{v}'\n")

    def _start_server(self) -> None:
        explicit = self.port is not None
        for attempt in range(5):
            if not explicit:
                self.port = free_port()
            res = self._run([self._bin("pg_ctl"), "-D", self.datadir, "-l", self.logfile,
                             "-o", f"-p {self.port}", "-w", "-t", "60", "start"],
                            check=False, timeout=90)
            if res.returncode == 0 and self._ready():
                break
            # someone took the port between free_port() and the bind: retry
            taken = "could not bind" in self._log_tail() or "already in use" in self._log_tail()
            if res.returncode == 0:
                self._run([self._bin("pg_ctl"), "-D", self.datadir, "-m", "immediate",
                           "-w", "stop"], check=False)
            if explicit or not taken or attempt == 4:
                raise ClusterError(f"server did not start on port {self.port}:\n"
                                   f"{res.stdout}{res.stderr}\n--- {self.logfile}:\n"
                                   f"{self._log_tail()}")
            with open(self.logfile, "a") as f:
                f.write(f"-- port {self.port} was taken, retrying\n")

    def _ready(self) -> bool:
        """pg_isready over TCP, for up to 30 s."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = subprocess.run([self._bin("pg_isready"), "-q", "-h", "127.0.0.1",
                                "-p", str(self.port), "-U", self.user, "-d", self.dbname],
                               capture_output=True)
            if r.returncode == 0:
                return True
            if r.returncode == 3:     # bad parameters: waiting won't help
                return False
            time.sleep(0.1)
        return False

    # -- replication ----------------------------------------------------------
    def make_standby(self, directory: Optional[str] = None) -> "PgCluster":
        """A streaming standby of this cluster (started with replication=True):
        pg_basebackup -R over TCP with the same password, started on a free
        port of its own.  Same user, database and password; its dsn works
        like the primary's.  The caller stops it (it also stops at exit)."""
        if not self.running or self.port is None:
            raise ClusterError("the primary is not running")
        sb = PgCluster(directory, user=self.user, dbname=self.dbname, password=self.password,
                       stop_at_exit=self.stop_at_exit)
        sb.bindir, sb.os_user = self.bindir, self.os_user
        sb.directory = sb.directory or tempfile.mkdtemp(prefix="psqlpy-pg-standby-")
        os.makedirs(sb.directory, exist_ok=True)
        try:
            if sb.os_user is not None:
                u = pwd.getpwnam(sb.os_user)
                os.chown(sb.directory, u.pw_uid, u.pw_gid)
                os.chmod(sb.directory, 0o700)
            sb._run([sb._bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.port),
                     "-U", self.user, "-D", sb.datadir, "-R", "-X", "stream", "-c", "fast",
                     "--no-sync"], env_extra={"PGPASSWORD": self.password})
            with open(os.path.join(sb.datadir, "postgresql.conf"), "a") as f:
                f.write(f"\n# standby of port {self.port}\n")
                f.write(f"unix_socket_directories = '{sb.socket_dir}'\n")
            sb._start_server()
        except BaseException:
            sb._remove_dir()
            raise
        sb._mark_started()
        return sb

    def promote(self) -> None:
        """Promote a standby to primary; returns once it accepts writes."""
        self._run([self._bin("pg_ctl"), "-D", self.datadir, "-w", "-t", "60", "promote"],
                  timeout=90)

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server but keep its directory (start_server() starts it
        again); stop() still deletes everything."""
        self._run([self._bin("pg_ctl"), "-D", self.datadir, "-m", mode, "-w", "-t", "60",
                   "stop"], timeout=90)

    def start_server(self) -> None:
        """Start a server stopped by stop_server() again, on the same port."""
        self._start_server()

    def restart(self) -> None:
        """Restart the running server (fast shutdown) on the same port;
        returns once it accepts connections again."""
        self._run([self._bin("pg_ctl"), "-D", self.datadir, "-l", self.logfile,
                   "-o", f"-p {self.port}", "-m", "fast", "-w", "-t", "60", "restart"])

    def stop(self) -> None:
        """Stop the server (fast shutdown) and delete the directory.  Idempotent."""
        if self.directory is None:
            return
        if os.path.isdir(self.datadir) and self.bindir:
            if os.path.exists(os.path.join(self.datadir, "postmaster.pid")):
                res = self._run([self._bin("pg_ctl"), "-D", self.datadir, "-m", "fast",
                                 "-w", "-t", "60", "stop"], check=False, timeout=90)
                if res.returncode != 0:
                    self._run([self._bin("pg_ctl"), "-D", self.datadir, "-m", "immediate",
                               "-w", "stop"], check=False)
                if self._run([self._bin("pg_ctl"), "-D", self.datadir, "status"],
                             check=False).returncode == 0:
                    raise ClusterError(f"server in {self.datadir} did not stop:\n"
                                       f"{res.stdout}{res.stderr}")
        self.running = False
        if self.stop_at_exit:
            atexit.unregister(self.stop)
        self._remove_dir()

    def _remove_dir(self) -> None:
        if self.directory and os.path.isdir(self.directory):
            shutil.rmtree(self.directory, ignore_errors=True)

    # -- state file (for the CLI's stop) ---------------------------------------
    def _write_state(self) -> None:
        state = dict(dsn=self.dsn, port=self.port, user=self.user, dbname=self.dbname,
                     password=self.password, bindir=self.bindir, os_user=self.os_user,
                     pid=os.getpid())
        path = os.path.join(self._dir(), STATE_FILE)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(state, f)

    @classmethod
    def attach(cls, directory: str) -> "PgCluster":
        """The cluster that an earlier start() left running in ``directory``."""
        directory = os.path.abspath(directory)
        try:
            with open(os.path.join(directory, STATE_FILE)) as f:
                st = json.load(f)
        except FileNotFoundError:
            raise ClusterError(f"no cluster in {directory} ({STATE_FILE} missing)") from None
        c = cls(directory, user=st["user"], dbname=st["dbname"], password=st["password"],
                port=st["port"], stop_at_exit=False)
        c.bindir, c.os_user, c.running = st["bindir"], st["os_user"], True
        return c

    def __enter__(self) -> "PgCluster":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def server_for_tests() -> tuple:
    """(dsn, cluster): $PSQLPY_TEST_DSN with cluster None, or a new cluster.

    The caller stops the cluster (it also stops at process exit).
    """
    env = os.environ.get(ENV_DSN)
    if env:
        return env, None
    c = PgCluster()
    return c.start(), c


# --------------------------------------------------------------------------
# command line

def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description="Throwaway PostgreSQL clusters for psqlpy's tests.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="create and start a cluster in DIR; print its DSN")
    s.add_argument("--dir", required=True, help="cluster directory (created; must be empty)")
    s.add_argument("--port", type=int, help="TCP port (default: a free one)")
    s.add_argument("--user", default="postgres", help="database superuser name")
    s.add_argument("--dbname", default="postgres")
    for name, text in (("stop", "stop the cluster in DIR and delete DIR"),
                       ("dsn", "print the DSN of the cluster in DIR")):
        q = sub.add_parser(name, help=text)
        q.add_argument("--dir", required=True)
    a = p.parse_args(argv)
    try:
        if a.cmd == "start":
            c = PgCluster(a.dir, user=a.user, dbname=a.dbname, port=a.port,
                          stop_at_exit=False)
            print(c.start(), flush=True)
        elif a.cmd == "dsn":
            print(PgCluster.attach(a.dir).dsn)
        else:
            PgCluster.attach(a.dir).stop()
    except ClusterError as e:
        print(f"pgcluster: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
