"""Build busybox bundles for the executor's integration tests (no downloads).

The rootfs is Debian's static busybox (``busybox-static``) plus one symlink per
applet; the config mirrors ``runc spec`` (what runc itself generates), so the
same bundle can be run by runc for comparison.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

BUSYBOX = "/bin/busybox"

DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

BASE_CONFIG: dict[str, Any] = {
    "ociVersion": "1.0.2",
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": ["true"],
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
        "cwd": "/",
        "capabilities": {k: list(DEFAULT_CAPS) for k in ("bounding", "effective", "permitted")},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "rootfs", "readonly": True},
    "hostname": "runc",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {
            "destination": "/dev",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
        },
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        },
        {
            "destination": "/dev/shm",
            "type": "tmpfs",
            "source": "shm",
            "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        },
        {
            "destination": "/dev/mqueue",
            "type": "mqueue",
            "source": "mqueue",
            "options": ["nosuid", "noexec", "nodev"],
        },
        {
            "destination": "/sys",
            "type": "sysfs",
            "source": "sysfs",
            "options": ["nosuid", "noexec", "nodev", "ro"],
        },
        {
            "destination": "/sys/fs/cgroup",
            "type": "cgroup",
            "source": "cgroup",
            "options": ["nosuid", "noexec", "nodev", "relatime", "ro"],
        },
    ],
    "linux": {
        "resources": {"devices": [{"allow": False, "access": "rwm"}]},
        "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")],
        "maskedPaths": [
            "/proc/acpi",
            "/proc/asound",
            "/proc/kcore",
            "/proc/keys",
            "/proc/latency_stats",
            "/proc/timer_list",
            "/proc/timer_stats",
            "/proc/sched_debug",
            "/sys/firmware",
            "/proc/scsi",
        ],
        "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
}


def applets() -> list[str]:
    out = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout
    return [a for a in out.split() if a and a != "busybox"]


_APPLETS: list[str] = []


def make_rootfs(rootfs: Path) -> Path:
    """A minimal busybox root: /bin/busybox + applet symlinks, /etc/passwd, empty mountpoints."""
    if not _APPLETS:
        _APPLETS.extend(applets())
    (rootfs / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, rootfs / "bin" / "busybox")
    for name in _APPLETS:
        link = rootfs / "bin" / name
        if not link.exists():
            os.symlink("busybox", link)
    for d in ("proc", "dev", "sys", "tmp", "etc", "root", "usr/bin", "sbin"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    (rootfs / "tmp").chmod(0o1777)
    (rootfs / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"
    )
    (rootfs / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    return rootfs


def make_bundle(path: Path, args: list[str] | None = None, **changes: Any) -> Path:
    """A bundle at ``path`` with the base config; ``changes`` are deep-merged into it."""
    path.mkdir(parents=True, exist_ok=True)
    if not (path / "rootfs" / "bin" / "busybox").exists():
        make_rootfs(path / "rootfs")
    config = copy.deepcopy(BASE_CONFIG)
    if args is not None:
        config["process"]["args"] = args
    _merge(config, changes)
    write_config(path, config)
    return path


def write_config(path: Path, config: dict[str, Any]) -> None:
    (path / "config.json").write_text(json.dumps(config, indent=2))


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def rich_changes() -> dict[str, Any]:
    """Config changes that exercise most ops: limits, sysctl, seccomp, hooks, env, user."""
    return {
        "hostname": "rich",
        "domainname": "example.org",
        "process": {
            "cwd": "/tmp",
            "env": ["PATH=/bin", "FOO=bar"],
            "oomScoreAdj": 500,
            "rlimits": [
                {"type": "RLIMIT_NOFILE", "hard": 512, "soft": 256},
                {"type": "RLIMIT_NPROC", "hard": 300, "soft": 200},
            ],
            "user": {"uid": 0, "gid": 0, "umask": 0o027, "additionalGids": [10, 20]},
        },
        "mounts": [
            *BASE_CONFIG["mounts"],
            {
                "destination": "/tmp",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "nodev", "mode=1777"],
            },
        ],
        "linux": {
            "resources": {
                "devices": [{"allow": False, "access": "rwm"}],
                "memory": {"limit": 67108864},
                "pids": {"limit": 64},
                "cpu": {"shares": 512},
            },
            "sysctl": {"net.ipv4.ip_forward": "1"},
            "seccomp": {
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [
                    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}
                ],
            },
        },
        "hooks": {
            "createRuntime": [{"path": "/bin/true"}],
            "poststart": [{"path": "/bin/true"}],
            "poststop": [{"path": "/bin/true"}],
        },
    }


@contextmanager
def open_dir(prefix: str) -> Iterator[Path]:
    """A fresh directory under /tmp that every uid can traverse (0755), removed afterwards:
    the root of a user namespace is not the host's root, and pytest's tmp_path lies below a
    0700 directory."""
    top = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    try:
        top.chmod(0o755)
        yield top
    finally:
        shutil.rmtree(top, ignore_errors=True)


@contextmanager
def userns_bundle(args: list[str], host_id: int, prefix: str) -> Iterator[Path]:
    """A busybox bundle whose user namespace maps container root to ``host_id`` (65536
    ids), in a fresh directory under /tmp that the mapped root can reach (0755 all the
    way down, the rootfs owned by ``host_id``); removed afterwards."""
    changes = {
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "user")],
            "uidMappings": [{"containerID": 0, "hostID": host_id, "size": 65536}],
            "gidMappings": [{"containerID": 0, "hostID": host_id, "size": 65536}],
        }
    }
    with open_dir(prefix) as top:
        bundle = make_bundle(top / "b", args, **changes)
        owner = f"{host_id}:{host_id}"
        subprocess.run(["chown", "-R", "-h", owner, str(bundle / "rootfs")], check=True)
        yield bundle
