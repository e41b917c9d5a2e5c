"""The rootless runtime as a real unprivileged user (issue #13): ``ocitool exec`` of the
rootless profile and the ocitool-runc lifecycle with no ``--root``, side by side with runc
where they must agree; id maps through newuidmap/newgidmap; nothing left behind.

The user and the install of this tree it runs come from tests/helpers/rootless_user.py.
On this project's hosts no cgroup is delegated to the user, so every container runs
without one (the plan says so); the limits a config sets are reported, not applied.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocitool.lower.host import HostInfo
from ocitool.rootless_host import hierarchies
from tests.helpers.rootless_user import REPO, RootlessUser
from tests.integration.test_rootless_env import rootless_bundle, subordinate_range, uid_map_lines

pytestmark = pytest.mark.integration

PROBE = "cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; id -u; id -G; ls /dev"


@pytest.fixture
def top(rootless_user: RootlessUser) -> Iterator[Path]:
    with rootless_user.workdir() as path:
        yield path


def _config(bundle: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((bundle / "config.json").read_text())
    return data


def _write(bundle: Path, config: dict[str, Any]) -> None:
    (bundle / "config.json").write_text(json.dumps(config))


def _subid_maps(user: RootlessUser) -> dict[str, list[dict[str, int]]]:
    maps = {}
    for kind, own in (("uid", user.uid), ("gid", user.gid)):
        start, count = subordinate_range(user, kind)
        maps[f"{kind}Mappings"] = [
            {"containerID": 0, "hostID": own, "size": 1},
            {"containerID": 1, "hostID": start, "size": count},
        ]
    return maps


def _host_mounts_under(path: Path) -> list[str]:
    text = Path("/proc/self/mountinfo").read_text()
    return [line for line in text.splitlines() if str(path) in line]


def _leftover_cgroups(cid: str) -> list[str]:
    found = []
    for base in Path("/sys/fs/cgroup").iterdir():
        for rel in (f"ocitool/{cid}", cid):
            if (base / rel).exists():
                found.append(str(base / rel))
    return found


def _assert_nothing_left(user: RootlessUser, cid: str, bundle: Path) -> None:
    root = user.runtime_dir / "ocitool"
    assert not (root / cid).exists(), sorted(os.listdir(root))
    assert _leftover_cgroups(cid) == []
    assert _host_mounts_under(bundle) == []


def test_ocitool_exec_runs_the_rootless_profile(rootless_user: RootlessUser, top: Path) -> None:
    """``ocitool spec --rootless`` then ``ocitool exec`` as the user, no --root: the user's own
    ids mapped to 0 directly (setgroups denied), device nodes bound from the host, the exit
    status carried, state under $XDG_RUNTIME_DIR/ocitool (0700 + sticky, as runc's)."""
    user = rootless_user
    bundle = rootless_bundle(user, top, ["sh", "-c", PROBE + "; exit 3"], ["ocitool", "spec"])
    cid = f"rl-exec-{os.getpid()}"
    proc = user.run(["ocitool", "exec", "--id", cid, str(bundle)])
    assert proc.returncode == 3, proc.stderr
    lines = proc.stdout.splitlines()
    assert uid_map_lines(lines[0]) == [[0, user.uid, 1]]
    assert uid_map_lines(lines[1]) == [[0, user.gid, 1]]
    assert lines[2:5] == ["deny", "0", "0"]
    assert {"null", "zero", "urandom", "tty", "pts", "mqueue"} <= set(lines[5:])
    root = user.runtime_dir / "ocitool"
    st = root.stat()
    assert (st.st_uid, st.st_mode & 0o7777) == (user.uid, 0o1700)
    _assert_nothing_left(user, cid, bundle)


def test_the_plan_as_the_user_shows_what_runs(rootless_user: RootlessUser, top: Path) -> None:
    """``ocitool plan`` run by the user detects rootless mode; root's ``--host
    this,rootless=1`` with the user's ids prints the same plan; the skipped cgroup and
    every limit not applied show."""
    user = rootless_user
    bundle = rootless_bundle(user, top, ["true"], ["ocitool", "spec"])
    config = _config(bundle)
    config["linux"]["resources"] = {"pids": {"limit": 32}}
    _write(bundle, config)
    detected = user.run(["ocitool", "plan", "--format", "json", "--id", "p1", str(bundle)])
    assert detected.returncode == 0, detected.stderr
    plan = json.loads(detected.stdout)
    assert plan["host"]["rootless"] is True and plan["host"]["euid"] == user.uid
    ops = [op["op"] for op in plan["ops"]]
    assert "cgroups_skipped" in ops and not [o for o in ops if o.startswith("cgroup_")]
    warned = [d for d in plan["diagnostics"] if d["code"] == "OCI381"]
    assert [d["pointer"] for d in warned] == ["/linux/resources/pids/limit"]
    # root asks what that user would run on this machine: the same plan, op for op
    forced = subprocess.run(
        [sys.executable, "-m", "ocitool.cli.main", "plan", "--format", "json", "--id", "p1",
         "--host", f"this,rootless=1,euid={user.uid},egid={user.gid}", str(bundle)],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    forced_plan = json.loads(forced.stdout)
    assert [op["text"] for op in forced_plan["ops"]] == [op["text"] for op in plan["ops"]]
    assert forced_plan["host"] == plan["host"]
    idmap = [op["text"] for op in plan["ops"] if op["phase"] == "create.idmap"]
    assert idmap == [
        'write("/proc/{init}/setgroups", "deny")',
        f'write("/proc/{{init}}/uid_map", "0 {user.uid} 1\\n")',
        f'write("/proc/{{init}}/gid_map", "0 {user.gid} 1\\n")',
    ]


def test_multi_range_maps_through_newuidmap(rootless_user: RootlessUser, top: Path) -> None:
    """Own id as 0 plus the subordinate ranges: written by newuidmap/newgidmap, visible in
    /proc/self/uid_map inside; setgroups stays allowed, so additionalGids apply."""
    user = rootless_user
    bundle = rootless_bundle(user, top, ["sh", "-c", PROBE], ["ocitool", "spec"])
    maps = _subid_maps(user)
    config = _config(bundle)
    config["linux"].update(maps)
    config["process"]["user"]["additionalGids"] = [5, 100]
    _write(bundle, config)
    cid = f"rl-multi-{os.getpid()}"
    proc = user.run(["ocitool", "exec", "--id", cid, str(bundle)])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for kind, got in (("uid", lines[0:2]), ("gid", lines[2:4])):
        want = [[m["containerID"], m["hostID"], m["size"]] for m in maps[f"{kind}Mappings"]]
        assert uid_map_lines("\n".join(got)) == want
    assert lines[4:7] == ["allow", "0", "0 5 100"]
    _assert_nothing_left(user, cid, bundle)


def test_a_range_not_granted_is_a_clear_error(rootless_user: RootlessUser, top: Path) -> None:
    user = rootless_user
    bundle = rootless_bundle(user, top, ["true"], ["ocitool", "spec"])
    maps = _subid_maps(user)
    start, count = subordinate_range(user, "uid")
    maps["uidMappings"][1]["hostID"] = start + count  # just past what /etc/subuid grants
    config = _config(bundle)
    config["linux"].update(maps)
    _write(bundle, config)
    cid = f"rl-refused-{os.getpid()}"
    proc = user.run(["ocitool", "exec", "--id", cid, str(bundle)])
    assert proc.returncode == 1
    assert "error OCI541 at /linux/uidMappings" in proc.stderr
    assert "newuidmap" in proc.stderr and "/etc/subuid" in proc.stderr
    assert "Traceback" not in proc.stderr
    _assert_nothing_left(user, cid, bundle)


def test_runc_run_side_by_side(rootless_user: RootlessUser, top: Path) -> None:
    """The same ``runc spec --rootless`` bundle under runc and ocitool-runc ``run`` (no
    --root): the same output and exit status, each state root left empty of it."""
    user = rootless_user
    script = "cat /proc/self/uid_map /proc/self/gid_map; id -u; hostname; exit 7"
    bundle = rootless_bundle(user, top, ["sh", "-c", script], ["runc", "spec"])
    outputs = {}
    for runtime, state in (("runc", "runc"), ("ocitool-runc", "ocitool")):
        cid = f"rl-run-{runtime}-{os.getpid()}"
        proc = user.run([runtime, "run", cid], cwd=bundle)
        assert proc.returncode == 7, (runtime, proc.stderr)
        outputs[runtime] = proc.stdout
        assert not (user.runtime_dir / state / cid).exists()
    assert outputs["ocitool-runc"] == outputs["runc"]
    _assert_nothing_left(user, f"rl-run-ocitool-runc-{os.getpid()}", bundle)


def test_runc_lifecycle_without_root_flag(rootless_user: RootlessUser, top: Path) -> None:
    """run -d, state, exec, kill, delete as the user, state in $XDG_RUNTIME_DIR/ocitool."""
    user = rootless_user
    bundle = rootless_bundle(user, top, ["sleep", "300"], ["ocitool", "spec"])
    cid = f"rl-life-{os.getpid()}"
    # the detached container keeps the stdio it is given: not the test's pipes
    log = top / "run.log"
    proc = user.sh(f"ocitool-runc run -d {cid} </dev/null >/dev/null 2>{log}", cwd=bundle)
    try:
        assert proc.returncode == 0, log.read_text()
        state = user.run(["ocitool-runc", "state", cid])
        assert state.returncode == 0, state.stderr
        st = json.loads(state.stdout)
        assert st["status"] == "running" and st["owner"] == str(user.uid)
        assert (user.runtime_dir / "ocitool" / cid / "state.json").exists()
        ex = user.run(["ocitool-runc", "exec", cid, "sh", "-c", "cat /proc/self/uid_map; id -u"])
        assert ex.returncode == 0, ex.stderr
        assert uid_map_lines(ex.stdout.splitlines()[0]) == [[0, user.uid, 1]]
        assert ex.stdout.splitlines()[1] == "0"
        kill = user.run(["ocitool-runc", "kill", cid, "KILL"])
        assert kill.returncode == 0, kill.stderr
    finally:
        user.run(["ocitool-runc", "delete", "--force", cid])
    listed = user.run(["ocitool-runc", "list", "-q"])
    assert cid not in listed.stdout.split()
    _assert_nothing_left(user, cid, bundle)


@pytest.fixture
def delegated(rootless_user: RootlessUser) -> Iterator[tuple[str, list[Path]]]:
    """A cgroup handed to the user in every hierarchy a container uses, as an administrator
    (or systemd, on v2) delegates one: ``D`` and ``D/leaf`` made by root and chowned with
    their files; the user's runtime is started in ``D/leaf``."""
    host = HostInfo.detect()
    mounts = hierarchies(host.cgroup, host.cgroup_mounts, host.unified_mount)
    name = f"/ocitool-rl-delegated-{os.getpid()}"
    made: list[Path] = []
    for mount in mounts:
        for rel in (name, f"{name}/leaf"):
            d = Path(mount + rel)
            d.mkdir()
            made.append(d)
            for mems in ("cpuset.cpus", "cpuset.mems"):  # a new v1 cpuset starts empty
                if (d / mems).exists():
                    (d / mems).write_text((d.parent / mems).read_text())
            for entry in (d, *d.iterdir()):
                os.chown(entry, rootless_user.uid, rootless_user.gid)
    yield name, [Path(m + name) for m in mounts]
    for d in sorted(made, key=lambda p: -len(str(p))):
        for sub in sorted(d.rglob("*"), key=lambda p: -len(str(p))):
            if sub.is_dir():
                sub.rmdir()
        d.rmdir()


def test_a_delegated_cgroup_is_used_and_its_limits_apply(
    rootless_user: RootlessUser, top: Path, delegated: tuple[str, list[Path]]
) -> None:
    """With a cgroup the user owns in every hierarchy (v1 here: only by an administrator's
    chown), the container's cgroup is made below it, the pids limit applies, and delete
    removes it; no device policy is written (the user may not)."""
    user = rootless_user
    name, dirs = delegated
    probe = "cat /proc/self/cgroup; cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max"
    bundle = rootless_bundle(
        user, top, ["sh", "-c", probe + " 2>/dev/null; true"], ["ocitool", "spec"]
    )
    config = _config(bundle)
    config["linux"]["resources"] = {"pids": {"limit": 42}}
    _write(bundle, config)
    cid = f"rl-deleg-{os.getpid()}"
    runtime = subprocess.Popen(
        ["/bin/sh", "-c", f'read go && exec ocitool exec --id {cid} "$0"', str(bundle)],
        user=user.uid,
        group=user.gid,
        extra_groups=[],
        env=user.env(),
        cwd=user.home,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for d in dirs:  # root starts it in the leaf, as a login session would be
        (d / "leaf" / "cgroup.procs").write_text(str(runtime.pid))
    out, err = runtime.communicate("go\n", timeout=120)
    assert runtime.returncode == 0, (out, err)
    lines = out.splitlines()
    assert "42" in lines
    cgroups = dict(line.split(":", 2)[1:] for line in lines if line.count(":") >= 2)
    expected = f"{name}/ocitool/{cid}"
    used = [c for c, path in cgroups.items() if path == expected]
    assert "pids" in used or "" in used, cgroups  # v1 pids hierarchy, or the v2 one
    assert "OCI381" not in err
    assert not [d for d in dirs if (d / "ocitool" / cid).exists()]
    assert not (user.runtime_dir / "ocitool" / cid).exists()
