"""User codec plugins loaded at run time (the shipped example: `snapshot`,
for PostgreSQL's pg_snapshot, a type no built-in family claims).

Loading a plugin changes the whole process's codec registry, so each check
runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import psqlpy

EXAMPLE = os.path.join(os.path.dirname(psqlpy.__file__), "codecs", "examples", "snapshot.so")
INCLUDE = os.path.join(os.path.dirname(__file__), "..", "..", "codecs", "include")


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
    assert not psqlpy.has_codec(5038)


def test_loaded_plugin_decodes_and_encodes(dsn):
    out = run_child(dsn, """
        pool = psqlpy.PSQLPool(dsn=DSN)
        await pool.startup()
        q = ("SELECT '10:20:12,15'::pg_snapshot AS s, "
             "ARRAY['748:748:'::pg_snapshot, NULL] AS a")
        out["before"] = (await pool.execute(q)).result()[0]
        psqlpy.load_codec_plugin(PLUGIN)
        out["has"] = [psqlpy.has_codec(5038), psqlpy.has_codec(5039)]
        # a new statement text: codecs are resolved when a statement is prepared
        out["after"] = (await pool.execute(q + " -- again")).result()[0]
        cur = (await pool.execute("SELECT pg_current_snapshot() AS s")).result()[0]["s"]
        out["current"] = [type(cur).__name__, len(cur), all(type(x) is int for x in cur[:2])]
        r = await pool.execute("SELECT $1::pg_snapshot::text AS a, $2::pg_snapshot::text AS b",
                               [(10, 20, [12, 15]), [10, 20, (12, 15)]])
        out["sent"] = r.result()[0]
        # in an array each snapshot is a tuple (a list would be a dimension)
        r = await pool.execute("SELECT $1::pg_snapshot[] AS a, $1::pg_snapshot[]::text AS t",
                               [[(5, 9, (5,)), None, (7, 7, [])]])
        out["array"] = r.result()[0]
        for bad in [(20, 10, []), (1, 2), "10:20:"]:
            try:
                await pool.execute("SELECT $1::pg_snapshot", [bad])
            except E.ParameterError as e:
                out.setdefault("bad", []).append(str(e))
        try:  # the server checks what the codec leaves to it
            await pool.execute("SELECT $1::pg_snapshot", [(10, 20, [15, 12])])
        except E.DatabaseError as e:
            out["server"] = str(e)
        out["still"] = (await pool.execute("SELECT 1 AS one")).result()[0]
        await pool.close()
    """)
    assert out["before"] == {"s": "10:20:12,15", "a": "{748:748:,NULL}"}
    assert out["has"] == [True, True]
    assert out["after"] == {"s": [10, 20, [12, 15]], "a": [[748, 748, []], None]}
    assert out["current"] == ["tuple", 3, True]
    assert out["sent"] == {"a": "10:20:12,15", "b": "10:20:12,15"}
    assert out["array"] == {"a": [[5, 9, [5]], None, [7, 7, []]],
                            "t": "{5:9:5,NULL,7:7:}"}
    assert len(out["bad"]) == 3
    assert "xmax 10 is before xmin 20" in out["bad"][0]
    assert "(xmin, xmax, xips)" in out["bad"][1] and "(xmin, xmax, xips)" in out["bad"][2]
    assert "pg_snapshot" in out["server"]
    assert out["still"] == {"one": 1}


def test_plugin_for_a_type_a_builtin_family_serves_is_refused(dsn, tmp_path):
    # A user plugin for `point` (which the built-in geometric family codes):
    # refused as a whole, naming the module that has the OID, and the
    # built-in codec keeps serving.
    src = tmp_path / "mypoint.c"
    src.write_text(textwrap.dedent("""
        #include "pgd_codec.h"
        static int enc(const pgd_cx *cx, const pgd_value *v, pgd_wbuf *out)
        { (void)v; (void)out; return cx->host->error(cx->h, "unused"); }
        static pgd_obj *dec(const pgd_cx *cx, const char *d, size_t n)
        { (void)d; (void)n; return cx->host->make_null(cx->h); }
        static const pgd_codec codecs[] = {
            {"mytype", 90011, 0, PGD_CODEC_BINARY, 0, enc, dec, NULL, {0}},
            {"point", 600, 1017, PGD_CODEC_BINARY, 0, enc, dec, NULL, {0}},
        };
        static const pgd_codec_module module = PGD_CODEC_MODULE_INIT("mypoint", "0", codecs);
        PGD_CODEC_EXPORT const pgd_codec_module *pgd_codec_module_v1(void) { return &module; }
    """))
    so = tmp_path / "mypoint.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-fvisibility=hidden", "-I", INCLUDE,
                    "-o", str(so), str(src)], check=True)
    out = run_child(dsn, f"""
        try:
            psqlpy.load_codec_plugin({str(so)!r})
        except E.PoolConfigurationError as e:
            out["refused"] = str(e)
        out["has"] = [psqlpy.has_codec(90011), psqlpy.has_codec(600)]
        pool = psqlpy.PSQLPool(dsn=DSN)
        await pool.startup()
        out["p"] = repr((await pool.execute("SELECT '(1,2)'::point AS p")).result()[0]["p"])
        await pool.close()
    """)
    assert "type oid 600 (point) already registered by module 'geometric'" in out["refused"]
    assert out["has"] == [False, True]  # nothing of a refused plugin is registered
    assert out["p"] == "Point(x=1.0, y=2.0)"


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
