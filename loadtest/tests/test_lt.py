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
    # the warm-up second's 4 samples (and their error) are left out
    assert summary.requests == 20 and summary.errors == 0
    assert summary.latency_ms["p50"] == 5
    assert summary.latency_ms["p90"] == 9


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
