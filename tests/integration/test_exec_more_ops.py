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
from tests.integration.conftest import ocitool_exec

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


def test_shared_rootfs_propagation(bundle_factory: Callable[..., Path], state_root: Path) -> None:
    bundle = bundle_factory(
        ["awk", '$5 == "/"', "/proc/self/mountinfo"], linux={"rootfsPropagation": "shared"}
    )
    proc = ocitool_exec(bundle, state_root)
    # pivot_root fails with EINVAL when the new root's parent mount is shared: the
    # privatize_parent_mount op must have run before it
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1


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
