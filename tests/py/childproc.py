"""Run a piece of async test code in a fresh interpreter (test_hostile.py,
test_secrets.py).

A crash (a segfault from memory misuse) then fails the one test instead of
killing the whole session, and whatever the child writes to stdout/stderr
(log lines, unraisable-exception reports) can be inspected.

The child gets: asyncio, json, sys, psqlpy, E (psqlpy.exceptions), DSN,
`out` (a dict it fills; it must stay JSON-serialisable), and the helpers
`outcome()` and `answers()` below.  The body runs inside `async def
main()` on the event loop the session uses (asyncio or uvloop).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any, Dict, List, Optional

PRELUDE = '''
import asyncio, json, sys
import psqlpy
from psqlpy import exceptions as E
DSN, LOOP = sys.argv[1], sys.argv[2]
out = {}

def describe(e):
    """'Class' for a psqlpy error, '!module.Class: message' for anything else."""
    if isinstance(e, E.Error):
        return type(e).__name__
    return "!%s.%s: %s" % (type(e).__module__, type(e).__qualname__, e)

async def outcome(make):
    """('ok', value) or ('err', describe(exception)) of awaiting make()."""
    try:
        return ("ok", await make())
    except BaseException as e:  # noqa: B902 - every kind is reported
        return ("err", describe(e))

async def answers(pool):
    """The pool still runs a query and returns its own answer."""
    r = await pool.execute("SELECT $1::int8 * 2 AS d, $2::text || '!' AS e", [21, "w"])
    return r.result() == [{"d": 42, "e": "w!"}]

async def main():
#BODY#

if LOOP == "uvloop":
    import uvloop
    loop = uvloop.new_event_loop()
else:
    loop = asyncio.new_event_loop()
try:
    loop.run_until_complete(main())
finally:
    loop.close()
print("CHILD-OUT " + json.dumps(out, default=repr))
'''


class ChildResult:
    def __init__(self, out: Dict[str, Any], stdout: str, stderr: str) -> None:
        self.out = out
        self.stdout = stdout
        self.stderr = stderr


def run_child(dsn: str, loop_name: str, body: str, timeout: float = 300,
              env: Optional[Dict[str, str]] = None, argv: Optional[List[str]] = None
              ) -> ChildResult:
    """Run `body` (the inside of an async function) in a new interpreter;
    fail the test if the child does not exit normally (a crash included)."""
    code = PRELUDE.replace("#BODY#", textwrap.indent(textwrap.dedent(body), "    "))
    proc = subprocess.run([sys.executable, *(argv or []), "-c", code, dsn, loop_name],
                          capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, (
        f"child exited with {proc.returncode} (negative: killed by that signal)\n"
        f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-4000:]}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("CHILD-OUT ")]
    assert lines, proc.stdout[-2000:] + proc.stderr[-2000:]
    return ChildResult(json.loads(lines[-1][len("CHILD-OUT "):]), proc.stdout, proc.stderr)
