"""HostInfo: presets are deterministic, overrides parse, detection reads a fake tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocitool.errors import UsageError
from ocitool.lower.host import HostInfo, normalize_arch


def test_presets() -> None:
    v1 = HostInfo.preset("v1")
    assert v1.cgroup == "v1" and v1.unified_mount is None
    assert v1.v1_mountpoint("memory") == "/sys/fs/cgroup/memory"
    assert v1.v1_mountpoint("cpu") == "/sys/fs/cgroup/cpu,cpuacct"
    v2 = HostInfo.preset("v2")
    assert v2.cgroup_mounts == {} and v2.unified_mount == "/sys/fs/cgroup"
    assert "memory" in v2.unified_controllers
    hy = HostInfo.preset("hybrid")
    assert hy.unified_mount == "/sys/fs/cgroup/unified" and hy.unified_controllers == ()
    assert hy.v1_mountpoint("pids") == "/sys/fs/cgroup/pids"
    assert HostInfo.preset("v2") == HostInfo.preset("v2")


def test_overrides() -> None:
    host = HostInfo.parse_overrides("cgroup=v1,arch=arm64,kernel=5.4.0-150-generic,last_cap=37")
    assert host.cgroup == "v1" and host.arch == "aarch64" and host.kernel == (5, 4, 0)
    assert host.last_cap == 37
    host = HostInfo.parse_overrides("namespaces=mount+pid,lsms=apparmor+selinux,rootless=1")
    assert host.namespaces == ("mount", "pid") and host.has_lsm("selinux") and host.euid == 1000
    assert HostInfo.parse_overrides("") == HostInfo.preset("v2")
    # a different mode on a given base swaps the whole cgroup layout
    base = HostInfo.preset("v1", "aarch64")
    switched = HostInfo.parse_overrides("cgroup=v2", base)
    assert switched.cgroup_mounts == {} and switched.arch == "aarch64"


@pytest.mark.parametrize(
    "text", ["cgroup=v3", "arch=vax", "kernel=abc", "last_cap=x", "bogus=1", "noequals", "ns=foo"]
)
def test_bad_overrides_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        HostInfo.parse_overrides(text)


def test_arch_names() -> None:
    assert normalize_arch("SCMP_ARCH_X86_64") == "x86_64"
    assert normalize_arch("SCMP_ARCH_AARCH64") == "aarch64"
    assert normalize_arch("amd64") == "x86_64"


def _fake_root(tmp_path: Path, mounts: str, controllers: str | None) -> Path:
    (tmp_path / "proc/self/ns").mkdir(parents=True)
    for ns in ("mnt", "pid", "user"):
        (tmp_path / "proc/self/ns" / ns).write_text("")
    (tmp_path / "proc/self/mounts").write_text(mounts)
    (tmp_path / "proc/sys/kernel").mkdir(parents=True)
    (tmp_path / "proc/sys/kernel/cap_last_cap").write_text("40\n")
    (tmp_path / "sys/kernel/security").mkdir(parents=True)
    (tmp_path / "sys/kernel/security/lsm").write_text("lockdown,capability,apparmor")
    if controllers is not None:
        (tmp_path / "sys/fs/cgroup").mkdir(parents=True)
        (tmp_path / "sys/fs/cgroup/cgroup.controllers").write_text(controllers)
    return tmp_path


def test_detect_v2(tmp_path: Path) -> None:
    root = _fake_root(tmp_path, "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n", "cpu memory pids")
    host = HostInfo.detect(str(root))
    assert host.cgroup == "v2" and host.unified_controllers == ("cpu", "memory", "pids")
    assert host.namespaces == ("mount", "user", "pid") and host.last_cap == 40
    assert host.has_lsm("apparmor") and host.detected


def test_detect_hybrid(tmp_path: Path) -> None:
    mounts = (
        "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
        "cgroup /sys/fs/cgroup/systemd cgroup rw,nosuid,xattr,name=systemd 0 0\n"
        "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,memory 0 0\n"
        "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n"
    )
    host = HostInfo.detect(str(_fake_root(tmp_path, mounts, None)))
    assert host.cgroup == "hybrid"
    assert host.v1_mountpoint("cpuacct") == "/sys/fs/cgroup/cpu,cpuacct"
    assert host.v1_mountpoint("name=systemd") == "/sys/fs/cgroup/systemd"  # named, too
    assert host.unified_mount == "/sys/fs/cgroup/unified"


def test_detect_real_host_does_not_fail() -> None:
    host = HostInfo.detect()
    assert host.cgroup in ("v1", "v2", "hybrid") and host.last_cap > 30


@pytest.mark.parametrize(
    "override",
    ["kernel=5.x.y", "kernel=6.1.0.4", "kernel=", "kernel=²", "kernel=-1", "rootless=maybe",
     "euid=99999999999999999999", "euid=４２", "last_cap=64", "last_cap=-1"],
)  # fmt: skip
def test_bad_override_values_are_usage_errors(override: str) -> None:
    with pytest.raises(UsageError) as info:
        HostInfo.parse_overrides(override)
    assert info.value.code == "OCI011"


def test_good_override_values_are_taken() -> None:
    assert HostInfo.parse_overrides("kernel=6.18.44-fc+").kernel == (6, 18, 44)
    host = HostInfo.parse_overrides("kernel=5.15,rootless=no,euid=4294967294,last_cap=40")
    assert host.kernel[:2] == (5, 15)
    assert host.euid == 4294967294
    assert host.last_cap == 40


def test_a_named_hierarchy_alone_does_not_make_a_v2_host_hybrid(tmp_path: Path) -> None:
    mounts = (
        "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n"
        "cgroup /sys/fs/cgroup/systemd cgroup rw,name=systemd 0 0\n"
    )
    host = HostInfo.detect(str(_fake_root(tmp_path, mounts, "cpu memory")))
    assert host.cgroup == "v2" and host.cgroup_mounts == {}


def test_kcore_is_detected_and_can_be_overridden(tmp_path: Path) -> None:
    root = _fake_root(tmp_path, "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n", "cpu")
    assert HostInfo.detect(str(root)).kcore is False
    (root / "proc/kcore").write_text("")
    assert HostInfo.detect(str(root)).kcore is True
    assert HostInfo.parse_overrides("kcore=0").kcore is False
    with pytest.raises(UsageError, match="kcore"):
        HostInfo.parse_overrides("kcore=maybe")
