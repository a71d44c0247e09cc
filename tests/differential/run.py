#!/usr/bin/env python3
"""The differential check: the same psqlpy 0.13 API calls (scenario.py)
through psqlpy 0.13.1, the Rust package from PyPI, and through ours, on the
same server; the outcomes are compared step by step.

    python3 tests/differential/run.py [--dsn DSN] [--junit FILE.xml]

DSN: --dsn, else $PSQLPY_TEST_DSN.  Ours runs under --ours-python (default:
the repository's .venv); 0.13.1 under --rust-python, else in a venv of its
own created once in $PSQLPY_DIFF_CACHE (default ~/.cache/psqlpy-diff):
both import as ``psqlpy``, so each runs in its own process.

Two outcomes agree when they are equal, or when both raised and ours is an
instance of the class 0.13.1 raised (an ``except`` clause written for
0.13.1 catches ours: ours may be more specific, e.g. a
``TransactionExecuteError`` that is also a ``ProgrammingError`` where 0.13.1
raises ``DatabaseError``).  The differences we mean to have are listed in
EXPECTED below, each with its reason (docs/migrating.md describes them);
each must still occur, so the list cannot go stale.  The exit status is 1
on any unexpected difference or stale expectation, 2 when a run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RUST_PIN = "psqlpy==0.13.1"

# step -> why ours differs from 0.13.1 there (see docs/migrating.md,
# "What differs from psqlpy 0.13.1").  Every entry must still differ.
EXPECTED = {
    # decoding: 0.13.1 raises RustToPyValueMappingError, ours decodes as PSQLPool does
    "decode numeric-nan": "0.13.1 cannot decode numeric NaN; ours gives Decimal('NaN')",
    "decode bpchar": "0.13.1 cannot decode char(n); ours gives the padded str",
    "decode timetz": "0.13.1 cannot decode timetz; ours gives an aware time",
    "decode int4[]": "0.13.1 cannot decode an array holding NULL; ours gives None there",
    "decode cidr": "0.13.1 cannot decode cidr; ours gives IPv4Network/IPv6Network",
    "decode polygon": "0.13.1 cannot decode polygon; ours gives Polygon",
    "decode enum[]": "0.13.1 cannot decode arrays of enums; ours gives a list of str",
    # decoding: both decode, differently
    "decode inet-masked": "0.13.1 drops the mask (IPv4Address); ours keeps it (IPv4Interface)",
    "decode interval-months": "0.13.1 counts a month as 30 days (timedelta); ours keeps "
                              "months exact (Interval)",
    # results: issue 12 asks for len(), iteration and indexing on both APIs
    "QueryResult len()": "0.13.1's QueryResult has no len(); ours counts the rows",
    "QueryResult iteration": "0.13.1's QueryResult is not iterable; ours gives the rows",
    "QueryResult index": "0.13.1's QueryResult is not subscriptable; ours gives a row",
    # encoding
    "encode Enum-member-as-text": "0.13.1 takes an Enum member only for a PostgreSQL enum "
                                  "(TypeError for text); ours sends its value anywhere",
    "round trip uuid": "0.13.1 cannot send back the str it decodes a uuid as; ours can",
    "round trip macaddr": "0.13.1 cannot send back the str it decodes a macaddr as; ours can",
    "error: wrong parameter count": "0.13.1 ignores extra parameters; ours refuses them "
                                    "(ConnectionExecuteError)",
    "error: parameter of the wrong type": "0.13.1 raises a bare TypeError; ours "
                                          "PyToRustValueMappingError",
    "error: unencodable parameter": "0.13.1 raises a bare TypeError; ours "
                                    "PyToRustValueMappingError",
    # transactions and cursors
    "transaction fetch_row two rows": "a Transaction's errors are TransactionExecuteError "
                                      "here; 0.13.1 raises ConnectionExecuteError",
    "write in a read-only transaction": "a Transaction's errors are TransactionExecuteError "
                                        "here; 0.13.1 raises ConnectionExecuteError",
    "begin twice": "ours refuses a second begin() (TransactionBeginError); 0.13.1 sends "
                   "BEGIN again, which the server only warns about",
    "cursor execute()": "ours returns the empty result of FETCH FORWARD 0; 0.13.1 None",
    "cursor fetch after close": "ours raises CursorClosedError; 0.13.1 TransactionClosedError",
    "cursor fetch before start": "ours raises CursorClosedError; 0.13.1 TransactionClosedError",
}


def log(msg: str) -> None:
    print(f"diff-013: {msg}", file=sys.stderr, flush=True)


def rust_python(cache: Path) -> str:
    """The venv with psqlpy 0.13.1, created on first use and again when the
    Python version or the pin changes (.complete, written last, says which)."""
    venv = cache / "venv-rust"
    py = venv / "bin" / "python"
    key = f"{RUST_PIN} python{sys.version_info[0]}.{sys.version_info[1]}\n"
    done = venv / ".complete"
    if not done.exists() or done.read_text() != key:
        log(f"creating {venv} with {RUST_PIN} (once; later runs reuse it)")
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        RUST_PIN], check=True)
        done.write_text(key)
    return str(py)


def run_scenario(python: str, dsn: str, out: Path) -> dict:
    # cwd outside the repository: neither run may import a psqlpy by accident
    cmd = [python, str(HERE / "scenario.py"), "--dsn", dsn, "--out", str(out)]
    proc = subprocess.run(cmd, cwd=out.parent, capture_output=True, text=True, timeout=300,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{python} scenario.py failed ({proc.returncode}):\n"
                           "\n".join((proc.stdout + proc.stderr).splitlines()[-30:]))
    with open(out, encoding="utf-8") as fh:
        return json.load(fh)


def agree(rust: dict, ours: dict) -> bool:
    if rust == ours:
        return True
    if "error" in rust and "error" in ours:
        return rust["error"] == ours["error"] or rust["error"] in ours.get("isa", [])
    return False


def show(outcome: dict, width: int = 110) -> str:
    if "error" in outcome:
        text = f"raises {outcome['error']}"
    else:
        text = json.dumps(outcome.get("value"), ensure_ascii=False)
    return text if len(text) <= width else text[:width - 3] + "..."


def compare(rust: list, ours: list) -> list[dict]:
    """One row per step: step, status, rust, ours, note."""
    if [s["step"] for s in rust] != [s["step"] for s in ours]:
        raise RuntimeError("the two runs took different steps")
    rows = []
    for r, o in zip(rust, ours):
        name = r["step"]
        same = agree(r["outcome"], o["outcome"])
        if name in EXPECTED:
            status = "STALE" if same else "expected"
        else:
            status = "ok" if same else "DIFF"
        rows.append({"step": name, "status": status, "rust": r, "ours": o,
                     "note": EXPECTED.get(name, "")})
    unknown = set(EXPECTED) - {r["step"] for r in rows}
    for name in sorted(unknown):
        rows.append({"step": name, "status": "STALE", "rust": None, "ours": None,
                     "note": "listed in EXPECTED but no such step"})
    return rows


def report(rows: list[dict]) -> None:
    for row in rows:
        if row["status"] == "ok":
            continue
        print(f"[{row['status']}] {row['step']}")
        if row["rust"] is not None:
            for who in ("rust", "ours"):
                step = row[who]
                label = "0.13.1" if who == "rust" else "ours  "
                print(f"    {label}: {show(step['outcome'])}")
                if step.get("detail") and row["status"] != "expected":
                    print(f"            {step['detail'].splitlines()[0]}")
        if row["note"]:
            why = "why" if row["status"] == "expected" else "listed as expected, but now agree"
            print(f"    {why}: {row['note']}")
    counts = {k: sum(r["status"] == k for r in rows) for k in ("ok", "expected", "DIFF", "STALE")}
    print(f"\n{len(rows)} steps: {counts['ok']} agree, {counts['expected']} expected "
          f"differences, {counts['DIFF']} unexpected differences, "
          f"{counts['STALE']} stale expectations")


def write_junit(rows: list[dict], path: Path, seconds: float) -> None:
    suite = ET.Element("testsuite", name="diff-013", tests=str(len(rows)),
                       failures=str(sum(r["status"] in ("DIFF", "STALE") for r in rows)),
                       errors="0", skipped="0", time=f"{seconds:.2f}")
    for row in rows:
        case = ET.SubElement(suite, "testcase", classname="diff013", name=row["step"])
        if row["status"] in ("DIFF", "STALE"):
            rust = show(row["rust"]["outcome"], 400) if row["rust"] else "-"
            ours = show(row["ours"]["outcome"], 400) if row["ours"] else "-"
            fail = ET.SubElement(case, "failure", message=row["status"])
            fail.text = f"0.13.1: {rust}\nours: {ours}\n{row['note']}"
        elif row["status"] == "expected":
            ET.SubElement(case, "system-out").text = f"expected difference: {row['note']}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", default=os.environ.get("PSQLPY_TEST_DSN"))
    ap.add_argument("--ours-python", default=str(ROOT / ".venv" / "bin" / "python"))
    ap.add_argument("--rust-python", default=None,
                    help=f"a Python with {RUST_PIN} (default: a cached venv of its own)")
    ap.add_argument("--junit", type=Path, default=None, help="write JUnit XML here")
    args = ap.parse_args()
    if not args.dsn:
        ap.error("no server: give --dsn or set PSQLPY_TEST_DSN")
    t0 = time.monotonic()
    cache = Path(os.environ.get("PSQLPY_DIFF_CACHE",
                                Path.home() / ".cache" / "psqlpy-diff"))
    try:
        rust_py = args.rust_python or rust_python(cache)
        with tempfile.TemporaryDirectory(prefix="psqlpy-diff-") as tmp:
            rust = run_scenario(rust_py, args.dsn, Path(tmp) / "rust.json")
            ours = run_scenario(args.ours_python, args.dsn, Path(tmp) / "ours.json")
        for who, run in (("0.13.1", rust), ("ours", ours)):
            log(f"{who}: {run['meta']['psqlpy']} (Python {run['meta']['python']})")
        if "site-packages" not in rust["meta"]["psqlpy"] or rust["meta"] == ours["meta"]:
            raise RuntimeError("the 0.13.1 run did not import the package from PyPI")
        rows = compare(rust["steps"], ours["steps"])
    except (RuntimeError, subprocess.SubprocessError, OSError, ValueError) as e:
        log(f"failed: {e}")
        return 2
    report(rows)
    if args.junit:
        write_junit(rows, args.junit, time.monotonic() - t0)
    bad = [r for r in rows if r["status"] in ("DIFF", "STALE")]
    log(f"done in {time.monotonic() - t0:.1f}s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
