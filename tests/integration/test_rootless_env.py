"""The rootless test harness itself (issue #13): the user, its login environment, and the
install of the tree under test that it runs; runc run as that user proves the user
namespace set-up the rootless runtime tests rely on (own id, subordinate ranges).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.rootless_user import REPO, RootlessUser

pytestmark = pytest.mark.integration


def subordinate_range(user: RootlessUser, kind: str) -> tuple[int, int]:
    """(start, count) of the user's /etc/sub{kind} range (test_rootless_runtime.py uses it)."""
    return user.subordinate(kind)


def rootless_bundle(user: RootlessUser, top: Path, args: list[str], spec: list[str]) -> Path:
    """A busybox bundle owned by the user, its config from ``spec --rootless`` run as the
    user (RootlessUser.bundle; test_rootless_runtime.py uses this name)."""
    return user.bundle(top, args, spec)


@pytest.fixture
def top(rootless_user: RootlessUser) -> Iterator[Path]:
    with rootless_user.workdir() as path:
        yield path


def test_the_user_runs_with_a_login_environment(rootless_user: RootlessUser) -> None:
    user = rootless_user
    proc = user.sh("id -u; id -G; env | sort; cat /proc/self/status | grep '^Cap[PE]'")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == str(user.uid) != "0" and lines[1] == str(user.gid)
    names = {ln.partition("=")[0] for ln in lines[2:] if "=" in ln and not ln.startswith("Cap")}
    assert names <= {"HOME", "USER", "LOGNAME", "SHELL", "LANG", "PATH", "XDG_RUNTIME_DIR", "PWD"}
    assert all(ln.endswith("0000000000000000") for ln in lines if ln.startswith("Cap"))
    st = user.runtime_dir.stat()
    assert (st.st_uid, st.st_mode & 0o777) == (user.uid, 0o700)
    # the reason for all of this: pyenv's python3 and a checkout under /root are out of reach
    assert user.run(["ls", "/root"]).returncode != 0


def test_launchers_run_the_tree_under_test(rootless_user: RootlessUser) -> None:
    for name, banner in (("ocitool", "ocitool 0."), ("ocitool-runc", "ocitool-runc version")):
        proc = rootless_user.run([name, "--version"], env={"OCITOOL_LAUNCH_DEBUG": "1"})
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(banner)
        line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("ocitool-launch:"))
        info = dict(part.split("=", 1) for part in line.split()[1:])
        assert info["python"] == str(rootless_user.bindir / "python3")
        assert info["site_imported"] == "0" and info["boot"] == "module"
        package = Path(info["ocitool"]).parent
        assert package.is_relative_to(rootless_user.bindir.parent)
    # the copy is this tree, file for file
    for path in sorted((REPO / "ocitool").rglob("*.py")):
        copy = package / path.relative_to(REPO / "ocitool")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest, copy


def uid_map_lines(text: str) -> list[list[int]]:
    return [[int(f) for f in line.split()] for line in text.strip().splitlines()]


def test_runc_rootless_single_mapping(rootless_user: RootlessUser, top: Path) -> None:
    """The reference runtime, as the user with no --root: its own id mapped to 0, state in
    $XDG_RUNTIME_DIR/runc, exit status carried, nothing left."""
    user = rootless_user
    script = "cat /proc/self/uid_map /proc/self/gid_map; id -u; exit 3"
    bundle = user.bundle(top, ["sh", "-c", script])
    cid = f"rl-runc-{os.getpid()}"
    proc = user.run(["runc", "run", cid], cwd=bundle)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.splitlines()
    assert uid_map_lines(lines[0]) == [[0, user.uid, 1]]
    assert uid_map_lines(lines[1]) == [[0, user.gid, 1]]
    assert lines[2] == "0"
    assert not (user.runtime_dir / "runc" / cid).exists()


def test_runc_rootless_multi_range_through_newuidmap(
    rootless_user: RootlessUser, top: Path
) -> None:
    """Own id as 0 plus the subordinate range as 1..65536: only newuidmap/newgidmap may
    write such maps for an unprivileged user."""
    user = rootless_user
    bundle = user.bundle(top, ["sh", "-c", "cat /proc/self/uid_map; cat /proc/self/gid_map"])
    maps: dict[str, Any] = {}
    for kind, own in (("uid", user.uid), ("gid", user.gid)):
        start, count = user.subordinate(kind)
        maps[f"{kind}Mappings"] = [
            {"containerID": 0, "hostID": own, "size": 1},
            {"containerID": 1, "hostID": start, "size": count},
        ]
    config = json.loads((bundle / "config.json").read_text())
    config["linux"].update(maps)
    (bundle / "config.json").write_text(json.dumps(config))
    proc = user.run(["runc", "run", f"rl-runc-multi-{os.getpid()}"], cwd=bundle)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    expected = {
        kind: [[m["containerID"], m["hostID"], m["size"]] for m in maps[f"{kind}Mappings"]]
        for kind in ("uid", "gid")
    }
    assert uid_map_lines("\n".join(lines[:2])) == expected["uid"]
    assert uid_map_lines("\n".join(lines[2:])) == expected["gid"]


def test_launcher_as_the_user_skips_an_unreachable_python(
    rootless_user: RootlessUser, top: Path
) -> None:
    """A launcher whose python3 lies under a directory the user cannot search (pyenv's under
    /root): the python3 on PATH lacks ocitool, so the bootstrap hands over to the next one
    that has it; with none, it fails naming each interpreter and why."""
    user = rootless_user
    private = Path(tempfile.mkdtemp(prefix="ocitool-rootless-private-"))  # 0700, root's
    try:
        (private / "python3").symlink_to(os.path.realpath(sys.executable))
        launcher_dir = top / "bin"
        launcher_dir.mkdir()
        for name in ("ocitool-runc", "_ocitool_boot.py"):
            shutil.copy2(REPO / "bin" / name, launcher_dir / name)
        (launcher_dir / "python3").symlink_to(private / "python3")
        launcher = str(launcher_dir / "ocitool-runc")
        env = {"PATH": f"/usr/bin:/bin:{user.bindir}", "OCITOOL_LAUNCH_DEBUG": "1"}
        proc = user.run([launcher, "--version"], env=env)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("ocitool-runc version")
        line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("ocitool-launch:"))
        assert f"python={user.bindir}/python3 " in line
        proc = user.run([launcher, "--version"], env={"PATH": "/usr/bin:/bin"})
        assert proc.returncode == 1
        assert "Traceback" not in proc.stderr
        tried = proc.stderr.partition("tried: ")[2].partition(". Set OCITOOL_PYTHON")[0]
        assert tried.split("; ") == [
            "/usr/bin/python3 (cannot import ocitool: No module named 'ocitool')",
            f"{launcher_dir}/python3 (cannot reach it: Permission denied)",
        ]
    finally:
        shutil.rmtree(private)
