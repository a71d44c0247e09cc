"""User codec plugins loaded at run time (the shipped example: `point`).

Loading a plugin changes the whole process's codec registry, so each check
runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import psqlpy

EXAMPLE = os.path.join(os.path.dirname(psqlpy.__file__), "codecs", "examples", "point.so")


def run_child(dsn: str, body: str) -> dict:
    code = textwrap.dedent("""
        import asyncio, json, sys
        import psqlpy
        from psqlpy import exceptions as E
        DSN, PLUGIN = sys.argv[1], sys.argv[2]
        out = {}
        async def main():
        %s
        asyncio.run(main())
        print(json.dumps(out))
    """) % textwrap.indent(textwrap.dedent(body), "    ")
    proc = subprocess.run([sys.executable, "-c", code, dsn, EXAMPLE],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_example_plugin_is_installed_but_not_loaded():
    assert os.path.isfile(EXAMPLE)
    assert not psqlpy.has_codec(600)


def test_loaded_plugin_decodes_and_encodes(dsn):
    out = run_child(dsn, """
        pool = psqlpy.PSQLPool(dsn=DSN)
        await pool.startup()
        q = "SELECT '(1.5,-2)'::point AS p, ARRAY['(0,0)'::point, NULL] AS a"
        out["before"] = (await pool.execute(q)).result()[0]
        psqlpy.load_codec_plugin(PLUGIN)
        out["has"] = psqlpy.has_codec(600)
        # a new statement text: codecs are resolved when a statement is prepared
        out["after"] = (await pool.execute(q + " -- again")).result()[0]
        r = await pool.execute("SELECT $1::point::text AS t", [[3, 4.25]])
        out["sent"] = r.result()[0]
        try:
            await pool.execute("SELECT $1::point", [[1, 2, 3]])
        except E.ParameterError as e:
            out["bad"] = str(e)
        out["still"] = (await pool.execute("SELECT 1 AS one")).result()[0]
        await pool.close()
    """)
    assert out["before"] == {"p": "(1.5,-2)", "a": '{"(0,0)",NULL}'}
    assert out["has"] is True
    assert out["after"] == {"p": [1.5, -2.0], "a": [[0.0, 0.0], None]}
    assert out["sent"] == {"t": "(3,4.25)"}
    assert "two numbers" in out["bad"]
    assert out["still"] == {"one": 1}


def test_loader_refusals_are_configuration_errors(dsn, tmp_path):
    not_a_plugin = tmp_path / "empty.so"
    src = tmp_path / "empty.c"
    src.write_text("int nothing_here(void) { return 0; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(not_a_plugin), str(src)], check=True)
    out = run_child(dsn, f"""
        try:
            psqlpy.load_codec_plugin({str(not_a_plugin)!r})
        except E.PoolConfigurationError as e:
            out["missing"] = str(e)
        try:
            psqlpy.load_codec_plugin("/nonexistent/plugin.so")
        except E.PoolConfigurationError as e:
            out["nofile"] = str(e)
        psqlpy.load_codec_plugin(PLUGIN)
        try:
            psqlpy.load_codec_plugin(PLUGIN)
        except E.PoolConfigurationError as e:
            out["twice"] = str(e)
        try:
            psqlpy.load_codec_plugin(42)
        except TypeError as e:
            out["type"] = str(e)
    """)
    assert "pgd_codec_module_v1" in out["missing"]
    assert "nonexistent" in out["nofile"]
    assert "already loaded" in out["twice"]
    assert out["type"]
