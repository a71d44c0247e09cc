"""A throwaway PgBouncer in front of the test server, for tests/py/test_pgbouncer.py.

``PgBouncer(dsn, pool_mode="transaction", server_pool_size=3)`` writes a
configuration into a temporary directory and starts Debian's ``pgbouncer``
(1.18) in the foreground on a free port of 127.0.0.1, with no unix socket.
Clients authenticate with SCRAM; the auth_file holds the test user's
password in plain text, which PgBouncer 1.18 uses both to check the client
and to log in to the server with SCRAM.  Every database name maps to the
test server.  The startup parameter ``options`` (where the driver puts
its session settings) is ignored, as PgBouncer 1.18 refuses it otherwise
(docs/scaling.md).  ``dsn`` is the DSN to connect through it; ``stop()`` ends it
(SIGTERM, by its pid) and removes the directory.

PgBouncer refuses to run as root: as root it runs as the unprivileged
account the test cluster uses (pgcluster's service user).

Standard library only.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Optional

import pgcluster

BINARY = "/usr/sbin/pgbouncer"


class PgBouncerError(RuntimeError):
    pass


def _quote_userlist(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


class PgBouncer:
    def __init__(self, server_dsn: str, *, pool_mode: str = "transaction",
                 server_pool_size: int = 3, max_client_conn: int = 200) -> None:
        parts = pgcluster.dsn_parts(server_dsn)
        if not parts["username"] or parts["password"] is None:
            raise PgBouncerError("the server DSN needs a user and a password")
        self.server = parts
        self.pool_mode = pool_mode
        self.server_pool_size = server_pool_size
        self.max_client_conn = max_client_conn
        self.directory: Optional[str] = None
        self.port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None

    @property
    def dsn(self) -> str:
        s = self.server
        return pgcluster.make_dsn(str(s["username"]), str(s["password"]), "127.0.0.1",
                                  int(self.port or 0), str(s["db_name"] or s["username"]))

    @property
    def logfile(self) -> str:
        return os.path.join(str(self.directory), "pgbouncer.log")

    def log_tail(self, n: int = 40) -> str:
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def _write_config(self) -> str:
        d = str(self.directory)
        s = self.server
        with open(os.path.join(d, "userlist.txt"), "w") as f:
            f.write(f"{_quote_userlist(str(s['username']))} "
                    f"{_quote_userlist(str(s['password']))}\n")
        os.chmod(os.path.join(d, "userlist.txt"), 0o600)
        ini = os.path.join(d, "pgbouncer.ini")
        with open(ini, "w") as f:
            f.write(f"""[databases]
* = host={s['host'] or '127.0.0.1'} port={s['port'] or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {d}/userlist.txt
pool_mode = {self.pool_mode}
default_pool_size = {self.server_pool_size}
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = {self.max_client_conn}
logfile = {self.logfile}
pidfile = {d}/pgbouncer.pid
log_connections = 0
log_disconnections = 0
; the driver sends its session settings (DateStyle, IntervalStyle,
; extra_float_digits) as the startup packet's options, which PgBouncer
; 1.18 refuses unless told to ignore them (the server's defaults apply)
ignore_startup_parameters = options
""")
        return ini

    def start(self) -> str:
        """Start it; returns the DSN to connect through it."""
        if not os.path.exists(BINARY):
            raise PgBouncerError(f"{BINARY} is missing: install Debian's pgbouncer "
                                 "(scripts/setup.sh does)")
        svc = pgcluster._service_user()
        self.directory = tempfile.mkdtemp(prefix="psqlpy-pgbouncer-")
        kwargs = {}
        if svc is not None:
            os.chown(self.directory, svc.pw_uid, svc.pw_gid)
            kwargs = dict(user=svc.pw_uid, group=svc.pw_gid, extra_groups=[])
        for attempt in range(5):
            self.port = pgcluster.free_port()
            ini = self._write_config()
            if svc is not None:
                for name in os.listdir(self.directory):
                    os.chown(os.path.join(self.directory, name), svc.pw_uid, svc.pw_gid)
            self.proc = subprocess.Popen([BINARY, ini], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         cwd=self.directory, **kwargs)
            if self._wait_listening():
                return self.dsn
            err = self._end()
            if "Address already in use" not in err + self.log_tail() or attempt == 4:
                self._remove_dir()
                raise PgBouncerError(f"pgbouncer did not start on port {self.port}:\n{err}\n"
                                     f"--- log:\n{self.log_tail()}")
        raise AssertionError("unreachable")

    def _wait_listening(self) -> bool:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", int(self.port or 0)), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def _end(self) -> str:
        """Stop the process (by its pid); returns what it wrote to stderr."""
        proc, self.proc = self.proc, None
        if proc is None:
            return ""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        return err

    def _remove_dir(self) -> None:
        if self.directory and os.path.isdir(self.directory):
            shutil.rmtree(self.directory, ignore_errors=True)
        self.directory = None

    def stop(self) -> None:
        """Stop it and remove its directory.  Idempotent."""
        self._end()
        self._remove_dir()

    def __enter__(self) -> "PgBouncer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
