"""A container that joins another's pid namespace (ocitool/lower/joinedpid.py): it forks
into it only after its root switch, and mounts its /proc from inside it. Does it still
work as a member of that namespace? (The attack the new order prevents is
tests/integration/test_exec_5736.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers_exec.bundle import make_bundle

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
S = f"-{os.getpid()}"


def _runc(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocitool.cli.runc", "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
    )


def _create(root: Path, bundle: Path, cid: str) -> int:
    """create, with the container's stdio on a file (it keeps it open: not a pipe)."""
    with open(bundle / "stdio", "w") as out:
        return subprocess.run(
            [sys.executable, "-m", "ocitool.cli.runc", "--root", str(root)]
            + ["create", "--bundle", str(bundle), cid],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            timeout=60,
            cwd=REPO,
        ).returncode


@pytest.mark.parametrize("no_pivot", [False, True])
def test_a_joining_container_sees_the_namespace_it_joined(
    tmp_path: Path, root_required: None, no_pivot: bool
) -> None:
    root = tmp_path / "state"
    first, cid = make_bundle(tmp_path / "first", ["sleep", "60"]), f"jpid{S}{int(no_pivot)}"
    assert _create(root, first, cid) == 0, (first / "stdio").read_text()
    try:
        assert _runc(root, "start", cid).returncode == 0
        pid = json.loads(_runc(root, "state", cid).stdout)["pid"]
        script = "cat /proc/1/cmdline; echo; echo self=$$; readlink /proc/self/root"
        second = make_bundle(tmp_path / "second", ["sh", "-c", script])
        config = json.loads((second / "config.json").read_text())
        config["linux"]["namespaces"] = [
            {"type": "pid", "path": f"/proc/{pid}/ns/pid"} if n["type"] == "pid" else n
            for n in config["linux"]["namespaces"]
        ]
        (second / "config.json").write_text(json.dumps(config))
        extra = ["--no-pivot"] if no_pivot else []
        out = _runc(root, "run", *extra, "--bundle", str(second), f"{cid}b")
        assert out.returncode == 0, out.stderr
        lines = out.stdout.split("\n")
        assert lines[0] == "sleep\x0060\x00"  # pid 1 is the first container's init
        own = int(lines[1].removeprefix("self="))
        assert own > 1  # a member of that namespace, not its init
        assert lines[2] == "/"
    finally:
        _runc(root, "delete", "--force", cid)
        _runc(root, "delete", "--force", f"{cid}b")
