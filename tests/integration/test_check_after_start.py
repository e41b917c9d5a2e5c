"""Failures that only show after a detached ``start`` are explained to the engine.

``ocitool-runc create`` then ``start``, as podman and containerd drive it: the init
waits on the exec fifo, and the exec phase (cwd, the executable) runs after
``start`` released it. When an op fails there, ``start`` must fail with the same
explanation ``ocitool exec`` gives for the same bundle (the check's code, the
config pointer, line:col), on its stderr and in the ``--log`` JSON, and not
return 0 with the reason only on the container's stderr.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers_exec.check_corpus import _plain, _script, cases
from tests.integration.conftest import REPO, ocitool_exec

pytestmark = pytest.mark.integration

CORPUS = {c.name: c for c in cases()}


def _tool(top: Path) -> Path:
    bundle = _plain(top, ["/bin/tool"])
    _script(bundle, "/bin/tool", "#!/bin/sh\ntrue\n", 0o755)
    return bundle


def _chmod_tool(bundle: Path) -> None:
    (bundle / "rootfs/bin/tool").chmod(0o644)


def _remove_tool(bundle: Path) -> None:
    (bundle / "rootfs/bin/tool").unlink()


def _nothing(bundle: Path) -> None:
    return None


# name: (build, what happens between create and start, code, pointer, words)
AFTER_START: dict[str, tuple[Callable[[Path], Path], Callable[[Path], None], str, str, tuple[str, ...]]] = {
    "cwd-missing": (CORPUS["cwd-missing"].build, _nothing, "OCH203", "/process/cwd", ("/srv", "does not exist")),
    "cwd-not-directory": (CORPUS["cwd-not-directory"].build, _nothing, "OCH203", "/process/cwd",
                          ("/etc/passwd", "not a directory")),
    "args0-made-not-executable": (_tool, _chmod_tool, "OCH201", "/process/args/0", ("/bin/tool", "may not execute")),
    "args0-removed": (_tool, _remove_tool, "OCH201", "/process/args/0", ("/bin/tool", "does not exist")),
}  # fmt: skip


def runc(root: Path, log: Path, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "ocitool.cli.runc", "--root", str(root), "--log", str(log),
            "--log-format", "json", *args]  # fmt: skip
    return subprocess.run(argv, cwd=REPO, text=True, timeout=60, **kwargs)  # type: ignore[call-overload,no-any-return]


def check_finding(bundle: Path, code: str, pointer: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "ocitool.cli.main", "check", "--format", "json", str(bundle)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    found = [
        f
        for f in json.loads(proc.stdout)["findings"]
        if (f["code"], f["pointer"]) == (code, pointer)
    ]
    assert found, proc.stdout
    return found[0]


@pytest.mark.parametrize("name", list(AFTER_START))
def test_start_explains_a_failure_after_the_release(name: str, world_top: Path) -> None:
    build, between, code, pointer, words = AFTER_START[name]
    bundle = build(world_top / "t")
    root, log, cid = world_top / "state", world_top / "runc.log", f"aft-{uuid.uuid4().hex[:10]}"
    out, err = world_top / "out", world_top / "err"
    with open(out, "w") as fo, open(err, "w") as fe:  # the container keeps its stdio
        created = runc(root, log, "create", "--bundle", str(bundle), cid,
                       stdout=fo, stderr=fe, stdin=subprocess.DEVNULL)  # fmt: skip
    assert created.returncode == 0, err.read_text()
    try:
        between(bundle)
        finding = check_finding(bundle, code, pointer)
        where = f"{finding['line']}:{finding['column']}"
        started = runc(root, log, "start", cid, capture_output=True)
        assert started.returncode != 0, "start returned 0 for a process that never ran"
        for text in (started.stderr, json.loads(log.read_text().splitlines()[-1])["msg"]):
            assert code in text and pointer in text and where in text, text
            assert all(w in text for w in words), text
        assert json.loads(log.read_text().splitlines()[-1])["level"] == "error"
        assert cid in err.read_text()  # and still where the engine collects the output

        # the same explanation as `ocitool exec` of the same bundle
        ours = ocitool_exec(bundle, world_top / "exec-state")
        assert ours.returncode != 0
        cause = started.stderr.split("; cause: ", 1)[1].strip()
        assert cause in ours.stderr, (cause, ours.stderr)
    finally:
        runc(root, log, "delete", "--force", cid, capture_output=True)
