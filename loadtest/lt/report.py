"""The run's report: markdown tables and PNG charts, read back from InfluxDB.

Everything here comes from the run's InfluxDB, so the report also shows
that the metrics arrived there.
"""

from __future__ import annotations

import collections
import datetime
import math
import os
import platform

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .loadgen import ENDPOINTS  # noqa: E402

DRIVER_ORDER = ("psqlpy", "psqlpy-013", "psqlpy-rust", "asyncpg", "psycopg")
COLORS = {"psqlpy": "#1f77b4", "psqlpy-013": "#9467bd", "psqlpy-rust": "#ff7f0e",
          "asyncpg": "#2ca02c", "psycopg": "#d62728"}
MEDIAN_FIELDS = ("rps", "rps_per_app_cpu_s", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
                 "gen_cpu_pct", "app_cpu_pct", "pg_cpu_pct", "proxy_cpu_pct", "ramp_s")


GRAFANA_URL = "http://127.0.0.1:3000"
DASHBOARDS = ("psqlpy-loadtest", "psqlpy-loadtest-jmeter")


def grafana_links(meta: dict) -> list:
    """(dashboard uid, URL) with the time range and run of this run, so a
    kept run opens on its own data rather than on the last hour."""
    q = f"from={meta['start_ms']}&to={meta['end_ms']}&var-run={meta['run']}"
    return [(uid, f"{GRAFANA_URL}/d/{uid}?{q}") for uid in DASHBOARDS]


def _median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def aggregate(summaries: list) -> dict:
    """Summary rows (one per network, tool, driver, endpoint and round) ->
    {(network, tool, driver, endpoint): row of medians over the rounds},
    each with `rounds`, `errors` (the sum) and the lowest and highest
    req/s and req per app-CPU-second (`rps_min`, `rps_max`, `cpu_min`,
    `cpu_max`)."""
    groups: dict = {}
    for r in summaries:
        groups.setdefault((r["network"], r["tool"], r["driver"], r["endpoint"]), []).append(r)
    out = {}
    for key, rows in groups.items():
        row = {f: _median([r.get(f) for r in rows]) for f in MEDIAN_FIELDS}
        rps = [r["rps"] for r in rows if r.get("rps") is not None]
        cpu = [r["rps_per_app_cpu_s"] for r in rows if r.get("rps_per_app_cpu_s") is not None]
        row.update(rounds=len(rows), errors=sum(int(r.get("errors") or 0) for r in rows),
                   rps_min=min(rps, default=None), rps_max=max(rps, default=None),
                   cpu_min=min(cpu, default=None), cpu_max=max(cpu, default=None))
        out[key] = row
    return out


def ratio(r: dict | None, base: dict | None, field: str = "rps") -> tuple:
    """(median ratio, lowest, highest) of r against base on `field` (rps or
    the per-CPU rate): the spread pairs one side's worst round with the
    other's best."""
    lo_f, hi_f = ("rps_min", "rps_max") if field == "rps" else ("cpu_min", "cpu_max")
    if not r or not base or not base.get(field) or r.get(field) is None:
        return None, None, None
    lo = r[lo_f] / base[hi_f] if r.get(lo_f) is not None and base.get(hi_f) else None
    hi = r[hi_f] / base[lo_f] if r.get(hi_f) is not None and base.get(lo_f) else None
    return r[field] / base[field], lo, hi


def _x(t: tuple) -> str:
    mid, lo, hi = t
    if mid is None:
        return "–"
    if lo is None or hi is None or abs(hi - lo) < 1e-9:
        return f"{mid:.2f}×"
    return f"{mid:.2f}× ({lo:.2f}–{hi:.2f})"


def _range(v, lo, hi, digits=0) -> str:
    if v is None:
        return "–"
    if lo is None or hi is None or lo == hi:
        return _fmt(v, digits)
    return f"{_fmt(v, digits)} ({_fmt(lo, digits)}–{_fmt(hi, digits)})"


def noise_floor(agg: dict, network: str) -> float | None:
    """How far apart the drivers' medians on /health are (highest ÷ lowest,
    per app-CPU-second where measured): the same code in every app, so any
    difference there is the machine's noise, not the driver's."""
    vals = [r.get("rps_per_app_cpu_s") or r.get("rps") for (n, t, d, e), r in agg.items()
            if n == network and t == "wrk" and e == "health"]
    vals = [v for v in vals if v]
    if len(vals) < 2:
        return None
    return max(vals) / min(vals)


def verdict(agg: dict, network: str, ours: str = "psqlpy", base: str = "asyncpg") -> str:
    """One line: the noise floor from /health and, per endpoint, ours ÷
    asyncpg in requests per app-CPU-second, and whether each ratio's whole
    spread over the rounds lies outside the noise floor."""
    floor = noise_floor(agg, network)
    if floor is None:
        return f"Verdict ({network}): no /health figures for two drivers, so no noise floor; no verdict."
    parts, beyond = [], []
    for ep in ENDPOINTS:
        r, b = agg.get((network, "wrk", ours, ep)), agg.get((network, "wrk", base, ep))
        field = "rps_per_app_cpu_s" if r and b and r.get("rps_per_app_cpu_s") and \
            b.get("rps_per_app_cpu_s") else "rps"
        mid, lo, hi = ratio(r, b, field)
        if mid is None:
            parts.append(f"{ep} –")
            continue
        lo = mid if lo is None else lo
        hi = mid if hi is None else hi
        parts.append(f"{ep} {mid:.2f}×")
        if lo > floor:
            beyond.append(f"{ep} faster")
        elif hi < 1 / floor:
            beyond.append(f"{ep} slower")
    told = ", ".join(beyond) if beyond else "none"
    return (f"Verdict ({network}): /health, identical code in every app, spreads {floor:.2f}× "
            f"between drivers (the noise floor); {ours} ÷ {base} in requests per app-CPU-second: "
            f"{', '.join(parts)}; beyond the noise floor in every round: {told}.")


def _rows(client, q: str) -> list[dict]:
    out = []
    for res in client.query(q):
        for series in res.get("series", []):
            cols = series["columns"]
            for vals in series["values"]:
                row = dict(zip(cols, vals))
                row.update(series.get("tags", {}))
                out.append(row)
    return out


def _fmt(v, digits=1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    return f"{v:,.{digits}f}"


def _order(drivers) -> list[str]:
    return [d for d in DRIVER_ORDER if d in drivers] + sorted(set(drivers) - set(DRIVER_ORDER))


def load(client, run_id: str):
    summaries = _rows(client, f"SELECT * FROM http_summary WHERE \"run\" = '{run_id}'")
    seconds = _rows(client, f"SELECT requests, errors FROM http WHERE \"run\" = '{run_id}' "
                            "AND \"tool\" = 'wrk' GROUP BY \"network\", \"driver\", \"endpoint\", \"round\"")
    status = _rows(client, f"SELECT ok, message FROM driver_status WHERE \"run\" = '{run_id}' "
                           "GROUP BY \"network\", \"driver\"")
    return summaries, seconds, status


def write(client, meta: dict, out: str) -> str:
    run_id = meta["run"]
    summaries, seconds, status = load(client, run_id)
    by = {(r["network"], r["tool"], r["driver"], r["endpoint"]): r for r in summaries}
    networks = list(dict.fromkeys(r["network"] for r in sorted(summaries, key=lambda r: r["time"])))
    drivers = _order({r["driver"] for r in summaries} | set(meta["drivers"]))
    p = meta["params"]
    md = [f"# psqlpy load test, run {run_id}", ""]
    md.append(f"- profile **{meta['profile']}**, {datetime.datetime.fromtimestamp(meta['start_ms'] / 1000):%Y-%m-%d %H:%M}, "
              f"{os.cpu_count()} CPUs, {platform.platform()}")
    md.append(f"- table `accounts`: {p['rows']:,} rows; pool size {meta['pool_size']} per app; "
              f"app pinned to CPU {meta['app_cpu']}, load generator to CPU {meta['gen_cpu']}, PostgreSQL unpinned")
    md.append(f"- wrk: {meta['connections']} connections, one endpoint at a time, "
              f"{p['wrk_warmup']} s warm-up + {p['wrk_duration']} s measured")
    md.append(f"- JMeter 2.13 scenario: {meta['jmeter_threads_per_endpoint']} users per endpoint, all four endpoints at once, "
              f"{p['jmeter_duration']} s of which the ramp (at least the first {p['jmeter_warmup']} s) is left out")
    if meta.get("delay_ms"):
        md.append(f"- `delay…` rows: PostgreSQL behind the delay proxy, +{meta['delay_ms']:g} ms per client→server trip")
    md.append(f"- {meta.get('rounds', 1)} round(s) per driver"
              + (f" ({meta.get('delay_rounds', 1)} on the delayed network)" if meta.get("delay_ms") else "")
              + ", interleaved: every driver once per round, the order rotated by one each round; "
              "a fresh app process per driver and round")
    md.append("- CPU columns: percent of one core over the measured window (generator = wrk or JMeter itself)")
    md.append("- this run in Grafana (with `--keep-influx` and grafana/docker-compose.yml): "
              + ", ".join(f"[{uid}]({url})" for uid, url in grafana_links(meta)))
    md.append("")
    md.append("## Drivers")
    md.append("")
    md.append("| network | driver | status | detail |")
    md.append("|---|---|---|---|")
    for r in sorted(status, key=lambda r: (r["network"], _order([r["driver"]]))):
        detail = r["message"].replace("|", "\\|").replace("\n", " ")[:300]
        md.append(f"| {r['network']} | {r['driver']} | {'ok' if r['ok'] else '**ERROR**'} | {detail} |")
    for d in drivers:
        if not any(r["driver"] == d for r in status):
            md.append(f"| – | {d} | **not run** | |")
    md.append("")
    agg = aggregate(summaries)
    verdicts = []
    for network in networks:
        md.append(f"## Network: {network}")
        md.append("")
        md.append("### wrk, maximum rate (one endpoint at a time)")
        md.append("")
        md.append("Medians over the rounds, (lowest–highest) in brackets. Per app-CPU-second: "
                  "req/s ÷ the share of a core the app used, the figure the machine's other "
                  "load disturbs least.")
        md.append("")
        proxied = any(r.get("proxy_cpu_pct") is not None for k, r in agg.items() if k[0] == network)
        md.append("| endpoint | driver | rounds | req/s | × asyncpg | req per app-CPU-s | × asyncpg (per CPU) "
                  "| p50 ms | p99 ms | errors | app CPU % | PG CPU % |" + (" proxy CPU % |" if proxied else ""))
        md.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|" + ("--:|" if proxied else ""))
        for ep in ENDPOINTS + ("health",):
            base = agg.get((network, "wrk", "asyncpg", ep))
            for d in drivers:
                r = agg.get((network, "wrk", d, ep))
                if r is None:
                    md.append(f"| {ep} | {d} | 0 | – |" + " |" * (9 if proxied else 8))
                    continue
                md.append(f"| {ep} | {d} | {r['rounds']} | {_range(r['rps'], r['rps_min'], r['rps_max'])} | "
                          f"{_x(ratio(r, base))} | "
                          f"{_range(r['rps_per_app_cpu_s'], r['cpu_min'], r['cpu_max'])} | "
                          f"{_x(ratio(r, base, 'rps_per_app_cpu_s'))} | {_fmt(r.get('p50_ms'), 2)} | "
                          f"{_fmt(r.get('p99_ms'), 2)} | {r['errors']} | "
                          f"{_fmt(r.get('app_cpu_pct'), 0)} | {_fmt(r.get('pg_cpu_pct'), 0)} |"
                          + (f" {_fmt(r.get('proxy_cpu_pct'), 0)} |" if proxied else ""))
        md.append("")
        md.append("`health` answers without touching the database, with the same code in every app: "
                  "its spread between drivers is this run's noise floor.")
        md.append("")
        md.append("### JMeter scenario (all endpoints at once)")
        md.append("")
        md.append("Medians over the rounds; JMeter's ramp (until its rate first reaches 90% of the "
                  "steady rate of the run's second half) is left out, `ramp s` says how much.")
        md.append("")
        md.append("| endpoint | driver | rounds | req/s | req per app-CPU-s | ramp s | p50 ms | p95 ms | p99 ms "
                  "| errors | app CPU % | PG CPU % |")
        md.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
        for ep in ENDPOINTS:
            for d in drivers:
                r = agg.get((network, "jmeter", d, ep))
                if r is None:
                    continue
                md.append(f"| {ep} | {d} | {r['rounds']} | {_range(r['rps'], r['rps_min'], r['rps_max'])} | "
                          f"{_range(r['rps_per_app_cpu_s'], r['cpu_min'], r['cpu_max'])} | "
                          f"{_fmt(r.get('ramp_s'), 0)} | {_fmt(r.get('p50_ms'), 0)} | "
                          f"{_fmt(r.get('p95_ms'), 0)} | {_fmt(r.get('p99_ms'), 0)} | {r['errors']} | "
                          f"{_fmt(r.get('app_cpu_pct'), 0)} | {_fmt(r.get('pg_cpu_pct'), 0)} |")
        md.append("")
        for name in _charts(agg, seconds, network, drivers, out):
            md.append(f"![{name}]({name})")
        md.append("")
        verdicts.append(verdict(agg, network))
    md.append("JMeter's latencies have millisecond resolution (JMeter 2.13 records whole ms); "
              "wrk's are microsecond-accurate.")
    md.append("")
    # the one-line verdict closes the report (one per network setting)
    md.append(" ".join(verdicts) if verdicts else "Verdict: nothing was measured.")
    path = os.path.join(out, "report.md")
    with open(path, "w") as f:
        f.write("\n".join(md) + "\n")
    return path


def _bars(ax, by, network, tool, drivers, field, title, ylabel):
    width = 0.8 / max(1, len(drivers))
    for i, d in enumerate(drivers):
        vals = [by.get((network, tool, d, ep), {}).get(field) or 0 for ep in ENDPOINTS]
        xs = [j + (i - (len(drivers) - 1) / 2) * width for j in range(len(ENDPOINTS))]
        ax.bar(xs, vals, width, label=d, color=COLORS.get(d))
    ax.set_xticks(range(len(ENDPOINTS)), ENDPOINTS)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)


def _bar_figure(by, network, tool, drivers, panels, out, name) -> str:
    """One PNG of bar panels; panels are (field, title, ylabel)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(5.3 * len(panels), 4.5))
    for ax, (field, title, ylabel) in zip(axes, panels):
        _bars(ax, by, network, tool, drivers, field, title, ylabel)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, name), dpi=90)
    plt.close(fig)
    return name


def _charts(by, seconds, network, drivers, out) -> list[str]:
    names = [
        _bar_figure(by, network, "wrk", drivers, [("rps", f"wrk throughput ({network}), median", "requests/s"),
                                         ("rps_per_app_cpu_s", "wrk requests per app-CPU-second", "req / CPU-s"),
                                         ("p99_ms", "wrk p99 latency", "ms")],
                    out, f"wrk-{network}.png"),
        _bar_figure(by, network, "jmeter", drivers, [("rps", f"JMeter scenario throughput ({network})", "requests/s"),
                                            ("p95_ms", "JMeter scenario p95 latency", "ms")],
                    out, f"jmeter-{network}.png"),
    ]

    series = collections.defaultdict(list)
    for r in seconds:
        if r["network"] == network:
            series[(r["driver"], r["endpoint"], r.get("round") or "1")].append(
                (r["time"], r["requests"]))
    fig, axes = plt.subplots(1, len(ENDPOINTS), figsize=(16, 3.8), sharey=False)
    for ax, ep in zip(axes, ENDPOINTS):
        for d in drivers:
            # every round from its own start, one colour per driver
            rounds = sorted(k[2] for k in series if k[0] == d and k[1] == ep)
            for i, rnd in enumerate(rounds):
                pts = sorted(series[(d, ep, rnd)])
                t0 = pts[0][0]
                ax.plot([(t - t0) / 1000 for t, _ in pts], [v for _, v in pts], marker=".",
                        label=d if i == 0 else None, color=COLORS.get(d), alpha=0.8)
        ax.set_title(f"{ep}: wrk responses per second")
        ax.set_xlabel("s into the run (each round from its start)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    name = f"timeline-{network}.png"
    fig.savefig(os.path.join(out, name), dpi=90)
    plt.close(fig)
    names.append(name)
    return names
