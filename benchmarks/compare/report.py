"""Turn the raw per-run figures into results.json, results.md and charts/.

Aggregation over rounds: the median of queries/s, rows/s, p50 and p99 (each
taken separately), the maximum of peak RSS. Ratios are computed from those
medians: `ratio_to_asyncpg` = driver q/s / asyncpg q/s on the same workload,
view and loop, `ratio_to_pgbench` = driver q/s / pgbench q/s on the same
workload. The spread of a ratio is given by the lowest and highest q/s of
each side over the rounds.
"""

from __future__ import annotations

import json
import os
import statistics

import workloads

DRIVER_ORDER = ["psqlpy", "asyncpg", "psycopg", "psqlpy-rust"]
LOOP_ORDER = ["uvloop", "asyncio"]
VIEW_ORDER = list(workloads.VIEWS)
VIEW_TITLES = {
    "held": "a connection held per task",
    "pool": "pool per query",
}


def index(results):
    """(workload, view, loop, driver) -> aggregated row."""
    return {(r["workload"], r["view"], r["loop"], r["driver"]): r for r in results}
COLORS = {"psqlpy": "#d62728", "asyncpg": "#1f77b4", "psycopg": "#2ca02c",
          "psqlpy-rust": "#ff7f0e", "pgbench": "#7f7f7f"}


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _ratio(a, b):
    return a / b if a is not None and b else None


def aggregate(raw_runs, raw_pgbench):
    """raw_runs: worker JSON dicts (one per run); raw_pgbench: pgbench run
    dicts. Returns (results, pgbench) lists of aggregated rows."""
    pgb = []
    by_w = {}
    for r in raw_pgbench:
        by_w.setdefault(r["workload"], []).append(r)
    for wname, runs in by_w.items():
        ok = [r for r in runs if r["status"] == "ok"]
        row = {"workload": wname, "status": "ok" if ok and len(ok) == len(runs) else "error",
               "concurrency": runs[0].get("concurrency"), "threads": runs[0].get("threads"),
               "rounds": runs}
        if ok:
            row.update(_summarise(ok))
        else:
            row["reason"] = runs[-1].get("reason")
        pgb.append(row)
    pgb_qps = {r["workload"]: r.get("qps") for r in pgb}

    groups = {}
    for r in raw_runs:
        groups.setdefault((r["workload"], r.get("view", "held"), r["loop"], r["driver"]),
                          []).append(r)
    results = []
    for (wname, view, loop, driver), runs in groups.items():
        ok = [r for r in runs if r["status"] == "ok"]
        bad = [r for r in runs if r["status"] != "ok"]
        row = {"workload": wname, "view": view, "loop": loop, "driver": driver,
               "status": bad[0]["status"] if bad else "ok",
               "concurrency": runs[0].get("concurrency"), "rounds": runs}
        if bad:
            row["reason"] = f"{bad[0].get('phase', '?')}: {bad[0].get('reason', '?')}"
        if ok:
            row.update(_summarise(ok))
        results.append(row)

    base = {(r["workload"], r["view"], r["loop"]): r for r in results
            if r["driver"] == "asyncpg" and r.get("qps")}
    for r in results:
        ref = base.get((r["workload"], r["view"], r["loop"]))
        r["ratio_to_asyncpg"] = _ratio(r.get("qps"), ref and ref.get("qps"))
        # the spread: our worst round against their best, and the other way
        r["ratio_to_asyncpg_min"] = _ratio(r.get("qps_min"), ref and ref.get("qps_max"))
        r["ratio_to_asyncpg_max"] = _ratio(r.get("qps_max"), ref and ref.get("qps_min"))
        r["rss_ratio_to_asyncpg"] = _ratio(r.get("peak_rss_mb"), ref and ref.get("peak_rss_mb"))
        r["ratio_to_pgbench"] = _ratio(r.get("qps"), pgb_qps.get(r["workload"]))
    results.sort(key=_sort_key)
    pgb.sort(key=lambda r: _workload_index(r["workload"]))
    return results, pgb


def _summarise(ok_runs):
    qps = [r["qps"] for r in ok_runs]
    return {
        "qps": _median(qps),
        "qps_min": min(qps), "qps_max": max(qps),
        "rows_per_s": _median([r.get("rows_per_s") for r in ok_runs]),
        "p50_ms": _median([r.get("p50_ms") for r in ok_runs]),
        "p99_ms": _median([r.get("p99_ms") for r in ok_runs]),
        "mean_ms": _median([r.get("mean_ms") for r in ok_runs]),
        "peak_rss_mb": max((r.get("peak_rss_mb") or 0) for r in ok_runs) or None,
        "baseline_rss_mb": _median([r.get("baseline_rss_mb") for r in ok_runs]),
        "ok_rounds": len(ok_runs),
    }


def _workload_index(name):
    return [w.name for w in workloads.WORKLOADS].index(name)


def _sort_key(r):
    d = r["driver"]
    return (_workload_index(r["workload"]), VIEW_ORDER.index(r["view"]),
            LOOP_ORDER.index(r["loop"]) if r["loop"] in LOOP_ORDER else 9,
            DRIVER_ORDER.index(d) if d in DRIVER_ORDER else 9)


# -- JSON ------------------------------------------------------------------

def write_json(path, meta, drivers, results, pgbench, problems, not_run=()):
    doc = {
        "schema": 1, "meta": meta, "drivers": drivers,
        "workloads": {w.name: {"title": w.title, "sql": w.sql, "params": list(w.params),
                               "pooled": w.pooled, "views": list(w.views),
                               "concurrency": workloads.concurrency_for(w, meta["concurrency"])}
                      for w in workloads.WORKLOADS if w.name in meta["workloads"]},
        "results": results, "pgbench": pgbench, "problems": problems,
        "not_run": list(not_run),
    }
    with open(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")


# -- Markdown --------------------------------------------------------------

def _num(v, digits=0):
    if v is None:
        return "–"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def _x(v):
    return "–" if v is None else f"{v:.2f}×"


def _spread(r):
    lo, hi = r.get("ratio_to_asyncpg_min"), r.get("ratio_to_asyncpg_max")
    if lo is None or hi is None or r.get("ok_rounds", 1) < 2:
        return ""
    return f" {lo:.2f}–{hi:.2f}"


def _pct(v):
    return "–" if v is None else f"{v * 100:.0f}%"


def write_markdown(path, meta, drivers, results, pgbench, problems, not_run=()):
    present = [d for d in DRIVER_ORDER if d in drivers]
    idx = index(results)
    pgb = {r["workload"]: r for r in pgbench}
    loops = [lp for lp in LOOP_ORDER if lp in meta["loops"]]
    views = [v for v in VIEW_ORDER if v in meta.get("views", VIEW_ORDER)]
    lines = [f"# Driver comparison, {meta['mode']} mode, {meta['date']}", ""]
    lines.append(
        f"{meta['machine']}; PostgreSQL {meta['server_version']} on the same machine; "
        f"Python {meta['python']}. Concurrency {meta['concurrency']} (pool size = "
        f"concurrency) unless the workload says otherwise; {meta['warmup']} s warm-up + "
        f"{meta['duration']} s per run, {meta['rounds']} round(s), drivers interleaved; "
        "medians over rounds.")
    lines.append("")
    def describe(d):
        info = drivers[d]
        text = " ".join(t for t in (f"**{d}**", info.get("version"),
                                    f"({info['label']})" if info.get("label") else "") if t)
        if info.get("status") != "ok":
            text += f" (**{info['status']}**: {info.get('reason', '')})"
        return text
    lines.append("Drivers: " + "; ".join(describe(d) for d in present) + ".")
    lines.append("")
    if problems:
        lines += ["**Problems in this run:**", ""] + [f"- {p}" for p in problems] + [""]
    if not_run:
        lines += ["**Not run** (a known fault of that driver, shown as \"not run\" below):", ""]
        lines += [f"- {n['driver']}, {n['workload']} on {n['loop']}: {n['reason']}"
                  for n in not_run] + [""]
    skipped = {(n["workload"], n["view"], n["loop"], n["driver"]) for n in not_run}

    for view in views:
        for loop in loops:
            if meta["mode"] == "short" and view == "pool" and loop != "uvloop":
                continue
            wl = [w for w in workloads.WORKLOADS
                  if w.name in meta["workloads"] and view in w.views]
            if not wl:
                continue
            lines += [f"## {VIEW_TITLES[view].capitalize()} ({view}), {loop}", "",
                      "Operations/s (an operation is one query, one 1,000-row batch or one "
                      "COPY); in brackets: × asyncpg (with the lowest–highest over the "
                      "rounds when there are several), and share of pgbench's (C, libpq) "
                      "rate.", ""]
            head = ["workload", "pgbench (C)"] + present
            lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for w in wl:
                c = workloads.concurrency_for(w, meta["concurrency"])
                shape = f"c={c}"
                if w.pool_size:
                    shape += (f", pool {w.pool_size}, pgbench -c "
                              f"{workloads.pgbench_clients_for(w, meta['concurrency'])}")
                cells = [f"{w.title} ({shape})", _num(pgb.get(w.name, {}).get("qps"))]
                for d in present:
                    r = idx.get((w.name, view, loop, d))
                    if (w.name, view, loop, d) in skipped:
                        cells.append("not run")
                    elif r is None or not r.get("qps"):
                        cells.append(r["status"] if r else "–")
                    else:
                        cells.append(f"{_num(r['qps'], 0 if r['qps'] >= 10 else 2)} "
                                     f"({_x(r['ratio_to_asyncpg'])}{_spread(r)}, "
                                     f"{_pct(r['ratio_to_pgbench'])})")
                lines.append("| " + " | ".join(cells) + " |")
            lines.append("")

    lines += ["## Latency, peak memory", "",
              "Single-connection round trips (`latency`), the 200,000-row result "
              "(`big_result`) and the COPY of 1,000,000 rows (`copy`): p50 / p99 in ms; "
              "peak RSS of the client process in MB (for pgbench too: the whole C client).",
              ""]
    head = ["client", "loop", "latency p50 / p99 ms", "big_result p50 / p99 ms",
            "big_result peak RSS MB (× asyncpg)", "copy p50 ms", "copy peak RSS MB (× asyncpg)"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def lat_cells(lat, big):
        return [f"{_num(lat.get('p50_ms'), 3)} / {_num(lat.get('p99_ms'), 3)}",
                f"{_num(big.get('p50_ms'), 1)} / {_num(big.get('p99_ms'), 1)}"]

    def rss_cell(r):
        return (f"{_num(r.get('peak_rss_mb'), 1)} ({_x(r.get('rss_ratio_to_asyncpg'))})"
                if r.get("peak_rss_mb") else r.get("status", "–"))
    lines.append("| " + " | ".join(["pgbench (C)", "–"] + lat_cells(
        pgb.get("latency", {}), pgb.get("big_result", {}))
        + [_num(pgb.get("big_result", {}).get("peak_rss_mb"), 1), "–", "–"]) + " |")
    for d in present:
        for loop in loops:
            lat = idx.get(("latency", "held", loop, d)) or {}
            big = idx.get(("big_result", "held", loop, d)) or {}
            cp = idx.get(("copy", "held", loop, d)) or {}
            lines.append("| " + " | ".join([d, loop] + lat_cells(lat, big) + [
                rss_cell(big), _num(cp.get("p50_ms"), 0), rss_cell(cp)]) + " |")
    lines.append("")

    lines += ["## Every figure", "",
              "q/s range: lowest and highest over the rounds (the noise).", ""]
    head = ["workload", "view", "loop", "client", "status", "q/s", "q/s range", "rows/s",
            "p50 ms", "p99 ms", "peak RSS MB", "× asyncpg", "× pgbench"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    rows = [(r["workload"], "–", "–", "pgbench", r) for r in pgbench]
    rows += [(r["workload"], r["view"], r["loop"], r["driver"], r) for r in results]
    rows.sort(key=lambda t: (_workload_index(t[0]), t[3] != "pgbench"))
    for wname, view, loop, client, r in rows:
        status = r["status"] if r["status"] == "ok" else f"{r['status']}: {r.get('reason', '')}"
        rng = (f"{_num(r.get('qps_min'), 2)}–{_num(r.get('qps_max'), 2)}"
               if r.get("qps_min") is not None else "–")
        lines.append("| " + " | ".join([
            wname, view, loop, client, status.replace("|", "/"),
            _num(r.get("qps"), 0 if (r.get("qps") or 0) >= 10 else 2), rng,
            _num(r.get("rows_per_s")), _num(r.get("p50_ms"), 3), _num(r.get("p99_ms"), 3),
            _num(r.get("peak_rss_mb"), 1), _x(r.get("ratio_to_asyncpg")),
            _pct(r.get("ratio_to_pgbench"))]) + " |")
    lines.append("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


# -- Charts ----------------------------------------------------------------

def write_charts(chart_dir, meta, drivers, results, pgbench):
    """PNG charts (matplotlib, Agg). Returns the list of files written."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(chart_dir, exist_ok=True)
    present = [d for d in DRIVER_ORDER if d in drivers]
    loops = [lp for lp in LOOP_ORDER if lp in meta["loops"]]
    run_wl = [w for w in workloads.WORKLOADS if w.name in meta["workloads"]]
    # The charts show the held view (the workloads that have it: shared_pool
    # is pool-only); the pool view gets a ratio chart of its own.
    wl = [w for w in run_wl if "held" in w.views]
    idx = {(r["workload"], r["loop"], r["driver"]): r for r in results if r["view"] == "held"}
    pool_idx = {(r["workload"], r["loop"], r["driver"]): r for r in results
                if r["view"] == "pool"}
    pgb = {r["workload"]: r for r in pgbench}
    subtitle = (f"{meta['mode']} run {meta['date']}, {meta['machine']}, "
                f"concurrency {meta['concurrency']}")
    written = []

    all_wl = wl

    def ratio_chart(fname, key, title, xlabel, ref_label, clip=3.0, idx=idx, wl=all_wl):
        # Bars past `clip` are cut at it (their label keeps the true value),
        # so one outlier does not flatten every other bar.
        fig, axes = plt.subplots(1, len(loops), figsize=(6.5 * len(loops), 0.75 * len(wl) * len(present) / 2 + 2),
                                 sharey=True, squeeze=False)
        bar_h = 0.8 / max(1, len(present))

        def ax_max(loop):
            return [(idx.get((w.name, loop, d)) or {}).get(key) or 0
                    for w in wl for d in present]
        for ax, loop in zip(axes[0], loops):
            for i, d in enumerate(present):
                ys, xs, labels = [], [], []
                for j, w in enumerate(wl):
                    r = idx.get((w.name, loop, d)) or {}
                    v = r.get(key)
                    ys.append(j + (i - (len(present) - 1) / 2) * bar_h)
                    xs.append(min(v or 0, clip))
                    labels.append((f"{v:.2f}" + (" (cut)" if v > clip else "")) if v
                                  else (r.get("status") or "n/a"))
                bars = ax.barh(ys, xs, height=bar_h * 0.9, color=COLORS.get(d), label=d)
                for b, text in zip(bars, labels):
                    ax.text(b.get_width(), b.get_y() + b.get_height() / 2, " " + text,
                            va="center", fontsize=7)
            ax.axvline(1.0, color="black", linewidth=1, linestyle="--")
            ax.set_title(f"{loop}", fontsize=11)
            ax.set_xlabel(xlabel)
            ax.set_yticks(range(len(wl)))
            ax.set_yticklabels([w.name for w in wl])
            ax.invert_yaxis()
            ax.grid(axis="x", alpha=0.3)
            ax.set_xlim(0, min(clip, max([1.0] + [b for b in ax_max(loop)])) * 1.18)
        handles, names = axes[0][0].get_legend_handles_labels()
        fig.suptitle(f"{title}\n{subtitle}", fontsize=11)
        fig.legend(handles, names, loc="lower center", ncol=len(present), fontsize=9,
                   bbox_to_anchor=(0.5, 0.018), frameon=False)
        fig.text(0.5, 0.005, ref_label, ha="center", fontsize=8)
        fig.tight_layout(rect=(0, 0.05, 1, 1))
        out = os.path.join(chart_dir, fname)
        fig.savefig(out, dpi=110)
        plt.close(fig)
        written.append(out)

    ratio_chart("ratio_vs_asyncpg.png", "ratio_to_asyncpg",
                "Throughput relative to asyncpg, a connection held per task (higher is better)",
                "× asyncpg (same workload, same loop)",
                "dashed line: asyncpg; every bar is a median over rounds")
    pool_wl = [w for w in run_wl if "pool" in w.views]
    if pool_idx and pool_wl:
        ratio_chart("ratio_vs_asyncpg_pool.png", "ratio_to_asyncpg",
                    "Throughput relative to asyncpg, pool per query (higher is better)",
                    "× asyncpg (same workload, same loop)",
                    "dashed line: asyncpg; each query borrows from the pool; asyncpg's "
                    "pool resets the connection on every release", idx=pool_idx, wl=pool_wl)
    ratio_chart("share_of_pgbench.png", "ratio_to_pgbench",
                "Throughput as a share of pgbench -M prepared, the C client limit",
                "driver q/s ÷ pgbench q/s (same SQL, same concurrency)",
                "dashed line: pgbench; a Python driver also builds Python objects, pgbench does not")

    # Absolute throughput, one panel per workload.
    ncol = 4
    nrow = -(-len(wl) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), squeeze=False)
    for k, w in enumerate(wl):
        ax = axes[k // ncol][k % ncol]
        xs, vals, cols, hatches = [], [], [], []
        for i, d in enumerate(present):
            for j, loop in enumerate(loops):
                r = idx.get((w.name, loop, d)) or {}
                xs.append(i * (len(loops) + 0.6) + j)
                vals.append(r.get("qps") or 0)
                cols.append(COLORS.get(d))
                hatches.append("" if loop == "uvloop" else "//")
        bars = ax.bar(xs, vals, color=cols, edgecolor="white")
        for b, h in zip(bars, hatches):
            b.set_hatch(h)
        ref = pgb.get(w.name, {}).get("qps")
        if ref:
            ax.axhline(ref, color=COLORS["pgbench"], linestyle="--", linewidth=1)
            ax.text(xs[-1] + 0.5, ref, "pgbench", fontsize=7, va="bottom", ha="right",
                    color=COLORS["pgbench"])
            ax.set_ylim(0, max([ref] + vals) * 1.12)
        ax.set_xticks([i * (len(loops) + 0.6) + (len(loops) - 1) / 2 for i in range(len(present))])
        ax.set_xticklabels(present, fontsize=8, rotation=20)
        ax.set_title(f"{w.name} (c={workloads.concurrency_for(w, meta['concurrency'])})", fontsize=9)
        ax.set_ylabel("ops/s", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    for k in range(len(wl), nrow * ncol):
        axes[k // ncol][k % ncol].axis("off")
    fig.suptitle(f"Operations per second, a connection held per task; solid: uvloop, hatched: default asyncio loop\n{subtitle}",
                 fontsize=11)
    fig.tight_layout()
    out = os.path.join(chart_dir, "throughput.png")
    fig.savefig(out, dpi=100)
    plt.close(fig)
    written.append(out)

    # Latency and memory.
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    clients = [("pgbench", None)] + [(d, lp) for d in present for lp in loops]
    names = ["pgbench" if lp is None else f"{d}\n{lp}" for d, lp in clients]

    def fetch(wname, d, lp):
        return (pgb.get(wname) if lp is None else idx.get((wname, lp, d))) or {}
    for ax, wname, key, label in [
            (axes[0], "latency", "ms", "single-connection SELECT 1+1: latency (ms)"),
            (axes[1], "big_result", "ms", "200,000-row result: time per query (ms)"),
            (axes[2], "big_result", "rss", "200,000-row result: peak RSS of the client (MB)")]:
        xs = range(len(clients))
        if wname not in meta["workloads"]:
            ax.axis("off")
            continue
        if key == "ms":
            p50 = [fetch(wname, d, lp).get("p50_ms") or 0 for d, lp in clients]
            p99 = [fetch(wname, d, lp).get("p99_ms") or 0 for d, lp in clients]
            ax.bar([x - 0.2 for x in xs], p50, width=0.4,
                   color=[COLORS.get(d) for d, _ in clients], label="p50")
            ax.bar([x + 0.2 for x in xs], p99, width=0.4, alpha=0.45,
                   color=[COLORS.get(d) for d, _ in clients], label="p99 (light)")
            ax.legend(fontsize=8)
        else:
            vals = [fetch(wname, d, lp).get("peak_rss_mb") or 0 for d, lp in clients]
            bars = ax.bar(list(xs), vals, color=[COLORS.get(d) for d, _ in clients])
            for b, v in zip(bars, vals):
                ax.text(b.get_x() + b.get_width() / 2, v, f"{v:.0f}", ha="center",
                        va="bottom", fontsize=7)
        ax.set_xticks(list(xs))
        ax.set_xticklabels(names, fontsize=7)
        ax.set_title(label, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"Latency and memory (lower is better)\n{subtitle}", fontsize=11)
    fig.tight_layout()
    out = os.path.join(chart_dir, "latency_memory.png")
    fig.savefig(out, dpi=100)
    plt.close(fig)
    written.append(out)
    return written
