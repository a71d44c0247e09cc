"""The differential check's comparison (tests/differential/run.py), without
running psqlpy 0.13.1: agreement rules, expected and stale differences, and
the JUnit report the run-tests summary counts."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

RUN_PY = Path(__file__).resolve().parents[1] / "differential" / "run.py"


@pytest.fixture(scope="module")
def run():
    spec = importlib.util.spec_from_file_location("diff013_run", RUN_PY)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def step(name, **outcome):
    return {"step": name, "outcome": outcome}


def test_errors_agree_when_ours_is_an_instance_of_theirs(run):
    theirs = {"error": "DatabaseError", "isa": ["DatabaseError", "Error"]}
    ours = {"error": "TransactionExecuteError",
            "isa": ["TransactionExecuteError", "ProgrammingError", "DatabaseError"]}
    assert run.agree(theirs, ours)
    assert not run.agree(ours, theirs)
    assert not run.agree({"value": "int:1"}, {"value": "str:'1'"})


def test_every_expected_difference_must_still_occur(run, tmp_path):
    expected = next(iter(run.EXPECTED))
    rust = [step(expected, value="int:1"), step("same", value="int:2"),
            step("differs", value="int:3")]
    ours = [step(expected, value="int:1"), step("same", value="int:2"),
            step("differs", value="int:4")]
    rows = run.compare(rust, ours)
    status = {r["step"]: r["status"] for r in rows}
    assert status[expected] == "STALE"         # agrees now: the list went stale
    assert status["same"] == "ok"
    assert status["differs"] == "DIFF"
    # the other listed steps are absent from this run: reported, not dropped
    assert sum(s == "STALE" for s in status.values()) == len(run.EXPECTED)

    report = tmp_path / "diff.xml"
    run.write_junit(rows, report, 0.1)
    cases = list(ET.parse(report).iter("testcase"))
    assert len(cases) == len(rows)
    failed = [c.get("name") for c in cases if c.find("failure") is not None]
    assert "differs" in failed and expected in failed and "same" not in failed


def test_runs_must_take_the_same_steps(run):
    with pytest.raises(RuntimeError):
        run.compare([step("a", value="int:1")], [step("b", value="int:1")])
