"""Less common ops, each run for real: id-mapped bind mounts, shared rootfs propagation
(the parent mount is privatized for pivot_root), network device moves, and chroot
for a container without a mount namespace."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers_exec.bundle import BASE_CONFIG
from tests.integration.conftest import ocitool_exec, runc_run

pytestmark = pytest.mark.integration


def test_idmapped_bind_mount(
    bundle_factory: Callable[..., Path], state_root: Path, tmp_path: Path
) -> None:
    src = tmp_path / "data"
    src.mkdir()
    (src / "owned-by-0").write_text("x")
    os.chown(src / "owned-by-0", 0, 0)
    mounts = [
        *BASE_CONFIG["mounts"],
        {
            "destination": "/data",
            "type": "bind",
            "source": str(src),
            "options": ["bind"],
            "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
        },
    ]
    bundle = bundle_factory(["stat", "-c", "%u:%g", "/data/owned-by-0"], mounts=mounts)
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1000:1000"  # on-disk 0 seen through the mapping
    assert os.stat(src / "owned-by-0").st_uid == 0  # the files themselves are unchanged


def _mountinfo(text: str) -> list[tuple[str, list[str]]]:
    """(mount point, optional fields) of each /proc/self/mountinfo line."""
    rows = []
    for line in text.splitlines():
        head = line.split(" - ", 1)[0].split()
        rows.append((head[4], head[6:]))
    return rows


def _shared(fields: list[str]) -> bool:
    return any(f.startswith("shared:") for f in fields)


@pytest.mark.parametrize("mode", ["shared", "rshared"])
def test_shared_rootfs_propagation(
    bundle_factory: Callable[..., Path], state_root: Path, mode: str
) -> None:
    """rootfsPropagation shared: the container's / is shared (a peer group of its own);
    rshared: every mount below it too. pivot_root needs the rootfs's parent mount
    private (privatize_parent_mount), so the propagation is applied to / after it."""
    bundle = bundle_factory(["cat", "/proc/self/mountinfo"], linux={"rootfsPropagation": mode})
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 0, proc.stderr
    ours = _mountinfo(proc.stdout)
    assert ours[0][0] == "/" and _shared(ours[0][1]), proc.stdout
    # mounts made before the pivot: shared only with rshared (MS_REC)
    proc_fields = dict(ours)["/proc"]
    assert _shared(proc_fields) == (mode == "rshared"), proc.stdout
    if mode == "rshared":
        assert all(_shared(f) for _, f in ours), proc.stdout
    host_groups = {
        f
        for line in Path("/proc/self/mountinfo").read_text().splitlines()
        for f in line.split(" - ")[0].split()[6:]
        if f.startswith("shared:")
    }
    assert not host_groups & set(ours[0][1]), "/ must not join a host peer group"
    theirs = runc_run(bundle, f"prop-{mode}-{os.getpid()}")
    assert theirs.returncode == 0, theirs.stderr
    runc_rows = _mountinfo(theirs.stdout)

    # the same mounts as runc (cgroup controller binds aside: their order and the
    # named systemd hierarchy differ)
    def points(rows: list[tuple[str, list[str]]]) -> dict[str, bool]:
        return {p: _shared(f) for p, f in rows if not p.startswith("/sys/fs/cgroup/")}

    assert points(ours).keys() == points(runc_rows).keys()
    # runc applies rootfsPropagation to / after pivot_root since opencontainers/runc#4724
    # (1.3, backported to 1.2); an older runc (Debian 12's 1.1.5) leaves / private
    if _shared(runc_rows[0][1]):
        assert points(ours) == points(runc_rows)


def test_net_device_moved_in_and_renamed(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    name = f"oc{os.getpid() % 100000}"
    subprocess.run(
        ["ip", "link", "add", name, "type", "veth", "peer", "name", f"{name}p"], check=True
    )
    try:
        bundle = bundle_factory(
            ["ls", "/sys/class/net"], linux={"netDevices": {name: {"name": "moved0"}}}
        )
        proc = ocitool_exec(bundle, state_root)
        assert proc.returncode == 0, proc.stderr
        assert "moved0" in proc.stdout.split()
    finally:
        subprocess.run(["ip", "link", "del", name], capture_output=True)


def test_chroot_without_mount_namespace(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    namespaces = [{"type": t} for t in ("pid", "network", "ipc", "uts")]
    bundle = bundle_factory(
        ["sh", "-c", "ls / | tr '\\n' ' '"],
        mounts=[],
        linux={"namespaces": namespaces, "maskedPaths": [], "readonlyPaths": []},
        root={"path": "rootfs", "readonly": False},
    )
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 0, proc.stderr
    assert "bin" in proc.stdout.split() and "etc" in proc.stdout.split()


def test_time_namespace_with_a_new_pid_namespace(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    """A time namespace needs a fork; the process must still be pid 1 of its pid namespace
    (a forking parent that is pid 1 would take it down when it exits)."""
    namespaces = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "time")]
    bundle = bundle_factory(
        ["sh", "-c", "echo pid=$$; readlink /proc/self/ns/time"],
        linux={"namespaces": namespaces},
    )
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert lines[0] == "pid=1"
    assert lines[1] != os.readlink("/proc/self/ns/time")  # a time namespace of its own
