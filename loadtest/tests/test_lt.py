"""Unit tests of the runner's pieces that need no PostgreSQL or load generator.

Run: loadtest/.venv-tools/bin/python -m pytest loadtest/tests
"""

import asyncio
import os
import socket
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lt import influx, loadgen  # noqa: E402

JTL_HEADER = "timeStamp,elapsed,label,responseCode,responseMessage,threadName,dataType,success,bytes,grpThreads,allThreads,Latency\n"


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))          # 1..100
    assert loadgen.percentile(values, 50) == 50
    assert loadgen.percentile(values, 95) == 95
    assert loadgen.percentile(values, 99) == 99
    assert loadgen.percentile(values, 100) == 100
    assert loadgen.percentile([7], 99) == 7


def test_convert_jtl_buckets_by_end_second_and_drops_warmup(tmp_path):
    t0 = 1_700_000_000_000
    rows = []
    # second 0 (warm-up): 4 row samples of 10 ms, one failed
    for i in range(4):
        ok = "false" if i == 0 else "true"
        rows.append(f"{t0 + i * 100},10,row,{'500' if i == 0 else '200'},x,t,text,{ok},10,1,1,10")
    # seconds 2 and 3: 10 samples each with elapsed 1..10 ms
    for sec in (2, 3):
        for ms in range(1, 11):
            rows.append(f"{t0 + sec * 1000 + 200},{ms},row,200,OK,t,text,true,10,1,1,{ms}")
    path = tmp_path / "r.jtl"
    path.write_text(JTL_HEADER + "\n".join(rows) + "\n")
    seconds, summaries = loadgen.convert_jtl(str(path), warmup=1)
    by_sec = {s[1]: s for s in seconds}
    first = by_sec[t0 // 1000]
    assert first[2] == 4 and first[3] == 1          # 4 responses, 1 error
    s2 = by_sec[t0 // 1000 + 2]
    assert s2[2] == 10 and s2[3] == 0
    assert s2[4]["p50"] == 5 and s2[4]["p95"] == 10 and s2[4]["max"] == 10
    (summary,) = summaries
    # the warm-up second's 4 samples (and their error) are left out; the
    # ramp ends in second 2, the first to reach 90% of the steady 10/s
    assert summary.ramp_s == 2.0
    assert summary.requests == 20 and summary.errors == 0
    assert summary.latency_ms["p50"] == 5
    assert summary.latency_ms["p90"] == 9


def test_ramp_ends_where_the_rate_levels_off():
    # JMeter climbing for 4 s, then steady at ~100/s; the last second partial
    counts = [10, 40, 70, 85, 95, 100, 98, 101, 99, 100, 30]
    assert loadgen.ramp_end_s(counts, 2) == 4        # 95 >= 0.9 * 100 (median of 2nd half)
    assert loadgen.ramp_end_s(counts, 6) == 6        # never before the floor
    assert loadgen.ramp_end_s([50, 100, 100, 100, 100, 20], 0) == 1
    assert loadgen.ramp_end_s([5, 7], 2) == 2        # too short to tell: the floor


def test_ramp_is_left_out_of_the_jmeter_summary(tmp_path):
    t0 = 1_700_000_000_000
    rows = []
    for sec, n in enumerate([2, 4, 10, 10, 10, 3]):
        for i in range(n):
            rows.append(f"{t0 + sec * 1000 + i * 10},5,row,200,OK,t,text,true,10,1,1,5")
    path = tmp_path / "r.jtl"
    path.write_text(JTL_HEADER + "\n".join(rows) + "\n")
    _, (summary,) = loadgen.convert_jtl(str(path), warmup=1)
    assert summary.ramp_s == 2.0
    assert summary.requests == 33                   # seconds 2..5, not the 6 of the ramp


def test_app_cpu_normalised_rate():
    from lt import runner
    assert runner.rps_per_app_cpu_s(500.0, 50.0) == 1000.0
    assert runner.rps_per_app_cpu_s(500.0, None) is None
    assert runner.rps_per_app_cpu_s(500.0, 0.2) is None


def test_rounds_rotate_the_driver_order():
    from lt import runner
    d = ["a", "b", "c"]
    assert [runner.round_order(d, r) for r in range(4)] == [
        ["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]]


def test_line_protocol_escapes_and_types():
    line = influx.line("http", {"driver": "psqlpy rust", "endpoint": "a,b", "run": "x=y"},
                       {"requests": 3, "rps": 1.5, "ok": True, "message": 'say "hi"', "gone": None},
                       1234)
    assert line == ('http,driver=psqlpy\\ rust,endpoint=a\\,b,run=x\\=y '
                    'requests=3i,rps=1.5,ok=true,message="say \\"hi\\"" 1234')


def test_graphite_templates_split_jmeter_paths():
    tpl = influx.graphite_templates("R")
    assert tpl[0].startswith("jmeter.*.*.test.* measurement.driver.network.measurement.field ")
    assert tpl[1].startswith("jmeter.*.*.*.*.* measurement.driver.network.endpoint.status.field ")
    assert all(t.endswith("run=R,tool=jmeter") for t in tpl)


def _echo_server():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    return srv


def test_delay_proxy_delays_client_to_server_only(tmp_path):
    """Round trips through the proxy take at least the delay, direct ones do not."""
    srv = _echo_server()
    port = srv.getsockname()[1]

    async def echo_forever():
        loop = asyncio.get_running_loop()
        srv.setblocking(False)
        while True:
            conn, _ = await loop.sock_accept(srv)
            loop.create_task(_echo(loop, conn))

    async def _echo(loop, conn):
        while data := await loop.sock_recv(conn, 4096):
            await loop.sock_sendall(conn, data)
        conn.close()

    proxy_port = influx.procs.free_port()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, os.path.join(here, "lt", "delayproxy.py"),
                             "--listen-port", str(proxy_port), "--target-port", str(port),
                             "--delay-ms", "40"], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == b"ready"

        async def main():
            task = asyncio.get_running_loop().create_task(echo_forever())
            timings = {}
            for name, p in (("direct", port), ("proxy", proxy_port)):
                r, w = await asyncio.open_connection("127.0.0.1", p)
                took = []
                for i in range(5):
                    t = time.perf_counter()
                    w.write(b"ping%d" % i)
                    await w.drain()
                    assert await r.readexactly(5) == b"ping%d" % i   # in order, intact
                    took.append(time.perf_counter() - t)
                w.close()
                timings[name] = min(took)
            task.cancel()
            return timings

        timings = asyncio.run(main())
        assert timings["proxy"] >= 0.040
        assert timings["proxy"] < 0.040 + 0.5
        assert timings["direct"] < 0.020
    finally:
        proc.terminate()
        proc.wait(10)
        srv.close()


def _summary(driver, endpoint, rnd, rps, cpu_pct, tool="wrk", network="direct", errors=0):
    from lt import runner
    return {"network": network, "tool": tool, "driver": driver, "endpoint": endpoint,
            "round": str(rnd), "rps": rps, "app_cpu_pct": cpu_pct, "errors": errors,
            "rps_per_app_cpu_s": runner.rps_per_app_cpu_s(rps, cpu_pct)}


def test_report_medians_and_spread_over_rounds():
    from lt import report
    rows = [_summary("psqlpy", "row", 1, 300.0, 50.0), _summary("psqlpy", "row", 2, 500.0, 50.0),
            _summary("psqlpy", "row", 3, 400.0, 100.0, errors=2),
            _summary("asyncpg", "row", 1, 200.0, 100.0), _summary("asyncpg", "row", 2, 100.0, 50.0),
            _summary("asyncpg", "row", 3, 250.0, 100.0)]
    agg = report.aggregate(rows)
    p, a = agg[("direct", "wrk", "psqlpy", "row")], agg[("direct", "wrk", "asyncpg", "row")]
    assert (p["rps"], p["rps_min"], p["rps_max"], p["rounds"], p["errors"]) == (400.0, 300.0, 500.0, 3, 2)
    # per app-CPU-second: 600, 1000, 400 -> median 600; asyncpg 200, 200, 250 -> 200
    assert (p["rps_per_app_cpu_s"], p["cpu_min"], p["cpu_max"]) == (600.0, 400.0, 1000.0)
    assert report.ratio(p, a) == (2.0, 300.0 / 250.0, 500.0 / 100.0)
    assert report.ratio(p, a, "rps_per_app_cpu_s") == (3.0, 400.0 / 250.0, 1000.0 / 200.0)
    assert report._x(report.ratio(p, a)) == "2.00× (1.20–5.00)"


def test_verdict_weighs_ratios_against_the_health_noise_floor():
    from lt import report
    rows = []
    for rnd in (1, 2, 3):
        # identical /health code: 1,000 vs 1,100 per app-CPU-second -> floor 1.10
        rows += [_summary("psqlpy", "health", rnd, 1000.0, 100.0),
                 _summary("asyncpg", "health", rnd, 1100.0, 100.0)]
        # row: 2x in every round; list: 1.05x, inside the floor; tx: 0.5x
        rows += [_summary("psqlpy", "row", rnd, 400.0, 100.0),
                 _summary("asyncpg", "row", rnd, 200.0, 100.0),
                 _summary("psqlpy", "list", rnd, 105.0, 100.0),
                 _summary("asyncpg", "list", rnd, 100.0, 100.0),
                 _summary("psqlpy", "tx", rnd, 50.0, 100.0),
                 _summary("asyncpg", "tx", rnd, 100.0, 100.0)]
    agg = report.aggregate(rows)
    assert abs(report.noise_floor(agg, "direct") - 1.1) < 1e-9
    line = report.verdict(agg, "direct")
    assert "\n" not in line
    assert "spreads 1.10× between drivers" in line
    assert "row 2.00×, list 1.05×, insert –, tx 0.50×" in line
    assert line.endswith("beyond the noise floor in every round: row faster, tx slower.")


def test_grafana_links_carry_the_run_and_its_time_range():
    from lt import report
    links = report.grafana_links({"start_ms": 1000, "end_ms": 2000, "run": "R1"})
    assert links[0] == ("psqlpy-loadtest",
                        "http://127.0.0.1:3000/d/psqlpy-loadtest?from=1000&to=2000&var-run=R1")
