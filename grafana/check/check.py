#!/usr/bin/env python3
"""Offline checks of grafana/: the files a real Grafana loads, without Grafana.

1. Schema: the provisioning files and every dashboard validate against the
   JSON Schemas in grafana/schema/, and they agree with each other and with
   docker-compose.yml (datasource uid, mount paths, unique panel ids,
   panels that fit the 24-column grid without overlapping).
2. Queries: every template variable's query and every panel target is
   expanded the way Grafana would (grafana_model.py: $timeFilter,
   $__interval, variables with "All" and with each single value of the
   driver variable) and run against the InfluxDB of a real load-test run.
   An InfluxDB error or a result without any data point fails the check, and
   so does an unreadable panel with the variables at their defaults: a
   graph with more than MAX_SERIES lines, or a table with more rows than
   its height shows (table_capacity).
3. Pictures: each dashboard is drawn to PNG from those same query results,
   panel by panel in its grid layout, so a person can look at it.

Run by loadtest/run.sh at the end of every run, or by hand against a kept
run (`python -m lt.influx OUT/influxdb` in loadtest/ serves one):

  python grafana/check/check.py --influx http://127.0.0.1:8086 \
      --from-ms START --to-ms END --out DIR
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
GRAFANA = os.path.dirname(HERE)
REPO = os.path.dirname(GRAFANA)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "loadtest"))

import grafana_model as gm  # noqa: E402
from lt.influx import InfluxClient  # noqa: E402

PER_VALUE_VARIABLE = "driver"     # every panel must show data for each single driver too
MAX_SERIES = 8                    # lines in one graph before its legend is a blur


def table_capacity(h: int) -> int:
    """Rows a table panel `h` grid units high shows without scrolling (at
    Grafana's default row height, as the pictures draw them)."""
    return max(3, int(h * 1.6) - 1)


def readability_problem(panel: dict, series: list) -> str | None:
    """Why a panel with these query results is not readable, or None.
    series: [(target, [InfluxDB series])] as run_panels collects them."""
    if panel["type"] == "table":
        rows = sum(len(s["values"]) for _, ss in series for s in ss)
        cap = table_capacity(panel["gridPos"]["h"])
        if rows > cap:
            return f"table of {rows} rows, {cap} fit its height (h={panel['gridPos']['h']})"
    else:
        n = sum(len(s["columns"]) - 1 for _, ss in series for s in ss)
        if n > MAX_SERIES:
            return f"{n} series in one graph (at most {MAX_SERIES})"
    return None


class Checker:
    def __init__(self, args) -> None:
        self.args = args
        self.failures: list[str] = []
        self.passed = 0

    def fail(self, what: str) -> None:
        self.failures.append(what)
        print(f"FAIL {what}")

    def ok(self, what: str) -> None:
        self.passed += 1
        if self.args.verbose:
            print(f"ok   {what}")

    # -- 1. files and schemas --------------------------------------------------
    def validate(self, schema_name: str, doc, what: str) -> bool:
        with open(os.path.join(GRAFANA, "schema", schema_name)) as f:
            schema = json.load(f)
        errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
        for e in errors:
            self.fail(f"{what}: schema: at /{'/'.join(map(str, e.path))}: {e.message}")
        if not errors:
            self.ok(f"{what}: schema")
        return not errors

    def check_files(self) -> tuple[dict, list]:
        g = self.args.grafana_dir
        with open(os.path.join(g, "provisioning", "datasources", "influxdb.yaml")) as f:
            ds_doc = yaml.safe_load(f)
        with open(os.path.join(g, "provisioning", "dashboards", "provider.yaml")) as f:
            prov_doc = yaml.safe_load(f)
        self.validate("datasources.schema.json", ds_doc, "datasources provisioning")
        self.validate("dashboard-providers.schema.json", prov_doc, "dashboard provider")
        datasource = ds_doc["datasources"][0]
        with open(os.path.join(g, "docker-compose.yml")) as f:
            compose = yaml.safe_load(f)
        mounts = {}
        for v in compose["services"]["grafana"]["volumes"]:
            src, dst = v.split(":")[:2]
            mounts[dst] = os.path.normpath(os.path.join(g, src))
        for prov in prov_doc["providers"]:
            path = prov["options"]["path"]
            if mounts.get(path) != os.path.join(g, "dashboards"):
                self.fail(f"provider {prov['name']}: path {path} is not where docker-compose.yml mounts grafana/dashboards")
            else:
                self.ok("provider path matches the compose mount")
        for sub in ("datasources", "dashboards"):
            dst = f"/etc/grafana/provisioning/{sub}"
            if mounts.get(dst) != os.path.join(g, "provisioning", sub):
                self.fail(f"docker-compose.yml does not mount provisioning/{sub} at {dst}")
        host = datasource["url"].split("//", 1)[1].split(":")[0]
        if host not in compose["services"]:
            self.fail(f"datasource url host {host!r} is not a compose service")
        dashboards = []
        uids = set()
        for path in sorted(glob.glob(os.path.join(g, "dashboards", "*.json"))):
            name = os.path.basename(path)
            with open(path) as f:
                dash = json.load(f)
            if not self.validate("dashboard.schema.json", dash, name):
                continue
            if dash["uid"] in uids:
                self.fail(f"{name}: duplicate dashboard uid {dash['uid']}")
            uids.add(dash["uid"])
            self.check_layout(name, dash, datasource["uid"])
            dashboards.append((name, dash))
        if not dashboards:
            self.fail("no valid dashboards")
        return datasource, dashboards

    def check_layout(self, name: str, dash: dict, ds_uid: str) -> None:
        ids, cells = set(), {}
        for p in dash["panels"]:
            if p["id"] in ids:
                self.fail(f"{name}: duplicate panel id {p['id']}")
            ids.add(p["id"])
            refs = [p["datasource"]] + [t["datasource"] for t in p["targets"]]
            if any(r["uid"] != ds_uid for r in refs):
                self.fail(f"{name}: panel {p['title']!r} uses a datasource uid other than {ds_uid}")
            gp = p["gridPos"]
            if gp["x"] + gp["w"] > 24:
                self.fail(f"{name}: panel {p['title']!r} is wider than the grid")
            for x in range(gp["x"], gp["x"] + gp["w"]):
                for y in range(gp["y"], gp["y"] + gp["h"]):
                    if (x, y) in cells:
                        self.fail(f"{name}: panels {cells[(x, y)]!r} and {p['title']!r} overlap")
                        break
                    cells[(x, y)] = p["title"]
        for v in dash["templating"]["list"]:
            if v["datasource"]["uid"] != ds_uid:
                self.fail(f"{name}: variable {v['name']} uses another datasource")
        self.ok(f"{name}: layout and references")

    # -- 2. queries ------------------------------------------------------------------
    def resolve_variables(self, name, dash, client, frm, to) -> tuple[dict, dict, dict] | None:
        """Run the variable queries in order; returns (selected, options, defs)."""
        selected, options, defs = {}, {}, {}
        for v in dash["templating"]["list"]:
            defs[v["name"]] = v
            try:
                q = gm.interpolate(v["query"], variables=selected, var_defs=defs,
                                   from_ms=frm, to_ms=to, interval_ms=1000)
                res = client.query(q)
            except (ValueError, RuntimeError) as e:
                self.fail(f"{name}: variable ${v['name']}: {e}")
                return None
            vals = [row[1] for r in res for s in r.get("series", []) for row in s["values"]]
            vals = gm.sort_options(list(dict.fromkeys(vals)), v.get("sort", 0))
            if not vals:
                self.fail(f"{name}: variable ${v['name']}: no values\n  query: {q}")
                return None
            options[v["name"]] = vals
            # Grafana's default selection: All when offered, else the first option.
            selected[v["name"]] = vals if v.get("includeAll") else vals[:1]
            self.ok(f"{name}: variable ${v['name']} = {vals}")
        return selected, options, defs

    def run_panels(self, name, dash, client, frm, to, ds_min, selected, defs, label) -> dict:
        results = {}
        for p in dash["panels"]:
            interval = gm.panel_interval_ms(p, to - frm, ds_min)
            series_all = []
            for t in p["targets"]:
                try:
                    q = gm.interpolate(t["query"], variables=selected, var_defs=defs,
                                       from_ms=frm, to_ms=to, interval_ms=interval)
                    res = client.query(q)
                except (ValueError, RuntimeError) as e:
                    self.fail(f"{name} [{label}]: panel {p['title']!r} target {t['refId']}: {e}")
                    continue
                series = [s for r in res for s in r.get("series", [])]
                points = sum(1 for s in series for row in s["values"]
                             if any(x is not None for x in row[1:]))
                if points == 0:
                    self.fail(f"{name} [{label}]: panel {p['title']!r} target {t['refId']}: no data\n  query: {q}")
                    continue
                self.ok(f"{name} [{label}]: {p['title']!r} {t['refId']}: {len(series)} series, {points} points")
                series_all.append((t, series))
            results[p["id"]] = series_all
            why = readability_problem(p, series_all)
            if why and label == "All":
                self.fail(f"{name} [{label}]: panel {p['title']!r} is not readable: {why}")
        return results

    # -- 3. pictures -------------------------------------------------------------------
    def render(self, name: str, dash: dict, results: dict, path: str) -> None:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.gridspec import GridSpec
        rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dash["panels"])
        fig = plt.figure(figsize=(20, rows * 0.45 + 1.0))
        fig.suptitle(f"{dash['title']}  ({self.args.from_label})", fontsize=13, x=0.01, ha="left")
        gs = GridSpec(rows, 24, figure=fig, hspace=4.0, wspace=2.0,
                      left=0.04, right=0.99, top=1 - 0.8 / (rows * 0.45 + 1.0), bottom=0.03)
        for p in dash["panels"]:
            gp = p["gridPos"]
            ax = fig.add_subplot(gs[gp["y"]:gp["y"] + gp["h"], gp["x"]:gp["x"] + gp["w"]])
            ax.set_title(p["title"], fontsize=9, loc="left")
            series = results.get(p["id"], [])
            if p["type"] == "table":
                self._table(ax, series, max_rows=table_capacity(gp["h"]))
            else:
                self._lines(ax, series, p)
        fig.savefig(path, dpi=72)
        plt.close(fig)
        print(f"rendered {path}")

    @staticmethod
    def _lines(ax, series, panel) -> None:
        import matplotlib.dates as mdates
        import datetime
        n = 0
        for target, ss in series:
            for s in ss:
                cols = s["columns"]
                for ci in range(1, len(cols)):
                    # None (fill(null): no data in that interval) breaks the
                    # line, as in Grafana: rounds and drivers run one after
                    # another, and a line across the gap would invent data
                    pts = [(datetime.datetime.fromtimestamp(row[0] / 1000),
                            math.nan if row[ci] is None else row[ci]) for row in s["values"]]
                    if all(v is math.nan for _, v in pts):
                        continue
                    ax.plot([t for t, _ in pts], [v for _, v in pts], linewidth=1,
                            label=gm.alias_name(target.get("alias", ""), s["name"], cols[ci], s.get("tags", {})))
                    n += 1
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
        ax.tick_params(labelsize=7)
        unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
        ax.set_ylabel({"reqps": "req/s", "ms": "ms"}.get(unit, ""), fontsize=8)
        ax.grid(alpha=0.3)
        if n:
            handles, labels = ax.get_legend_handles_labels()
            limit = 16
            if n > limit:
                handles, labels = handles[:limit], labels[:limit]
                labels[-1] += f"  (+{n - limit} more series)"
            ax.legend(handles, labels, fontsize=5.5, ncol=2, loc="upper right", framealpha=0.6)

    @staticmethod
    def _table(ax, series, max_rows: int) -> None:
        ax.axis("off")
        header, body = None, []
        for _, ss in series:
            for s in ss:
                tags = s.get("tags", {})
                cols = list(tags) + s["columns"][1:]
                header = header or cols
                for row in s["values"]:
                    cells = list(tags.values()) + [
                        (f"{x:.2f}" if isinstance(x, float) and not math.isnan(x) else str(x))[:40]
                        for x in row[1:]]
                    body.append(cells)
        if not header:
            return
        shown = body[:max_rows]
        tbl = ax.table(cellText=shown, colLabels=header, bbox=(0, 0, 1, 1), cellLoc="left")
        tbl.auto_set_font_size(False)
        tbl.set_fontsize(6)
        if len(body) > len(shown):
            ax.set_xlabel(f"showing {len(shown)} of {len(body)} rows", fontsize=7)
            ax.xaxis.set_label_coords(0.5, -0.02)

    # -- everything ------------------------------------------------------------------------
    def main(self) -> int:
        a = self.args
        datasource, dashboards = self.check_files()
        client = InfluxClient(a.influx, datasource["jsonData"]["dbName"])
        if not client.ping():
            self.fail(f"InfluxDB at {a.influx} does not answer")
            return self.finish()
        ds_min = datasource["jsonData"].get("timeInterval")
        import datetime
        a.from_label = (f"{datetime.datetime.fromtimestamp(a.from_ms / 1000):%Y-%m-%d %H:%M:%S} to "
                        f"{datetime.datetime.fromtimestamp(a.to_ms / 1000):%H:%M:%S}, variables at their defaults")
        os.makedirs(a.out, exist_ok=True)
        for name, dash in dashboards:
            resolved = self.resolve_variables(name, dash, client, a.from_ms, a.to_ms)
            if resolved is None:
                continue
            selected, options, defs = resolved
            results = self.run_panels(name, dash, client, a.from_ms, a.to_ms, ds_min, selected, defs, "All")
            for value in options.get(PER_VALUE_VARIABLE, []):
                self.run_panels(name, dash, client, a.from_ms, a.to_ms, ds_min,
                                {**selected, PER_VALUE_VARIABLE: [value]}, defs, f"{PER_VALUE_VARIABLE}={value}")
            self.render(name, dash, results, os.path.join(a.out, name.replace(".json", ".png")))
        return self.finish()

    def finish(self) -> int:
        print(f"grafana checks: {self.passed} passed, {len(self.failures)} failed")
        return 1 if self.failures else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="offline checks of the Grafana provisioning and dashboards")
    ap.add_argument("--influx", required=True, help="InfluxDB URL holding a load-test run")
    ap.add_argument("--from-ms", type=int, required=True, help="dashboard time range start (epoch ms)")
    ap.add_argument("--to-ms", type=int, required=True, help="dashboard time range end (epoch ms)")
    ap.add_argument("--out", required=True, help="where the rendered PNGs go")
    ap.add_argument("--grafana-dir", default=GRAFANA)
    ap.add_argument("-v", "--verbose", action="store_true")
    return Checker(ap.parse_args(argv)).main()


if __name__ == "__main__":
    sys.exit(main())
