"""Check an installed psqlpy the way a user gets it: a wheel or an sdist
installed into a fresh venv, run with that venv's interpreter.

    python dist_smoke.py [--dsn DSN] [--allocator jemalloc|system]
                         [--bundled-libpq] [--no-system-libpq]

  - psqlpy is imported from the venv (not from a source tree), which loads
    the built-in codec plugins; the example plugins are loaded as well, and
    every plugin file must then be mapped into the process;
  - --allocator: psqlpy._psqlpy.allocator must be this table;
  - --bundled-libpq: the libpq in the process comes from the wheel's
    psqlpy.libs/ (auditwheel), not from the system;
  - --no-system-libpq: the system's libpq.so.5 must not be loadable (the
    caller hid it), checked before psqlpy is imported;
  - --dsn: a query through a pool, with parameters and several codecs.

Prints one JSON line of what it found; exits non-zero with the reason on
the first check that fails.  Standard library and psqlpy only.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import datetime
import decimal
import glob
import json
import os
import sys
import uuid


def fail(msg: str) -> None:
    print(f"dist_smoke: FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def mapped_files() -> set[str]:
    with open("/proc/self/maps", encoding="utf-8") as f:
        return {line.split(None, 5)[5].strip() for line in f if len(line.split(None, 5)) == 6}


async def query(dsn: str) -> dict:
    import psqlpy

    pool = psqlpy.PSQLPool(dsn=dsn)
    await pool.startup()
    try:
        u = uuid.uuid4()
        res = await pool.execute(
            "SELECT $1::int + 1 AS n, $2::text || '!' AS t, $3::uuid AS u, "
            "1.5::numeric AS d, '2026-01-02'::date AS day, ARRAY[1, 2] AS a, "
            "'{\"k\": [1]}'::jsonb AS j, current_setting('server_version') AS v",
            [41, "hi", u])
        row = res.result()[0]
        want = {"n": 42, "t": "hi!", "u": u, "d": decimal.Decimal("1.5"),
                "day": datetime.date(2026, 1, 2), "a": [1, 2], "j": {"k": [1]}}
        got = {k: row[k] for k in want}
        if got != want:
            fail(f"query returned {got!r}, expected {want!r}")
        return {"server_version": row["v"]}
    finally:
        await pool.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn")
    ap.add_argument("--allocator", choices=("jemalloc", "system"))
    ap.add_argument("--bundled-libpq", action="store_true")
    ap.add_argument("--no-system-libpq", action="store_true")
    args = ap.parse_args()
    out: dict = {}

    if args.no_system_libpq:
        try:
            ctypes.CDLL("libpq.so.5")
        except OSError as e:
            out["system_libpq"] = f"not loadable ({e})"
        else:
            fail("the system's libpq.so.5 can still be loaded")

    import psqlpy
    from psqlpy import _psqlpy

    pkg = os.path.dirname(os.path.abspath(psqlpy.__file__))
    if not pkg.startswith(os.path.realpath(sys.prefix) + os.sep) and \
            not pkg.startswith(sys.prefix + os.sep):
        fail(f"psqlpy imported from {pkg}, not from this venv ({sys.prefix})")
    out["package"] = pkg
    out["allocator"] = _psqlpy.allocator
    if args.allocator and _psqlpy.allocator != args.allocator:
        fail(f"allocator is {_psqlpy.allocator!r}, expected {args.allocator!r}")

    examples = sorted(glob.glob(os.path.join(pkg, "codecs", "examples", "*.so")))
    for path in examples:
        psqlpy.load_codec_plugin(path)
    plugins = sorted(glob.glob(os.path.join(pkg, "codecs", "**", "*.so"), recursive=True))
    if not plugins or not examples:
        fail(f"no codec plugins in {pkg}/codecs")
    maps = mapped_files()
    real_maps = {os.path.realpath(p) for p in maps}
    unloaded = [p for p in plugins if os.path.realpath(p) not in real_maps]
    if unloaded:
        fail(f"codec plugins not loaded: {unloaded}")
    out["plugins"] = len(plugins)

    libpq = sorted(p for p in maps if "/libpq" in p)
    out["libpq"] = libpq
    if args.bundled_libpq:
        libs = os.path.join(os.path.dirname(pkg), "psqlpy.libs") + os.sep
        if not libpq or not all(p.startswith(libs) for p in libpq):
            fail(f"libpq is not the wheel's own copy in {libs}: {libpq}")

    if args.dsn:
        out.update(asyncio.run(query(args.dsn)))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
