"""Run the driver comparison end to end and write the report.

Started by loadtest/run.sh (which installs what this needs); see
loadtest/README.md.  Steps:

  1. a throwaway PostgreSQL (tests/py/pgcluster.py) seeded with `accounts`;
  2. a private InfluxDB for this run's metrics;
  3. for each network setting (direct; then, with --delay-ms, through the
     delay proxy), in --rounds interleaved rounds, each driver in turn (the
     order rotates by one driver each round): start the driver's app in its
     own process, run wrk against each endpoint (maximum rate) and the
     JMeter scenario plan (all endpoints at once), and write per-second and
     summary points (tagged with the round) to InfluxDB together with each
     process's CPU share;
  4. the report (markdown table + PNG charts) from what InfluxDB holds;
  5. the Grafana dashboard checks (grafana/check/check.py) against the run.

Exit status: 0 when everything ran; 1 when a driver failed to start or
serve (with --require-all), the dashboard checks failed, or the stack broke.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

from . import influx, loadgen, procs, report

LOADTEST = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(LOADTEST)
APP = os.path.join(LOADTEST, "app", "server.py")
SEED = os.path.join(LOADTEST, "app", "seed.py")
PGCLUSTER = os.path.join(REPO, "tests", "py", "pgcluster.py")
DELAYPROXY = os.path.join(LOADTEST, "lt", "delayproxy.py")
GRAFANA_CHECK = os.path.join(REPO, "grafana", "check", "check.py")

# psqlpy: ours on its reference API (PSQLPool); psqlpy-013: ours running the
# same 0.13-API app code as psqlpy-rust (the Rust psqlpy 0.13.1 from PyPI).
ALL_DRIVERS = ("psqlpy", "psqlpy-013", "psqlpy-rust", "asyncpg", "psycopg")

PROFILES = {
    # rows, wrk warm-up/measure seconds, JMeter duration/least warm-up seconds
    # (the ramp is cut where the rate levels off, never before this), rounds
    # (per network; the delayed network's in delay_rounds)
    "full": dict(rows=1_000_000, wrk_warmup=3, wrk_duration=10, jmeter_duration=40,
                 jmeter_warmup=15, rounds=3, delay_rounds=3),
    # short (CI): no wrk warm-up run (each app answered its probe requests
    # and opened its pool first), to keep 15 driver runs near 4 minutes
    "short": dict(rows=100_000, wrk_warmup=0, wrk_duration=1, jmeter_duration=5,
                  jmeter_warmup=1, rounds=2, delay_rounds=1),
}


def round_order(drivers, rnd: int) -> list:
    """The drivers of round `rnd` (0-based): the list rotated by rnd, so no
    driver always runs first (on a cold machine) or last."""
    k = rnd % len(drivers) if drivers else 0
    return list(drivers[k:]) + list(drivers[:k])


def log(msg: str) -> None:
    print(f"[{datetime.datetime.now():%H:%M:%S}] {msg}", flush=True)


def driver_python(driver: str, args) -> str:
    return {"psqlpy": args.python_psqlpy, "psqlpy-013": args.python_psqlpy,
            "psqlpy-rust": args.python_rust}.get(
        driver, args.python_tools)


class Postgres:
    """The throwaway cluster, through the project's pgcluster.py command."""

    def __init__(self, dsn: str | None = None) -> None:
        """With `dsn`, use that server as it is (the run then drops and
        recreates its tables there, and PostgreSQL's CPU is not measured)."""
        self.external = bool(dsn)
        self.dsn = dsn or ""
        self.dir = "" if dsn else tempfile.mkdtemp(prefix="psqlpy-loadtest-pg.")
        if self.dir:
            os.chmod(self.dir, 0o755)

    def start(self) -> None:
        if self.external:
            return
        out = subprocess.run([sys.executable, PGCLUSTER, "start", "--dir", self.dir],
                             capture_output=True, text=True, timeout=180)
        if out.returncode != 0:
            raise RuntimeError(f"pgcluster start failed:\n{out.stdout}{out.stderr}")
        self.dsn = out.stdout.strip().splitlines()[-1]

    @property
    def port(self) -> int:
        return urllib.parse.urlsplit(self.dsn).port or 5432

    def postmaster_pid(self) -> int | None:
        if self.external:
            return None
        try:
            with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        if self.external:
            return
        subprocess.run([sys.executable, PGCLUSTER, "stop", "--dir", self.dir],
                       capture_output=True, timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)


class DelayProxy:
    def __init__(self, python: str, target_port: int, delay_ms: float) -> None:
        self.port = procs.free_port()
        self.proc = subprocess.Popen(
            [python, DELAYPROXY, "--listen-port", str(self.port), "--target-port",
             str(target_port), "--delay-ms", f"{delay_ms:g}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        first = self.proc.stdout.readline().decode().strip()
        if first != "ready":
            procs.stop_process(self.proc)
            raise RuntimeError(f"delay proxy did not start: {first}")

    def stop(self) -> None:
        procs.stop_process(self.proc)


class Run:
    def __init__(self, args) -> None:
        self.args = args
        self.p = dict(PROFILES["short" if args.short else "full"])
        for key in ("rows", "wrk_duration", "jmeter_duration", "rounds", "delay_rounds"):
            if getattr(args, key, None):
                self.p[key] = getattr(args, key)
        self.run_id = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
        self.out = os.path.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.work = os.path.join(self.out, "work")
        os.makedirs(self.work, exist_ok=True)
        self.problems: list[str] = []          # reasons to fail the run
        self.status: dict = {}                 # (network, driver) -> {"ok": bool, "message": str}
        self.served: dict = {}                 # (driver, endpoint) -> ok responses, all networks
        ncpu = os.cpu_count() or 1
        self.app_cpu = args.app_cpu if ncpu > 1 else None
        self.gen_cpu = args.gen_cpu if ncpu > 1 else None

    # -- one driver under one network setting ---------------------------------
    def drive(self, driver: str, network: str, rnd: int, dsn: str, pg: Postgres,
              proxy: DelayProxy | None, client: influx.InfluxClient, graphite_port: int) -> None:
        tags = {"run": self.run_id, "network": network, "driver": driver, "round": str(rnd)}
        port = procs.free_port()
        self.tag = f"{driver}-{network}-r{rnd}"
        app_log = os.path.join(self.work, f"app-{self.tag}.log")
        argv = procs.pinned([driver_python(driver, self.args), APP, "--driver", driver,
                             "--dsn", dsn, "--port", str(port),
                             "--pool-size", str(self.args.pool_size)], self.app_cpu)
        with open(app_log, "wb") as lf:
            app = subprocess.Popen(argv, stdout=lf, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            try:
                info = json.loads(procs.wait_http(base + "/health", 60, app))
            except RuntimeError as e:
                tail = open(app_log, errors="replace").read()[-2000:]
                raise RuntimeError(f"app did not start: {e}\n{tail}") from None
            log(f"  {driver} (round {rnd}): app up ({info.get('module')}, {info.get('version')}, "
                f"loop {info.get('loop')})")
            probe_errors = self.probe(base)
            for endpoint in ("health",) + loadgen.ENDPOINTS:
                client.write(self.wrk_endpoint(driver, network, base, endpoint, app, pg, proxy, tags))
            client.write(self.jmeter(driver, network, port, app, pg, proxy, tags, graphite_port))
            if probe_errors:
                raise RuntimeError("; ".join(probe_errors))
            st = {"ok": True, "message": f"{info.get('version')} from {info.get('module')}, "
                                         f"{info.get('loop')} loop, pool {info.get('pool_size')}"}
        except Exception as e:  # a driver's failure is data, not a crash of the run
            msg = str(e).strip() or type(e).__name__
            log(f"  {driver}: ERROR {msg.splitlines()[0]}")
            st = {"ok": False, "message": f"round {rnd}: {msg}"}
        finally:
            procs.stop_process(app)
        # one failed round marks the driver failed on that network
        if self.status.get((network, driver), {}).get("ok", True):
            self.status[(network, driver)] = st
        st = self.status[(network, driver)]
        client.write([influx.line("driver_status", tags,
                                  {"ok": st["ok"], "message": st["message"][:2000]},
                                  int(time.time() * 1000))])

    def probe(self, base: str) -> list[str]:
        """One request per endpoint before any load; each must answer 200."""
        problems = []
        for method, path in (("GET", "/row/1"), ("GET", "/list?after=0"),
                             ("POST", "/insert"), ("POST", "/tx/1")):
            req = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    body = r.read()
                    if r.status != 200 or not body:
                        problems.append(f"{method} {path}: HTTP {r.status}")
            except urllib.error.HTTPError as e:
                problems.append(f"{method} {path}: HTTP {e.code} {e.read()[:300]!r}")
            except OSError as e:
                problems.append(f"{method} {path}: {e}")
        return problems

    def _cpu_meters(self, app, pg: Postgres, proxy: DelayProxy | None) -> dict:
        meters = {"app_cpu_pct": procs.TreeCpu(app.pid), "pg_cpu_pct": procs.TreeCpu(pg.postmaster_pid())}
        if proxy is not None:
            meters["proxy_cpu_pct"] = procs.TreeCpu(proxy.proc.pid)
        for m in meters.values():
            m.start()
        return meters

    def wrk_endpoint(self, driver, network, base, endpoint, app, pg, proxy, tags) -> list[str]:
        a = self.args
        common = dict(rows=self.p["rows"], connections=a.connections, threads=1, cpu=self.gen_cpu)
        out = os.path.join(self.work, f"wrk-{self.tag}-{endpoint}.json")
        if self.p["wrk_warmup"]:
            loadgen.run_wrk(base, endpoint, duration=self.p["wrk_warmup"], out_json=out, **common)
        meters = self._cpu_meters(app, pg, proxy)
        res = loadgen.run_wrk(base, endpoint, duration=self.p["wrk_duration"], out_json=out, **common)
        cpu = {k: m.stop() for k, m in meters.items()}
        if res.status != 0 or not res.summaries:
            raise RuntimeError(f"wrk failed on {endpoint} (status {res.status}): {res.log[-1000:]}")
        return self._points(res, tags, cpu, driver)

    def jmeter(self, driver, network, port, app, pg, proxy, tags, graphite_port) -> list[str]:
        if self.args.no_jmeter:
            return []
        workdir = os.path.join(self.work, f"jmeter-{self.tag}")
        meters = self._cpu_meters(app, pg, proxy)
        res = loadgen.run_jmeter("127.0.0.1", port, rows=self.p["rows"],
                                 duration=self.p["jmeter_duration"],
                                 threads_per_endpoint=self.args.jmeter_threads,
                                 warmup=self.p["jmeter_warmup"], cpu=self.gen_cpu,
                                 workdir=workdir, graphite_port=graphite_port,
                                 graphite_prefix=f"jmeter.{driver}.{network}.")
        cpu = {k: m.stop() for k, m in meters.items()}
        if res.status != 0 or not res.summaries:
            raise RuntimeError(f"JMeter failed (status {res.status}): {res.log[-1000:]}")
        return self._points(res, tags, cpu, driver)

    def _points(self, res: loadgen.Result, tags: dict, cpu: dict, driver: str) -> list[str]:
        lines = []
        for endpoint, second, n, err, lat in res.seconds:
            fields = {"requests": n, "errors": err, "ok": n - err}
            fields.update({f"{k}_ms": v for k, v in lat.items()})
            lines.append(influx.line("http", {**tags, "tool": res.tool, "endpoint": endpoint},
                                     fields, second * 1000))
        now = int(time.time() * 1000)
        for s in res.summaries:
            fields = {"requests": s.requests, "errors": s.errors, "ok": s.ok,
                      "rps": s.rps, "ok_rps": s.ok / s.duration_s if s.duration_s else 0.0,
                      "duration_s": s.duration_s, "gen_cpu_pct": res.gen_cpu_pct,
                      **{k: v for k, v in cpu.items() if v is not None}}
            per_cpu = rps_per_app_cpu_s(s.rps, cpu.get("app_cpu_pct"))
            if per_cpu is not None:
                fields["rps_per_app_cpu_s"] = per_cpu
            if s.ramp_s is not None:
                fields["ramp_s"] = s.ramp_s
            fields.update({f"{k}_ms": float(v) for k, v in s.latency_ms.items()})
            lines.append(influx.line("http_summary", {**tags, "tool": res.tool, "endpoint": s.endpoint},
                                     fields, now))
            key = (driver, s.endpoint)
            self.served[key] = self.served.get(key, 0) + s.ok
            log(f"    {res.tool:6} {s.endpoint:6} {s.rps:8.0f} req/s  p50 {s.latency_ms.get('p50', 0):7.2f} ms"
                f"  p99 {s.latency_ms.get('p99', 0):7.2f} ms  errors {s.errors}"
                f"  gen {res.gen_cpu_pct:3.0f}%  app {cpu.get('app_cpu_pct') or 0:3.0f}%"
                f"  pg {cpu.get('pg_cpu_pct') or 0:3.0f}%")
        return lines

    # -- the whole run ---------------------------------------------------------------
    def main(self) -> int:
        a = self.args
        t_start = time.time()
        pg = Postgres(a.dsn)
        inf = influx.InfluxServer(tempfile.mkdtemp(prefix="psqlpy-loadtest-influx."), self.run_id)
        proxy = None
        window = [int(t_start * 1000), 0]
        try:
            log(f"run {self.run_id}: profile {'short' if a.short else 'full'}, drivers {', '.join(a.drivers)}")
            pg.start()
            log(f"PostgreSQL up on port {pg.port}; seeding {self.p['rows']} rows")
            subprocess.run([a.python_tools, SEED, "--dsn", pg.dsn, "--rows", str(self.p["rows"])],
                           check=True, timeout=900)
            inf.start()
            log(f"InfluxDB up (HTTP {inf.http_port}, Graphite {inf.graphite_port})")
            if not a.no_jmeter:
                loadgen.compile_jmeter_launcher()
            networks = [("direct", None)]
            if a.delay_ms:
                networks.append((f"delay{a.delay_ms:g}ms".replace(".", "_"), a.delay_ms))
            for network, delay in networks:
                dsn = pg.dsn
                if delay is not None:
                    proxy = DelayProxy(a.python_tools, pg.port, delay)
                    u = urllib.parse.urlsplit(pg.dsn)
                    if u.hostname not in ("127.0.0.1", "localhost"):
                        raise RuntimeError("the delay proxy only forwards to 127.0.0.1")
                    netloc = u.netloc.rsplit("@", 1)
                    netloc[-1] = f"127.0.0.1:{proxy.port}"
                    dsn = urllib.parse.urlunsplit(u._replace(netloc="@".join(netloc)))
                    log(f"network {network}: PostgreSQL behind the delay proxy (+{delay:g} ms per trip)")
                else:
                    log(f"network {network}: apps connect to PostgreSQL directly")
                rounds = self.p["rounds"] if delay is None else self.p["delay_rounds"]
                for rnd in range(rounds):
                    log(f"round {rnd + 1}/{rounds} ({network})")
                    for driver in round_order(a.drivers, rnd):
                        self.drive(driver, network, rnd + 1, dsn, pg, proxy, inf.client,
                                   inf.graphite_port)
                if proxy is not None:
                    proxy.stop()
                    proxy = None
            time.sleep(2)   # let the Graphite input flush its last batch
            window[1] = int(time.time() * 1000)
            meta = {"run": self.run_id, "profile": "short" if a.short else "full",
                    "start_ms": window[0], "end_ms": window[1], "params": self.p,
                    "pool_size": a.pool_size, "connections": a.connections,
                    "jmeter_threads_per_endpoint": a.jmeter_threads,
                    "delay_ms": a.delay_ms, "app_cpu": self.app_cpu, "gen_cpu": self.gen_cpu,
                    "rounds": self.p["rounds"], "delay_rounds": self.p["delay_rounds"],
                    "drivers": list(a.drivers), "influx_url": inf.client.url}
            with open(os.path.join(self.out, "run.json"), "w") as f:
                json.dump(meta, f, indent=2)
            log("writing the report")
            report.write(inf.client, meta, self.out)
            self.check_served()
            if a.no_jmeter and not a.no_grafana_check:
                log("dashboard checks not run: their JMeter panels need the JMeter runs (--no-jmeter)")
            elif not a.no_grafana_check:
                log("checking the Grafana dashboards against this run")
                rc = subprocess.run([a.python_tools, GRAFANA_CHECK, "--influx", inf.client.url,
                                     "--from-ms", str(window[0]), "--to-ms", str(window[1]),
                                     "--out", os.path.join(self.out, "grafana")]).returncode
                if rc != 0:
                    self.problems.append("Grafana dashboard checks failed")
        except Exception:
            traceback.print_exc()
            self.problems.append("the load-test stack failed (traceback above)")
        finally:
            if proxy is not None:
                proxy.stop()
            inf.stop()
            if a.keep_influx:
                dest = os.path.join(self.out, "influxdb")
                inf.keep(dest)
                log(f"InfluxDB data kept in {dest}")
            shutil.rmtree(inf.root, ignore_errors=True)
            pg.stop()
        for (network, driver), st in sorted(self.status.items()):
            if not st["ok"]:
                print(f"DRIVER ERROR [{network}] {driver}: {st['message']}", file=sys.stderr)
        log(f"report: {os.path.join(self.out, 'report.md')}  ({time.time() - t_start:.0f} s)")
        if self.problems:
            for p in self.problems:
                print(f"FAILED: {p}", file=sys.stderr)
            return 1
        return 0

    def check_served(self) -> None:
        """Every requested driver must have served every endpoint (when required)."""
        missing = [f"{d}/{e}" for d in self.args.drivers for e in loadgen.ENDPOINTS
                   if self.served.get((d, e), 0) == 0]
        failed = [f"{d} ({n})" for (n, d), st in self.status.items() if not st["ok"]]
        if self.args.require_all:
            absent = [d for d in ALL_DRIVERS if d not in self.args.drivers]
            if absent:
                self.problems.append(f"--require-all but drivers left out: {', '.join(absent)}")
            if missing:
                self.problems.append(f"no successful responses from: {', '.join(missing)}")
            if failed:
                self.problems.append(f"drivers with errors: {', '.join(failed)}")


def rps_per_app_cpu_s(rps: float, app_cpu_pct: float | None) -> float | None:
    """Requests per second of the app's CPU time: the rate divided by the
    share of a core the app used (100% = one core) in the same window.
    None when the app's CPU was not measured or was ~0."""
    if app_cpu_pct is None or app_cpu_pct < 1.0:
        return None
    return rps / (app_cpu_pct / 100.0)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="psqlpy driver comparison under load")
    ap.add_argument("--short", action="store_true", help="seconds per driver (CI)")
    ap.add_argument("--delay-ms", type=float, default=0.0,
                    help="also run with PostgreSQL behind this much added latency per trip")
    ap.add_argument("--keep-influx", action="store_true", help="keep InfluxDB's data in OUT/influxdb")
    ap.add_argument("--out", required=True)
    ap.add_argument("--drivers", default=",".join(ALL_DRIVERS))
    ap.add_argument("--require-all", action="store_true",
                    help="fail unless every driver served every endpoint without error")
    ap.add_argument("--dsn", help="use this PostgreSQL (its accounts/transfers tables are replaced) "
                    "instead of a throwaway cluster")
    ap.add_argument("--pool-size", type=int, default=10)
    ap.add_argument("--connections", type=int, default=32, help="wrk connections")
    ap.add_argument("--jmeter-threads", type=int, default=4, help="JMeter users per endpoint")
    ap.add_argument("--rows", type=int)
    ap.add_argument("--wrk-duration", type=int)
    ap.add_argument("--jmeter-duration", type=int)
    ap.add_argument("--rounds", type=int, help="interleaved rounds per driver (full 3, short 2)")
    ap.add_argument("--delay-rounds", type=int,
                    help="rounds on the delayed network (full 3, short 1)")
    ap.add_argument("--app-cpu", type=int, default=0)
    ap.add_argument("--gen-cpu", type=int, default=1)
    ap.add_argument("--no-jmeter", action="store_true")
    ap.add_argument("--no-grafana-check", action="store_true")
    ap.add_argument("--python-tools", default=sys.executable)
    ap.add_argument("--python-rust", required=True)
    ap.add_argument("--python-psqlpy", required=True)
    args = ap.parse_args(argv)
    args.drivers = [d for d in args.drivers.split(",") if d]
    unknown = set(args.drivers) - set(ALL_DRIVERS)
    if unknown:
        ap.error(f"unknown drivers: {', '.join(sorted(unknown))}")
    return args


def main(argv=None) -> int:
    return Run(parse_args(argv)).main()


if __name__ == "__main__":
    sys.exit(main())
