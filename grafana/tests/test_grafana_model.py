"""Tests of the Grafana behaviour the offline dashboard checks reproduce,
and of the checks' refusals.  Expected values are worked out by hand from
Grafana's documented rules (interval rounding, InfluxQL variable formatting).

Run: loadtest/.venv-tools/bin/python -m pytest grafana/tests
"""

import json
import os
import shutil
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
GRAFANA = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(GRAFANA, "check"))

import grafana_model as gm  # noqa: E402
import check  # noqa: E402


def test_round_interval_table():
    assert gm.round_interval(5) == 1
    assert gm.round_interval(100) == 100
    assert gm.round_interval(1200) == 1000
    assert gm.round_interval(3000) == 2000
    assert gm.round_interval(6000) == 5000
    assert gm.round_interval(60_000 * 80 // 60) == 60000   # 80 s -> 1m


def test_panel_interval_uses_width_and_floor():
    half = {"gridPos": {"w": 12, "h": 8, "x": 0, "y": 0}}
    # 1 h over 960 px = 3750 ms -> rounds to 5 s
    assert gm.panel_interval_ms(half, 3_600_000, "1s") == 5000
    # 90 s over 960 px = 94 ms -> 100 ms, raised to the datasource's 1 s floor
    assert gm.panel_interval_ms(half, 90_000, "1s") == 1000
    assert gm.panel_interval_ms({**half, "interval": ">2s"}, 90_000, "1s") == 2000
    assert gm.format_interval(1000) == "1s" and gm.format_interval(60000) == "1m"
    assert gm.format_interval(500) == "500ms"


def test_interpolate_like_grafanas_influxdb_datasource():
    defs = {"run": {"multi": False, "includeAll": False},
            "driver": {"multi": True, "includeAll": True}}
    q = gm.interpolate('SELECT x FROM m WHERE "run" =~ /^$run$/ AND "driver" =~ /^${driver}$/ '
                       'AND [[run]] = 1 AND $timeFilter GROUP BY time($__interval)',
                       variables={"run": ["r.1"], "driver": ["psqlpy-rust", "asyncpg"]},
                       var_defs=defs, from_ms=1000, to_ms=2000, interval_ms=5000)
    # a single plain variable goes in unescaped; a multi one as an escaped alternation
    assert q == ('SELECT x FROM m WHERE "run" =~ /^r.1$/ AND "driver" =~ /^(psqlpy-rust|asyncpg)$/ '
                 'AND r.1 = 1 AND time >= 1000ms and time <= 2000ms GROUP BY time(5s)')
    one = gm.interpolate("/^$driver$/", variables={"driver": ["a.b"]}, var_defs=defs,
                         from_ms=0, to_ms=1, interval_ms=1000)
    assert one == r"/^a\.b$/"


def test_interpolate_refuses_unknown_variables():
    with pytest.raises(ValueError, match="unknown variable"):
        gm.interpolate("SELECT $nope", variables={}, var_defs={}, from_ms=0, to_ms=1, interval_ms=1)


def test_sort_and_alias():
    assert gm.sort_options(["b", "a", "c"], 2) == ["c", "b", "a"]
    assert gm.sort_options(["x10", "x9"], 3) == ["x9", "x10"]
    assert gm.alias_name("$tag_driver $tag_endpoint", "http", "mean",
                         {"driver": "asyncpg", "endpoint": "row"}) == "asyncpg row"


def _copy_grafana(tmp_path):
    dst = tmp_path / "grafana"
    shutil.copytree(GRAFANA, dst, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    return dst


def _run_files_check(grafana_dir):
    args = type("A", (), {"grafana_dir": str(grafana_dir), "verbose": False})()
    c = check.Checker(args)
    c.check_files()
    return c.failures


def test_files_as_committed_pass(tmp_path):
    assert _run_files_check(_copy_grafana(tmp_path)) == []


def test_schema_rejects_a_broken_dashboard(tmp_path):
    g = _copy_grafana(tmp_path)
    path = g / "dashboards" / "loadtest.json"
    dash = json.loads(path.read_text())
    dash["panels"][0]["targets"][0]["rawQuery"] = False      # builder mode: not what we ship
    dash["panels"][1]["gridPos"]["w"] = 30
    path.write_text(json.dumps(dash))
    failures = _run_files_check(g)
    assert any("rawQuery" in f or "True was expected" in f for f in failures)
    assert any("gridPos/w" in f for f in failures)


def test_layout_rejects_overlap_and_foreign_datasource(tmp_path):
    g = _copy_grafana(tmp_path)
    path = g / "dashboards" / "loadtest.json"
    dash = json.loads(path.read_text())
    dash["panels"][2]["gridPos"] = dict(dash["panels"][1]["gridPos"])
    dash["panels"][3]["datasource"] = {"type": "influxdb", "uid": "someone-else"}
    path.write_text(json.dumps(dash))
    failures = _run_files_check(g)
    assert any("overlap" in f for f in failures)
    assert any("datasource uid other than" in f for f in failures)


def test_provider_path_must_match_compose_mount(tmp_path):
    g = _copy_grafana(tmp_path)
    prov = g / "provisioning" / "dashboards" / "provider.yaml"
    prov.write_text(prov.read_text().replace("/var/lib/grafana/dashboards", "/srv/dashboards"))
    assert any("not where docker-compose.yml mounts" in f for f in _run_files_check(g))


def test_checks_fail_against_an_influxdb_without_the_data(tmp_path, capsys):
    """A dashboard whose queries find nothing must fail the check, not pass silently.

    Needs Debian's influxd, which loadtest/run.sh installs.
    """
    sys.path.insert(0, os.path.join(os.path.dirname(GRAFANA), "loadtest"))
    from lt import influx
    server = influx.InfluxServer(str(tmp_path / "influx"), "test")
    server.start()
    try:
        # Some unrelated data, so the database exists and answers queries.
        server.client.write([influx.line("other", {"run": "x"}, {"v": 1}, 1_700_000_000_000)])
        rc = check.main(["--influx", server.client.url, "--from-ms", "1699999990000",
                         "--to-ms", "1700000010000", "--out", str(tmp_path / "png")])
    finally:
        server.stop()
    out = capsys.readouterr().out
    assert rc == 1
    assert "variable $run: no values" in out


def _series(n_series, n_rows=1, cols=("time", "v")):
    return [{"name": "m", "columns": list(cols), "values": [[0] + [1] * (len(cols) - 1)] * n_rows}
            for _ in range(n_series)]


def test_a_graph_with_too_many_series_is_refused():
    panel = {"type": "timeseries", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0}}
    assert check.readability_problem(panel, [({}, _series(5))]) is None
    assert check.readability_problem(panel, [({}, _series(check.MAX_SERIES))]) is None
    why = check.readability_problem(panel, [({}, _series(5)), ({}, _series(5))])
    assert why == f"10 series in one graph (at most {check.MAX_SERIES})"


def test_a_table_cut_off_by_its_height_is_refused():
    assert check.table_capacity(10) == 15
    assert check.table_capacity(1) == 3
    panel = {"type": "table", "gridPos": {"h": 10, "w": 24, "x": 0, "y": 0}}
    assert check.readability_problem(panel, [({}, _series(5, n_rows=3))]) is None
    why = check.readability_problem(panel, [({}, _series(4, n_rows=4))])
    assert why == "table of 16 rows, 15 fit its height (h=10)"


def test_the_dashboards_default_to_one_network_and_endpoint():
    # the variables that multiply a panel's series are single-valued by default
    for name in ("loadtest.json", "jmeter-live.json"):
        with open(os.path.join(GRAFANA, "dashboards", name)) as f:
            dash = json.load(f)
        by = {v["name"]: v for v in dash["templating"]["list"]}
        for var in ("network", "endpoint"):
            assert by[var]["includeAll"] is False, (name, var)
            # Grafana then selects the first option: descending order puts
            # "direct" before "delay5ms" and "tx" (served by wrk and JMeter)
            # before "health" (wrk only)
            assert by[var]["sort"] == 2, (name, var)
    assert gm.sort_options(["delay5ms", "direct"], 2)[0] == "direct"
    assert gm.sort_options(["health", "insert", "list", "row", "tx"], 2)[0] == "tx"
