"""Load generators: wrk for maximum-rate runs, JMeter for the scenario plan.

Both return a Result: per-second points and one summary per endpoint, ready
for InfluxDB (measurements `http` and `http_summary`), plus the generator's
own CPU share.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import tempfile
from dataclasses import dataclass, field

from . import procs

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WRK_SCRIPT = os.path.join(HERE, "wrk", "endpoint.lua")
JMETER_SH = os.path.join(HERE, "jmeter", "jmeter.sh")
JMETER_PLAN = os.path.join(HERE, "jmeter", "scenario.jmx")
ENDPOINTS = ("row", "list", "insert", "tx")


@dataclass
class Summary:
    endpoint: str
    requests: int
    errors: int
    duration_s: float
    latency_ms: dict            # p50, p90, p95, p99 (and p99_9, max, mean when known)
    ramp_s: float | None = None  # JMeter: seconds left out at the start as its ramp

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def ok(self) -> int:
        return self.requests - self.errors


@dataclass
class Result:
    tool: str
    status: int                          # the generator's exit status
    gen_cpu_pct: float
    wall_s: float
    seconds: list = field(default_factory=list)   # (endpoint, epoch s, requests, errors, {pXX: ms})
    summaries: list = field(default_factory=list)  # Summary
    log: str = ""


def percentile(sorted_values: list, p: float) -> float:
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return math.nan
    k = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return float(sorted_values[k - 1])


# ---------------------------------------------------------------- wrk

def run_wrk(url: str, endpoint: str, *, rows: int, duration: float, connections: int,
            threads: int, cpu: int | None, out_json: str, timeout_s: float = 5.0) -> Result:
    """One wrk run against one endpoint; raises nothing, failures are in status/log."""
    argv = procs.pinned(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s",
                         f"--timeout={timeout_s:g}s", "-s", WRK_SCRIPT, url, "--",
                         endpoint, str(rows), out_json], cpu)
    if os.path.exists(out_json):
        os.unlink(out_json)
    log_path = out_json + ".log"
    with open(log_path, "wb") as log:
        status, wall, cpu_pct = procs.run_measured(
            argv, timeout=duration + 30, stdout=log, stderr=subprocess.STDOUT)
    res = Result("wrk", status, cpu_pct, wall, log=open(log_path, errors="replace").read())
    if status != 0 or not os.path.exists(out_json):
        res.status = status or 1
        return res
    with open(out_json) as f:
        doc = json.load(f)
    lat = {k: v / 1000.0 for k, v in doc["latency_us"].items() if v is not None}
    e = doc["errors"]
    errors = e["status"] + e["connect"] + e["read"] + e["write"] + e["timeout"]
    # wrk counts socket errors separately from completed requests.
    requests = doc["requests"] + e["connect"] + e["read"] + e["write"] + e["timeout"]
    res.summaries.append(Summary(endpoint, requests, errors, doc["duration_us"] / 1e6, lat))
    for second, n, err in doc["per_second"]:
        res.seconds.append((endpoint, second, n, err, {}))
    return res


# ---------------------------------------------------------------- JMeter

def compile_jmeter_launcher() -> None:
    """Build the launcher now so its compile time is not charged to a run."""
    subprocess.run([JMETER_SH, "--version", "-j", os.devnull], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
                   cwd=tempfile.gettempdir())


def run_jmeter(host: str, port: int, *, rows: int, duration: int, threads_per_endpoint: int,
               warmup: int, cpu: int | None, workdir: str, graphite_port: int,
               graphite_prefix: str) -> Result:
    """The scenario plan against one app; per-second stats from the result file.

    JMeter's ramp (ramp_end_s: at least `warmup` seconds) is left out of
    the summaries but stays in the per-second points.
    """
    os.makedirs(workdir, exist_ok=True)
    jtl = os.path.join(workdir, "results.jtl")
    props = {
        "host": host, "port": port, "duration": duration, "rows": rows, "rampup": 1,
        "threads_row": threads_per_endpoint, "threads_list": threads_per_endpoint,
        "threads_insert": threads_per_endpoint, "threads_tx": threads_per_endpoint,
        "graphite_host": "127.0.0.1", "graphite_port": graphite_port,
        "graphite_prefix": graphite_prefix,
        "jmeter.save.saveservice.print_field_names": "true",
        "jmeter.save.saveservice.output_format": "csv",
        "summariser.interval": 5,
    }
    argv = procs.pinned([JMETER_SH, "-n", "-t", JMETER_PLAN, "-l", jtl,
                         "-j", os.path.join(workdir, "jmeter.log")]
                        + [f"-J{k}={v}" for k, v in props.items()], cpu)
    if os.path.exists(jtl):
        os.unlink(jtl)
    log_path = os.path.join(workdir, "stdout.log")
    with open(log_path, "wb") as log:
        status, wall, cpu_pct = procs.run_measured(
            argv, timeout=duration + 90, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
    res = Result("jmeter", status, cpu_pct, wall, log=open(log_path, errors="replace").read())
    if status != 0 or not os.path.exists(jtl) or os.path.getsize(jtl) == 0:
        res.status = status or 1
        return res
    seconds, summaries = convert_jtl(jtl, warmup)
    res.seconds, res.summaries = seconds, summaries
    return res


RAMP_LEVEL = 0.9   # the ramp ends at the first second reaching 90% of the steady rate


def ramp_end_s(per_second: list, floor_s: int) -> int:
    """Where JMeter's ramp ends: per_second[i] is the number of responses
    (all endpoints) that ended in second i of the run.  The steady rate is
    the median over the second half of the run (the last, partial second
    left out); the ramp ends at the first second, not before floor_s, whose
    count reaches RAMP_LEVEL of it.  JMeter starts its threads over a second
    and its JIT keeps speeding it up for several more, so a fixed cut left
    part of the climb in the measured window."""
    full = per_second[:-1]
    if len(full) < 2:
        return floor_s
    half = sorted(full[len(full) // 2:])
    m = len(half)
    level = half[m // 2] if m % 2 else (half[m // 2 - 1] + half[m // 2]) / 2
    for i in range(floor_s, len(full)):
        if full[i] >= RAMP_LEVEL * level:
            return i
    return floor_s


def convert_jtl(path: str, warmup: int) -> tuple[list, list]:
    """Per-second and per-endpoint statistics from a JMeter CSV result file.

    A sample is an error when JMeter marked it unsuccessful (which includes
    every HTTP status >= 400 and every connection failure).  Seconds are
    bucketed by the sample's end time (timeStamp + elapsed), like wrk.
    """
    per_sec: dict = {}
    samples: list = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            ep = row["label"]
            elapsed = int(row["elapsed"])
            end_ms = int(row["timeStamp"]) + elapsed
            ok = row["success"] == "true"
            samples.append((ep, end_ms, elapsed, ok))
    if not samples:
        return [], []
    t0 = min(s[1] for s in samples)
    counts = [0] * ((max(s[1] for s in samples) - t0) // 1000 + 1)
    for s in samples:
        counts[(s[1] - t0) // 1000] += 1
    ramp = ramp_end_s(counts, warmup)
    cutoff = t0 + ramp * 1000
    for ep, end_ms, elapsed, ok in samples:
        b = per_sec.setdefault((ep, end_ms // 1000), [0, 0, []])
        b[0] += 1
        b[1] += 0 if ok else 1
        b[2].append(elapsed)
    seconds = []
    for (ep, sec), (n, err, lat) in sorted(per_sec.items()):
        lat.sort()
        seconds.append((ep, sec, n, err, {"p50": percentile(lat, 50), "p95": percentile(lat, 95),
                                          "p99": percentile(lat, 99), "max": float(lat[-1])}))
    summaries = []
    for ep in sorted({s[0] for s in samples}):
        kept = [s for s in samples if s[0] == ep and s[1] >= cutoff]
        if not kept:
            continue
        lat = sorted(s[2] for s in kept)
        span = (max(s[1] for s in kept) - cutoff) / 1000.0
        summaries.append(Summary(ep, len(kept), sum(1 for s in kept if not s[3]),
                                 max(span, 1e-3),
                                 {"p50": percentile(lat, 50), "p90": percentile(lat, 90),
                                  "p95": percentile(lat, 95), "p99": percentile(lat, 99),
                                  "max": float(lat[-1]), "mean": sum(lat) / len(lat)},
                                 ramp_s=float(ramp)))
    return seconds, summaries
