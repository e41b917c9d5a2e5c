"""Rootless containers on cgroup v2 with a delegated subtree, where limits do apply (#13).

Runs inside the QEMU test host (see conftest.py), as the unprivileged test user of
tests/helpers/rootless_user.py (the host's user, seen through the guest's overlay of
the host's root). The guest has no systemd, so the fixture does what systemd does for a
login with ``user@UID.service`` and ``Delegate=pids memory cpu``: the service's cgroup
and its cgroup.procs, cgroup.threads and cgroup.subtree_control files belong to the
user, the parents enable those controllers, and the user's manager (here: the user,
through the fixture) starts its processes in a child scope and enables the controllers
for its other children. Every check runs for runc and for ocitool, side by side.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.rootless_user import RootlessUser, require, rootless_user
from tests.helpers_exec.bundle import make_rootfs

pytestmark = pytest.mark.integration

CGROUP = Path("/sys/fs/cgroup")
MiB = 1024 * 1024
DELEGATED = ("pids", "memory", "cpu")  # what systemd's user@.service delegates


@dataclass
class Delegation:
    """The user's delegated cgroup and the scope its commands start in."""

    user: RootlessUser
    service: Path
    session: Path

    def path_of(self, name: str) -> str:
        """A cgroupsPath (cgroupfs driver) for a container under the delegated cgroup."""
        return "/" + str((self.service / name).relative_to(CGROUP))

    def run(self, argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        return self.user.run(argv, cgroup=self.session, **kw)


@pytest.fixture(scope="module")
def user() -> Iterator[RootlessUser]:
    require()
    with rootless_user() as found:
        yield found


@pytest.fixture(scope="module")
def delegated(user: RootlessUser) -> Iterator[Delegation]:
    user_slice = CGROUP / "user.slice"
    slice_ = user_slice / f"user-{user.uid}.slice"
    service = slice_ / f"user@{user.uid}.service"
    service.mkdir(parents=True)
    controls = " ".join(f"+{c}" for c in DELEGATED)
    for parent in (user_slice, slice_):
        (parent / "cgroup.subtree_control").write_text(controls)
    for path in (service, *(service / f for f in ("cgroup.procs", "cgroup.threads",
                                                   "cgroup.subtree_control"))):  # fmt: skip
        os.chown(path, user.uid, user.gid)
    session = service / "session.scope"
    made = user.sh(f"mkdir {session} && echo '{controls}' > {service}/cgroup.subtree_control")
    assert made.returncode == 0, made.stderr
    try:
        yield Delegation(user, service, session)
    finally:
        # what logind does at logout: kill what is left (podman's pause process stays in
        # the session), then remove the cgroups, deepest first
        (slice_ / "cgroup.kill").write_text("1")
        deadline = time.monotonic() + 30
        while "populated 1" in read(slice_, "cgroup.events") and time.monotonic() < deadline:
            time.sleep(0.1)
        for path in sorted(slice_.rglob("*"), key=lambda p: -len(p.parts)):
            if path.is_dir():
                path.rmdir()
        slice_.rmdir()


RUNTIMES = ("runc", "ocitool-runc")


def runtime_argv(user: RootlessUser, name: str) -> str:
    return "runc" if name == "runc" else str(user.bindir / name)


@pytest.fixture
def workdir(user: RootlessUser) -> Iterator[Path]:
    with user.workdir() as path:
        yield path


def read(cg: Path, name: str) -> str:
    return (cg / name).read_text().strip()


def counters(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in (line.split() for line in text.splitlines())}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_rootless_create_in_delegated_cgroup_limits_apply(
    delegated: Delegation, workdir: Path, runtime: str
) -> None:
    """create/start/exec/kill/delete with no --root: the container's cgroup is made under
    the delegated one with each limit written, and the pids limit stops forks."""
    user = delegated.user
    rt = runtime_argv(user, runtime)
    cid = f"rl-{runtime}"
    resources = {
        "memory": {"limit": 64 * MiB},
        "pids": {"limit": 16},
        "cpu": {"quota": 50000, "period": 100000},
    }
    bundle = user.bundle(
        workdir, ["sleep", "1000"],
        cgroupsPath=delegated.path_of(cid), resources=resources,
    )  # fmt: skip
    # stdio on files: the container keeps them open after create returns
    create = delegated.run(
        ["/bin/sh", "-c", f'"$0" create --bundle {bundle} {cid} >{workdir}/out 2>{workdir}/err',
         rt],
    )  # fmt: skip
    assert create.returncode == 0, (workdir / "err").read_text()
    cg = delegated.service / cid
    try:
        started = delegated.run([rt, "start", cid])
        assert started.returncode == 0, started.stderr
        state = json.loads(delegated.run([rt, "state", cid]).stdout)
        assert state["status"] == "running"
        assert Path(f"/proc/{state['pid']}/cgroup").read_text().split() == [
            f"0::{delegated.path_of(cid)}"
        ]
        assert read(cg, "memory.max") == str(64 * MiB)
        assert read(cg, "pids.max") == "16"
        assert read(cg, "cpu.max") == "50000 100000"
        # busybox sh gives up at the first fork the pids limit refuses
        bomb = "i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done"
        proc = delegated.run([rt, "exec", cid, "sh", "-c", bomb])
        assert proc.returncode == 2 and "can't fork" in proc.stderr, proc.stderr
        assert counters(read(cg, "pids.events"))["max"] >= 1  # forks were refused
        assert int(read(cg, "pids.current")) <= 16
        killed = delegated.run([rt, "kill", cid, "KILL"])
        assert killed.returncode == 0, killed.stderr
        deadline = time.monotonic() + 60
        while "populated 1" in read(cg, "cgroup.events") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        deleted = delegated.run([rt, "delete", "--force", cid])
    assert deleted.returncode == 0, deleted.stderr
    assert not cg.exists()
    state_dir = user.runtime_dir / ("runc" if runtime == "runc" else "ocitool")
    assert not (state_dir / cid).exists()


RUNNERS = ("runc run", "ocitool-runc run", "ocitool exec")


@pytest.mark.parametrize("runner", RUNNERS)
def test_rootless_run_pids_limit_applies(delegated: Delegation, workdir: Path, runner: str) -> None:
    """A whole run as the user: in the delegated cgroup's child, at most pids.max tasks (the
    create test above reads the cgroup's files; here the limit is what the container meets)."""
    user = delegated.user
    cid = "rl-run-" + runner.replace(" ", "-")
    # the inner sh gives up (status 2) at the first refused fork; with no fork left, the
    # tasks are counted with a glob, a shell builtin
    script = (
        "sh -c 'i=0; while [ $i -lt 30 ]; do sleep 5 & i=$((i+1)); done'"
        " 2>/dev/null; echo $?; set -- /proc/[0-9]*; echo $#; exit 7"
    )
    bundle = user.bundle(
        workdir, ["sh", "-c", script],
        cgroupsPath=delegated.path_of(cid), resources={"pids": {"limit": 8}},
    )  # fmt: skip
    name, verb = runner.split()
    tool = runtime_argv(user, name) if name != "ocitool" else str(user.bindir / "ocitool")
    argv = [tool, "run", "--bundle", str(bundle), cid]
    if verb == "exec":
        argv = [tool, "exec", str(bundle)]
    proc = delegated.run(argv, timeout=300)
    assert proc.returncode == 7, proc.stderr
    status, count = proc.stdout.split()
    assert status == "2" and int(count) <= 8  # 31 without the limit
    assert not (delegated.service / cid).exists()


@pytest.fixture(scope="module")
def podman_base(delegated: Delegation) -> Iterator[Path]:
    """The user's podman storage (vfs) and configuration, with the busybox image."""
    user = delegated.user
    with user.workdir("ocitool-rootless-podman-") as base:
        (base / "containers.conf").write_text(
            '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
        )
        rootfs = make_rootfs(base / "rootfs")
        subprocess.run(["chown", "-R", f"{user.uid}:{user.gid}", str(base)], check=True)
        cmd = " ".join(podman_argv(base, "runc"))
        imported = delegated.run(
            ["/bin/sh", "-c", f"tar -C {rootfs} -c . | {cmd} import - localhost/bb"],
            env={"CONTAINERS_CONF": str(base / "containers.conf")},
            timeout=300,
        )
        assert imported.returncode == 0, imported.stderr
        yield base


def podman_argv(base: Path, runtime: str) -> list[str]:
    return [
        "podman", "--root", str(base / "storage"), "--runroot", str(base / "runroot"),
        "--storage-driver", "vfs", "--runtime", runtime,
    ]  # fmt: skip


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_rootless_podman_limits_apply(
    delegated: Delegation, podman_base: Path, runtime: str
) -> None:
    """podman --cgroup-parent in the delegated cgroup: the container's pids.max is the
    limit asked for, and the container meets it."""
    user = delegated.user
    script = (
        "cat /sys/fs/cgroup/pids.max; sh -c 'i=0; while [ $i -lt 30 ]; do sleep 5 & "
        "i=$((i+1)); done' 2>/dev/null; echo $?; set -- /proc/[0-9]*; echo $#; exit 3"
    )
    argv = [
        *podman_argv(podman_base, runtime_argv(user, runtime)),
        "run", "--rm", "--network", "none", "--pids-limit", "8",
        "--cgroup-parent", delegated.path_of("podman"), "localhost/bb", "sh", "-c", script,
    ]  # fmt: skip
    env = {"CONTAINERS_CONF": str(podman_base / "containers.conf")}
    proc = delegated.run(argv, env=env, timeout=300)
    assert proc.returncode == 3, proc.stderr
    limit, status, count = proc.stdout.split()
    assert (limit, status) == ("8", "2") and int(count) <= 8
