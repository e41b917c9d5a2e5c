"""cgroup v2 code paths on this v1/hybrid host: the device program is loaded and
attached for real on the (controller-less) cgroup2 hierarchy, and the v2 limit
writes go to a fake cgroupfs tree."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ocitool import records
from ocitool.exec.apply import APPLIERS
from ocitool.exec.context import ExecContext
from ocitool.exec.linux import LinuxSyscalls
from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.spec.pipeline import load_spec

pytestmark = pytest.mark.integration

UNIFIED = "/sys/fs/cgroup/unified"


def _v2_plan(bundle: Path, kernel: tuple[int, int, int] = (6, 1, 0)) -> list:
    _, spec = load_spec(str(bundle), validate=False)
    host = records.replace(HostInfo.preset("v2"), kernel=kernel)
    return list(lower(spec, host, container_id="v2t", bundle=str(bundle)).ops)


def test_device_program_denies_what_the_policy_denies(
    bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    if not os.path.isdir(UNIFIED) and not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        pytest.fail("no cgroup2 hierarchy to attach a device program to")
    base = UNIFIED if os.path.isdir(UNIFIED) else "/sys/fs/cgroup"
    op = next(o for o in _v2_plan(bundle_factory(["true"])) if o.name == "cgroup_device_program")
    assert op.default == "deny" and "c 1:3 rwm allow" in op.rules
    # our own device nodes: /dev/mem's numbers (not allowed) and /dev/null's (allowed)
    mem, null = tmp_path / "mem", tmp_path / "null"
    os.mknod(mem, 0o600 | 0o020000, os.makedev(1, 1))
    os.mknod(null, 0o666 | 0o020000, os.makedev(1, 3))
    cg = f"{base}/ocitool-devtest-{os.getpid()}"
    os.mkdir(cg)
    try:
        APPLIERS[op.name](records.replace(op, path=cg), ExecContext(sys=LinuxSyscalls()))
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            with open(f"{cg}/cgroup.procs", "w") as f:
                f.write("0")
            result = []
            for dev in (str(null), str(mem), "/dev/zero"):
                try:
                    os.close(os.open(dev, os.O_RDONLY))
                    result.append(f"{dev}=ok")
                except OSError as exc:
                    result.append(f"{dev}={exc.errno}")
            os.write(w, " ".join(result).encode())
            os._exit(0)
        os.close(w)
        out = os.read(r, 4096).decode()
        os.close(r)
        os.waitpid(pid, 0)
    finally:
        os.rmdir(cg)
    seen = dict(item.split("=") for item in out.split())
    assert seen[str(null)] == "ok" and seen["/dev/zero"] == "ok"
    assert seen[str(mem)] == "1"  # EPERM from the program (root could open it otherwise)


def test_v2_limits_written_to_a_fake_cgroupfs(
    bundle_factory: Callable[..., Path], tmp_path: Path
) -> None:
    from tests.helpers_exec.bundle import rich_changes

    bundle = bundle_factory(["true"], **rich_changes())
    # before Linux 5.7 (no clone3 into the cgroup) the plan has an explicit join
    plan = _v2_plan(bundle, kernel=(5, 4, 0))
    ops = [o for o in plan if o.name in ("cgroup_mkdir", "cgroup_write", "cgroup_join")]
    fake = str(tmp_path / "cgroup")

    def moved(op: object) -> object:
        return records.replace(op, path=op.path.replace("/sys/fs/cgroup", fake, 1))  # type: ignore

    ctx = ExecContext(sys=LinuxSyscalls(), pid=4321)
    writes = {}
    for op in map(moved, ops):
        if op.name in ("cgroup_write", "cgroup_join"):
            # the kernel makes these files; the fake tree needs them
            Path(op.path).parent.mkdir(parents=True, exist_ok=True)
            Path(op.path).touch()
        if op.name == "cgroup_write":
            writes[op.path] = op.value
        APPLIERS[op.name](op, ctx)
    leaf = next(o for o in map(moved, ops) if o.name == "cgroup_mkdir").path
    assert writes[f"{leaf}/memory.max"] == "67108864"
    assert writes[f"{leaf}/pids.max"] == "64"
    for path, value in writes.items():
        assert Path(path).read_text() == value, path
    # no user namespace: the init moves itself (lower/spawn.py)
    assert Path(leaf, "cgroup.procs").read_text() == "0"
    assert len(ctx.rollback) == 1  # the container's own directory, to be removed at delete
