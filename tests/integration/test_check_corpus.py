"""``ocitool check`` on a corpus of broken bundles (one defect each) and healthy controls.

Each defect must be found before running (code, pointer, words of the
message) and, run for real, make ``ocitool exec`` and ``ocitool-runc run``
fail with an error that names the same cause (code, pointer, line:col), on
stderr and in the --log JSON. Controls check clean and run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers_exec.check_corpus import Case, cases, missing_cap
from tests.integration.conftest import REPO, ocitool_exec

CASES = cases()


def _expect(case: Case) -> Case:
    """The capability case is a control on a host whose runtime holds every capability."""
    if case.code == "OCH301" and missing_cap() is None:
        return Case(case.name, None, "", (), case.build, case.title)
    return case


def _check(bundle: Path) -> tuple[int, list[dict[str, object]]]:
    proc = subprocess.run(
        [sys.executable, "-m", "ocitool.cli.main", "check", "--format", "json", str(bundle)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    return proc.returncode, json.loads(proc.stdout)["findings"]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_finds_the_defect_and_the_run_explains_it(case: Case, world_top: Path) -> None:
    case = _expect(case)
    bundle = case.build(world_top / "t")
    rc, findings = _check(bundle)
    if case.code is None:
        assert (rc, findings) == (0, [])
        run = ocitool_exec(bundle, world_top / "state")
        assert run.returncode == 0, run.stderr
        return
    assert rc == 1
    mine = [f for f in findings if f["code"] == case.code and f["pointer"] == case.pointer]
    assert mine, findings
    message = str(mine[0]["message"])
    assert all(w in message for w in case.words), message
    assert mine[0]["line"] and mine[0]["column"]

    run = ocitool_exec(bundle, world_top / "state")
    assert run.returncode != 0
    assert case.code in run.stderr and all(w in run.stderr for w in case.words), run.stderr
    assert f"{mine[0]['line']}:{mine[0]['column']}" in run.stderr

    log = world_top / "runc.log"
    runc = subprocess.run(
        [sys.executable, "-m", "ocitool.cli.runc", "--root", str(world_top / "runc-state"), "--log",
         str(log), "--log-format", "json", "run", "--bundle", str(bundle),
         f"chk-{uuid.uuid4().hex[:10]}"],
        cwd=REPO, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert runc.returncode != 0
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["level"] == "error"
    assert all(w in last["msg"] for w in case.words), last
    # a failed op, explained, or a plan the lowering refused: the code and line:col either way
    for text in (last["msg"], runc.stderr):
        assert case.code in text and f"{mine[0]['line']}:{mine[0]['column']}" in text, text


def test_exec_check_refuses_to_start(world_top: Path) -> None:
    """``ocitool exec --check`` stops at the preflight's error, before any op runs."""
    case = next(c for c in CASES if c.name == "args0-not-found")
    bundle = case.build(world_top / "t")
    run = ocitool_exec(bundle, world_top / "state", "--check")
    assert run.returncode == 1
    assert "OCH201" in run.stderr and "op #" not in run.stderr
    clean = next(c for c in CASES if c.name == "control-default").build(world_top / "u")
    assert ocitool_exec(clean, world_top / "state", "--check").returncode == 0
