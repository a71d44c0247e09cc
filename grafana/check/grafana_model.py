"""What Grafana does with a dashboard before InfluxDB sees a query.

The pieces of Grafana's behaviour the offline checks need, written from
Grafana's documented behaviour and its InfluxDB datasource:

- `$__interval`: the time range divided by the panel's max data points
  (its width in pixels unless set), rounded with Grafana's interval table
  (rangeutil.roundInterval), and never below the panel's `interval` or the
  datasource's `timeInterval` (">1s" and "1s" both mean at least 1 s);
- `$timeFilter`: `time >= <from>ms and time <= <to>ms`;
- template variables written `$name`, `${name}` or `[[name]]`; a variable
  that is multi-valued or has "All" is formatted for InfluxQL as a regex
  alternation `(a|b)` of regex-escaped values, a single value that is
  neither is inserted as it is (Grafana's interpolateQueryExpr);
- "All" without a custom allValue means every option of the variable;
- variable options are sorted by the variable's `sort` (1 alphabetical
  ascending, 2 descending, 3/4 numerical, 5/6 case-insensitive);
- alias patterns `$tag_<key>`, `$m` (measurement), `$col` (column).
"""

from __future__ import annotations

import re

# (upper bound of the raw interval in ms, rounded interval in ms): Grafana's
# roundInterval table.
_ROUND = [
    (10, 1), (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500),
    (1500, 1000), (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000),
    (25000, 20000), (45000, 30000), (90000, 60000), (210000, 120000),
    (450000, 300000), (1050000, 600000), (2100000, 1200000), (2700000, 1800000),
    (5400000, 3600000), (9000000, 7200000), (16200000, 10800000),
    (32400000, 21600000), (86400000, 43200000), (604800000, 86400000),
    (1814400000, 604800000), (3628800000, 2592000000),
]
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000}
DASHBOARD_WIDTH_PX = 1920        # Grafana: a panel's max data points = its width in px


def round_interval(ms: float) -> int:
    for bound, rounded in _ROUND:
        if ms <= bound:
            return rounded
    return 31536000000


def parse_interval(text: str) -> int:
    m = re.fullmatch(r">?(\d+)(ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"bad interval {text!r}")
    return int(m.group(1)) * _UNITS_MS[m.group(2)]


def format_interval(ms: int) -> str:
    for unit in ("h", "m", "s"):
        if ms % _UNITS_MS[unit] == 0:
            return f"{ms // _UNITS_MS[unit]}{unit}"
    return f"{ms}ms"


def panel_interval_ms(panel: dict, range_ms: int, datasource_min: str | None) -> int:
    width_px = panel["gridPos"]["w"] / 24 * DASHBOARD_WIDTH_PX
    max_points = panel.get("maxDataPoints") or width_px
    interval = round_interval(range_ms / max_points)
    floor = panel.get("interval") or datasource_min
    if floor:
        interval = max(interval, parse_interval(floor))
    return interval


def escape_regex(value: str) -> str:
    return re.sub(r"[\\^$*+?.()|\[\]{}/]", lambda m: "\\" + m.group(0), value)


def format_variable(var: dict, values: list[str]) -> str:
    if not var.get("multi") and not var.get("includeAll"):
        return values[0]
    escaped = [escape_regex(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def sort_options(values: list[str], sort: int) -> list[str]:
    if sort in (1, 2):
        return sorted(values, reverse=sort == 2)
    if sort in (3, 4):
        def num(v):
            m = re.search(r"-?\d+(\.\d+)?", v)
            return float(m.group(0)) if m else float("-inf")
        return sorted(values, key=num, reverse=sort == 4)
    if sort in (5, 6):
        return sorted(values, key=str.lower, reverse=sort == 6)
    return list(values)


_VAR_RE = re.compile(r"\$\{(\w+)(?::([^}]*))?\}|\[\[(\w+)\]\]|\$(\w+)")


def interpolate(query: str, *, variables: dict, var_defs: dict, from_ms: int, to_ms: int,
                interval_ms: int) -> str:
    """Expand a raw InfluxQL query the way Grafana's InfluxDB datasource does.

    variables: name -> list of selected values (All already expanded).
    Raises ValueError for a variable that does not exist, or a format
    (${name:fmt}) these dashboards do not use.
    """
    builtins = {
        "timeFilter": f"time >= {from_ms}ms and time <= {to_ms}ms",
        "__interval": format_interval(interval_ms),
        "interval": format_interval(interval_ms),
        "__interval_ms": str(interval_ms),
    }

    def repl(m: re.Match) -> str:
        name = m.group(1) or m.group(3) or m.group(4)
        if m.group(2):
            raise ValueError(f"variable format ${{{name}:{m.group(2)}}} is not supported by the checks")
        if name in builtins:
            return builtins[name]
        if name in variables:
            return format_variable(var_defs[name], variables[name])
        raise ValueError(f"unknown variable ${name}")
    return _VAR_RE.sub(repl, query)


def alias_name(alias: str, measurement: str, column: str, tags: dict) -> str:
    if not alias:
        tag_s = ", ".join(f"{k}: {v}" for k, v in sorted(tags.items()))
        return f"{measurement}.{column}" + (f" {{{tag_s}}}" if tag_s else "")
    out = re.sub(r"\$tag_(\w+)|\[\[tag_(\w+)\]\]",
                 lambda m: str(tags.get(m.group(1) or m.group(2), "")), alias)
    return out.replace("$m", measurement).replace("$col", column)
