"""``ocitool exec``: what the plan promised, checked from inside the container."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ocitool.capabilities import names_to_mask
from tests.helpers_exec.bundle import BASE_CONFIG, rich_changes
from tests.integration.conftest import ocitool_exec

pytestmark = pytest.mark.integration

PROBE = "; ".join(
    [
        "grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status",
        "echo uid_map: $(cat /proc/self/uid_map)",
        "echo hostname: $(hostname)",
        "echo domainname: $(cat /proc/sys/kernel/domainname)",
        "echo oom: $(cat /proc/self/oom_score_adj)",
        "echo nofile: $(ulimit -Sn) $(ulimit -Hn)",
        "echo umask: $(umask)",
        "echo cwd: $(pwd)",
        "echo foo: $FOO",
        "echo groups: $(id -G)",
        "echo memlimit: $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)",
        "echo pidsmax: $(cat /sys/fs/cgroup/pids/pids.max)",
        "echo shares: $(cat /sys/fs/cgroup/cpu/cpu.shares)",
        "echo ipfwd: $(cat /proc/sys/net/ipv4/ip_forward)",
        "echo pid: $$",
        "mkdir /tmp/blocked 2>&1",
        "echo mkdir_rc: $?",
        "echo fds: $(ls /proc/self/fd | tr '\\n' ' ')",
    ]
)


def facts(out: str) -> dict[str, str]:
    found = {}
    for line in out.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            found.setdefault(key.strip(), value.strip())
    return found


@pytest.fixture
def rich_run(bundle_factory: Callable[..., Path], state_root: Path) -> tuple[int, str, str]:
    bundle = bundle_factory(["sh", "-c", PROBE + "; exit 3"], **rich_changes())
    proc = ocitool_exec(bundle, state_root)
    return proc.returncode, proc.stdout, proc.stderr


def test_exit_status_and_process_attributes(rich_run: tuple[int, str, str]) -> None:
    code, out, err = rich_run
    assert code == 3, err
    f = facts(out)
    assert f["hostname"] == "rich"
    assert f["domainname"] == "example.org"
    assert f["oom"] == "500"
    assert f["nofile"] == "256 512"
    assert f["umask"] == "0027"
    assert f["cwd"] == "/tmp"
    assert f["foo"] == "bar"
    assert set(f["groups"].split()) == {"0", "10", "20"}
    assert f["pid"] == "1"  # a new pid namespace


def test_capabilities_and_no_new_privs(rich_run: tuple[int, str, str]) -> None:
    _, out, _ = rich_run
    f = facts(out)
    caps = names_to_mask(BASE_CONFIG["process"]["capabilities"]["bounding"])
    for key in ("CapEff", "CapPrm", "CapBnd"):
        assert int(f[key], 16) == caps, key
    assert int(f["CapInh"], 16) == 0
    assert int(f["CapAmb"], 16) == 0
    assert f["NoNewPrivs"] == "1"


def test_seccomp_filter_loaded_and_blocked_syscall_errno(rich_run: tuple[int, str, str]) -> None:
    _, out, _ = rich_run
    f = facts(out)
    assert f["Seccomp"] == "2"  # filter mode
    assert f["Seccomp_filters"] == "1"
    # the profile returns errno 95 (EOPNOTSUPP) for mkdir/mkdirat
    assert "Operation not supported" in out
    assert f["mkdir_rc"] == "1"


def test_cgroup_limits_visible_inside(rich_run: tuple[int, str, str]) -> None:
    _, out, _ = rich_run
    f = facts(out)
    assert f["memlimit"] == "67108864"
    assert f["pidsmax"] == "64"
    assert f["shares"] == "512"
    assert f["ipfwd"] == "1"  # sysctl in the container's network namespace


def test_no_host_fds_in_container(rich_run: tuple[int, str, str]) -> None:
    _, out, _ = rich_run
    # 0-2 and the fd ls itself opens to read /proc/self/fd
    assert facts(out)["fds"].split() == ["0", "1", "2", "3"]


def test_mountinfo_matches_plan(bundle_factory: Callable[..., Path], state_root: Path) -> None:
    bundle = bundle_factory(["cat", "/proc/self/mountinfo"])
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 0, proc.stderr
    mounts: dict[str, tuple[str, str, str]] = {}
    for line in proc.stdout.splitlines():
        left, _, right = line.partition(" - ")
        fields = left.split()
        fstype = right.split()[0]
        mounts[fields[4]] = (fields[5], fstype, " ".join(fields[6:]))
    assert mounts["/"][0].startswith("ro")  # root.readonly
    assert mounts["/proc"][1] == "proc"
    assert mounts["/dev"][1] == "tmpfs" and "nosuid" in mounts["/dev"][0]
    assert mounts["/dev/pts"][1] == "devpts"
    assert mounts["/dev/shm"][1] == "tmpfs" and "noexec" in mounts["/dev/shm"][0]
    assert mounts["/sys"][0].startswith("ro")
    for path in ("/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq"):
        assert mounts[path][0].startswith("ro"), path
    for path in ("/proc/keys", "/proc/timer_list"):
        assert path in mounts, path  # masked with /dev/null
    assert mounts["/sys/firmware"][1] == "tmpfs" and mounts["/sys/firmware"][0].startswith("ro")
    # no shared propagation back to the host: no "shared:" optional field anywhere
    assert not any("shared:" in m[2] for m in mounts.values())


def test_masked_paths_read_empty(bundle_factory: Callable[..., Path], state_root: Path) -> None:
    bundle = bundle_factory(
        [
            "sh",
            "-c",
            "cat /proc/keys | wc -c; ls /sys/firmware | wc -l;"
            " echo x > /proc/sys/kernel/hostname; echo rc=$?",
        ]
    )
    proc = ocitool_exec(bundle, state_root)
    lines = proc.stdout.split()
    assert lines[:2] == ["0", "0"]
    assert "rc=1" in proc.stdout  # /proc/sys is read-only
    assert re.search(r"Read-only file system", proc.stderr + proc.stdout)


def test_user_namespace_uid_map(root_required: None, state_root: Path) -> None:
    from tests.helpers_exec.bundle import userns_bundle

    args = ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u"]
    with userns_bundle(args, 100000, "ocitool-userns-") as bundle:
        proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()]
    assert rows[0] == ["0", "100000", "65536"]
    assert rows[1] == ["0", "100000", "65536"]
    assert rows[2] == ["0"]


def test_dry_run_prints_plan_and_runs_nothing(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    bundle = bundle_factory(["sh", "-c", "echo ran"])
    proc = ocitool_exec(bundle, state_root, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "pivot_root" in proc.stdout and "execve" in proc.stdout
    assert "\nran\n" not in proc.stdout
    assert list(state_root.iterdir()) == []


def test_missing_executable_error_names_op_and_pointer(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    bundle = bundle_factory(["/no/such/program"])
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 1
    assert "execve" in proc.stderr and "ENOENT" in proc.stderr
    assert "at /process/args" in proc.stderr and "config.json:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_v1_hierarchy_shows_the_container_cgroup(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    """Each v1 hierarchy of the host, named ones too (name=systemd), and the unified
    one are the container's own in /proc/self/cgroup, as runc makes them."""
    from ocitool.lower.host import HostInfo

    host = HostInfo.detect()  # on a v2 host: only the unified line, and no names
    bundle = bundle_factory(["cat", "/proc/self/cgroup"])
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 0, proc.stderr
    lines = [line.split(":", 2) for line in proc.stdout.splitlines()]
    paths = {names: path for _, names, path in lines}
    assert all(path.startswith("/ocitool/") for path in paths.values()), paths
    for name in host.cgroup_mounts:
        assert any(name in names.split(",") for names in paths), (name, paths)


def test_dev_core_links_to_proc_kcore_as_with_runc(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    import os

    bundle = bundle_factory(["sh", "-c", "readlink /dev/core || echo none"])
    proc = ocitool_exec(bundle, state_root)
    assert proc.returncode == 0, proc.stderr
    expected = "/proc/kcore" if os.path.exists("/proc/kcore") else "none"
    assert proc.stdout.strip() == expected
