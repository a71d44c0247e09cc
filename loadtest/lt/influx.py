"""InfluxDB 1.x: a private server for one run, writes and queries over HTTP.

The server is Debian's influxd, started unprivileged-style with every
directory inside a temp dir and every listener on 127.0.0.1 (HTTP for the
line protocol and queries, Graphite for JMeter's Backend Listener).  The
Graphite templates turn JMeter's metric paths

    jmeter.<driver>.<network>.<endpoint>.<ok|ko|a>.<count|min|max|pct50|...>
    jmeter.<driver>.<network>.test.<minAT|maxAT|meanAT|startedT|endedT>

into the measurements `jmeter` (tags driver, network, endpoint, status) and
`jmeter_test` (tags driver, network), both also tagged run=<run id>.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

from . import procs

DATABASE = "loadtest"


def graphite_templates(run_id: str) -> list[str]:
    tags = f"run={run_id},tool=jmeter"
    return [
        f"jmeter.*.*.test.* measurement.driver.network.measurement.field {tags}",
        f"jmeter.*.*.*.*.* measurement.driver.network.endpoint.status.field {tags}",
    ]


def config_text(root: str, http_port: int, graphite_port: int, rpc_port: int,
                run_id: str) -> str:
    templates = ",\n    ".join(json.dumps(t) for t in graphite_templates(run_id))
    return f"""\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{root}/meta"

[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false

[ifql]
  enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[[graphite]]
  enabled = true
  bind-address = "127.0.0.1:{graphite_port}"
  protocol = "tcp"
  database = "{DATABASE}"
  separator = "_"
  batch-size = 1000
  batch-timeout = "1s"
  templates = [
    {templates}
  ]
"""


class InfluxClient:
    """Line-protocol writes and InfluxQL queries against one database."""

    def __init__(self, url: str, database: str = DATABASE) -> None:
        self.url, self.database = url.rstrip("/"), database

    def ping(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/ping", timeout=2) as r:
                return r.status == 204
        except OSError:
            return False

    def _post(self, path: str, params: dict, body: bytes | None = None) -> bytes:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        req = urllib.request.Request(url, data=body if body is not None else b"", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"InfluxDB {path}: HTTP {e.code}: {e.read()[:500]!r}") from None

    def create_database(self) -> None:
        self.query(f'CREATE DATABASE "{self.database}"', method="POST")

    def write(self, lines: list[str]) -> None:
        """Write line-protocol lines (timestamps in milliseconds)."""
        for i in range(0, len(lines), 5000):
            self._post("/write", {"db": self.database, "precision": "ms"},
                       "\n".join(lines[i:i + 5000]).encode())

    def query(self, q: str, method: str = "GET", epoch: str = "ms") -> list[dict]:
        """Run InfluxQL; return the list of statement results.

        Raises RuntimeError when InfluxDB reports an error for any statement.
        """
        params = {"db": self.database, "q": q, "epoch": epoch}
        if method == "POST":
            raw = self._post("/query", params)
        else:
            url = f"{self.url}/query?{urllib.parse.urlencode(params)}"
            try:
                with urllib.request.urlopen(url, timeout=30) as r:
                    raw = r.read()
            except urllib.error.HTTPError as e:
                raise RuntimeError(f"InfluxDB query failed: HTTP {e.code}: "
                                   f"{e.read()[:500]!r}\n  query: {q}") from None
        doc = json.loads(raw)
        if "error" in doc:
            raise RuntimeError(f"InfluxDB: {doc['error']}\n  query: {q}")
        results = doc.get("results", [])
        for res in results:
            if "error" in res:
                raise RuntimeError(f"InfluxDB: {res['error']}\n  query: {q}")
        return results


def escape_tag(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def line(measurement: str, tags: dict, fields: dict, ts_ms: int) -> str:
    """One line-protocol point; ints get the `i` suffix, None fields are dropped."""
    tag_s = ",".join(f"{k}={escape_tag(v)}" for k, v in sorted(tags.items()) if v != "")
    parts = []
    for k, v in fields.items():
        if v is None:
            continue
        if isinstance(v, bool):
            parts.append(f"{k}={'true' if v else 'false'}")
        elif isinstance(v, int):
            parts.append(f"{k}={v}i")
        elif isinstance(v, float):
            parts.append(f"{k}={v!r}")
        else:
            s = str(v).replace("\\", "\\\\").replace('"', '\\"')
            parts.append(f'{k}="{s}"')
    return f"{measurement},{tag_s} {','.join(parts)} {int(ts_ms)}"


class InfluxServer:
    """A private influxd with its data in `root`; stop() ends it."""

    def __init__(self, root: str, run_id: str) -> None:
        self.root = root
        self.run_id = run_id
        self.http_port = procs.free_port()
        self.graphite_port = procs.free_port()
        self.rpc_port = procs.free_port()
        self.proc: subprocess.Popen | None = None
        self.client = InfluxClient(f"http://127.0.0.1:{self.http_port}")

    def start(self, timeout: float = 30.0) -> None:
        os.makedirs(self.root, exist_ok=True)
        conf = os.path.join(self.root, "influxdb.conf")
        with open(conf, "w") as f:
            f.write(config_text(self.root, self.http_port, self.graphite_port,
                                self.rpc_port, self.run_id))
        log = open(os.path.join(self.root, "influxd.log"), "wb")
        self.proc = subprocess.Popen(["influxd", "run", "-config", conf],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.client.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"influxd did not start; see {self.root}/influxd.log")
            time.sleep(0.1)
        self.client.create_database()

    def stop(self) -> None:
        if self.proc is not None:
            procs.stop_process(self.proc, grace=15)
            self.proc = None

    def keep(self, dest: str) -> None:
        """Copy the stopped server's directories (meta, data, wal) and config to dest."""
        os.makedirs(dest, exist_ok=True)
        for name in ("meta", "data", "wal"):
            src = os.path.join(self.root, name)
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(dest, name), dirs_exist_ok=True)
        shutil.copy(os.path.join(self.root, "influxdb.conf"), dest)


def serve_kept(data_dir: str, port: int) -> None:
    """Serve a kept InfluxDB directory (OUT/influxdb) on 127.0.0.1:port until Ctrl-C or SIGTERM."""
    import signal
    import tempfile
    root = os.path.abspath(data_dir)
    for name in ("meta", "data", "wal"):
        if not os.path.isdir(os.path.join(root, name)):
            raise SystemExit(f"{root} has no {name}/: not a kept InfluxDB directory")
    conf = os.path.join(tempfile.mkdtemp(prefix="psqlpy-influx-serve."), "influxdb.conf")
    text = config_text(root, port, procs.free_port(), procs.free_port(), "kept")
    with open(conf, "w") as f:
        f.write(text.split("[[graphite]]")[0])
    proc = subprocess.Popen(["influxd", "run", "-config", conf], start_new_session=True)
    client = InfluxClient(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while not client.ping():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("influxd did not start")
        time.sleep(0.1)
    print(f"serving {root} at {client.url} (database {DATABASE}); Ctrl-C stops", flush=True)

    def stop(_signum, _frame):
        os.killpg(proc.pid, signal.SIGTERM)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    proc.wait()


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description="serve a kept InfluxDB directory of a load-test run")
    ap.add_argument("data_dir")
    ap.add_argument("--port", type=int, default=8086)
    a = ap.parse_args()
    serve_kept(a.data_dir, a.port)
