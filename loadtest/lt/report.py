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

DRIVER_ORDER = ("psqlpy", "psqlpy-rust", "asyncpg", "psycopg")
COLORS = {"psqlpy": "#1f77b4", "psqlpy-rust": "#ff7f0e", "asyncpg": "#2ca02c", "psycopg": "#d62728"}


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
                            "AND \"tool\" = 'wrk' GROUP BY \"network\", \"driver\", \"endpoint\"")
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
              f"{p['jmeter_duration']} s of which the first {p['jmeter_warmup']} s are left out as warm-up")
    if meta.get("delay_ms"):
        md.append(f"- `delay…` rows: PostgreSQL behind the delay proxy, +{meta['delay_ms']:g} ms per client→server trip")
    md.append("- CPU columns: percent of one core over the measured window (generator = wrk or JMeter itself)")
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
    for network in networks:
        md.append(f"## Network: {network}")
        md.append("")
        md.append("### wrk, maximum rate (one endpoint at a time)")
        md.append("")
        proxied = any(r.get("proxy_cpu_pct") is not None for k, r in by.items() if k[0] == network)
        md.append("| endpoint | driver | req/s | vs asyncpg | p50 ms | p90 ms | p99 ms | errors | wrk CPU % | app CPU % | PG CPU % |"
                  + (" proxy CPU % |" if proxied else ""))
        md.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|" + ("--:|" if proxied else ""))
        for ep in ENDPOINTS + ("health",):
            base = by.get((network, "wrk", "asyncpg", ep))
            for d in drivers:
                r = by.get((network, "wrk", d, ep))
                if r is None:
                    md.append(f"| {ep} | {d} | – |" + " |" * (9 if proxied else 8))
                    continue
                ratio = f"{r['rps'] / base['rps']:.2f}×" if base and base["rps"] else "–"
                md.append(f"| {ep} | {d} | {_fmt(r['rps'], 0)} | {ratio} | {_fmt(r.get('p50_ms'), 2)} | "
                          f"{_fmt(r.get('p90_ms'), 2)} | {_fmt(r.get('p99_ms'), 2)} | {r['errors']} | "
                          f"{_fmt(r.get('gen_cpu_pct'), 0)} | {_fmt(r.get('app_cpu_pct'), 0)} | {_fmt(r.get('pg_cpu_pct'), 0)} |"
                          + (f" {_fmt(r.get('proxy_cpu_pct'), 0)} |" if proxied else ""))
        md.append("")
        md.append("`health` answers without touching the database: the most the app's framework serves on its core.")
        md.append("")
        md.append("### JMeter scenario (all endpoints at once)")
        md.append("")
        md.append("| endpoint | driver | req/s | p50 ms | p95 ms | p99 ms | errors | JMeter CPU % | app CPU % | PG CPU % |")
        md.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|")
        for ep in ENDPOINTS:
            for d in drivers:
                r = by.get((network, "jmeter", d, ep))
                if r is None:
                    continue
                md.append(f"| {ep} | {d} | {_fmt(r['rps'], 0)} | {_fmt(r.get('p50_ms'), 0)} | {_fmt(r.get('p95_ms'), 0)} | "
                          f"{_fmt(r.get('p99_ms'), 0)} | {r['errors']} | {_fmt(r.get('gen_cpu_pct'), 0)} | "
                          f"{_fmt(r.get('app_cpu_pct'), 0)} | {_fmt(r.get('pg_cpu_pct'), 0)} |")
        md.append("")
        for name in _charts(by, seconds, network, drivers, out):
            md.append(f"![{name}]({name})")
        md.append("")
    md.append("JMeter's latencies have millisecond resolution (JMeter 2.13 records whole ms); "
              "wrk's are microsecond-accurate.")
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
        _bar_figure(by, network, "wrk", drivers, [("rps", f"wrk throughput ({network})", "requests/s"),
                                         ("p50_ms", "wrk p50 latency", "ms"),
                                         ("p99_ms", "wrk p99 latency", "ms")],
                    out, f"wrk-{network}.png"),
        _bar_figure(by, network, "jmeter", drivers, [("rps", f"JMeter scenario throughput ({network})", "requests/s"),
                                            ("p95_ms", "JMeter scenario p95 latency", "ms")],
                    out, f"jmeter-{network}.png"),
    ]

    series = collections.defaultdict(list)
    for r in seconds:
        if r["network"] == network:
            series[(r["driver"], r["endpoint"])].append((r["time"], r["requests"]))
    fig, axes = plt.subplots(1, len(ENDPOINTS), figsize=(16, 3.8), sharey=False)
    for ax, ep in zip(axes, ENDPOINTS):
        for d in drivers:
            pts = sorted(series.get((d, ep), []))
            if pts:
                t0 = pts[0][0]
                ax.plot([(t - t0) / 1000 for t, _ in pts], [v for _, v in pts], marker=".",
                        label=d, color=COLORS.get(d))
        ax.set_title(f"{ep}: wrk responses per second")
        ax.set_xlabel("s into the run")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    name = f"timeline-{network}.png"
    fig.savefig(os.path.join(out, name), dpi=90)
    plt.close(fig)
    names.append(name)
    return names
