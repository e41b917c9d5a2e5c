"""Spec profiles: ``default`` (= ``runc spec``), ``rootless`` and ``hardened``, built in code.

Profiles are generated rather than shipped as JSON so that the parts that
depend on the invoking user (id maps) and on the host (may we use a user
namespace?) are explicit parameters: the same call gives the same config on
any machine, and the CLI is the only place that looks at the host.

``default`` reproduces runc 1.1.5's ``runc spec`` field by field and
``rootless`` its ``runc spec --rootless`` (runc's ``specconv.ToRootless``);
a test compares both with the installed runc. Every function returns a fresh
dict, ordered the way runc orders keys (:func:`runc_order`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

#: What runc 1.1.5 writes; the default profile must equal its output.
OCI_VERSION = "1.0.2-dev"

PROFILES = ("default", "hardened", "rootless")

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]

MASKED_PATHS = [
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
]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

#: hardened masks these too (Docker masks powercap since the PLATYPUS attack).
HARDENED_EXTRA_MASKED = ["/sys/devices/virtual/powercap"]

#: Host range the hardened profile maps container ids onto when run by root:
#: container root is then an unprivileged host uid (like a /etc/subuid range).
HARDENED_ID_BASE = 100000
HARDENED_ID_SIZE = 65536

HARDENED_MEMORY_LIMIT = 1024 * 1024 * 1024  # 1 GiB
HARDENED_PIDS_LIMIT = 1024


@dataclass(frozen=True)
class ProfileParams:
    """Everything a profile may depend on besides its name (the CLI detects these).

    ``uid``/``gid``: the invoking user's effective ids (rootless maps container
    root onto them). ``userns``: whether the host allows a user namespace
    (hardened uses one only then). ``seccomp``: the OCI seccomp object that
    hardened installs (from ``profiles/seccomp/default.policy``).
    """

    uid: int = 0
    gid: int = 0
    userns: bool = True
    seccomp: dict[str, Any] | None = None


def default_spec() -> dict[str, Any]:
    """The config ``runc spec`` (runc 1.1.5) writes."""
    return {
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": True,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": [DEFAULT_PATH, "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": list(DEFAULT_CAPS),
                "effective": list(DEFAULT_CAPS),
                "permitted": list(DEFAULT_CAPS),
                "ambient": list(DEFAULT_CAPS),
            },
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
                "options": [
                    "nosuid",
                    "noexec",
                    "newinstance",
                    "ptmxmode=0666",
                    "mode=0620",
                    "gid=5",
                ],
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
            "namespaces": [
                {"type": "pid"},
                {"type": "network"},
                {"type": "ipc"},
                {"type": "uts"},
                {"type": "mount"},
            ],
            "maskedPaths": list(MASKED_PATHS),
            "readonlyPaths": list(READONLY_PATHS),
        },
    }


def make_rootless(spec: dict[str, Any], uid: int, gid: int) -> dict[str, Any]:
    """What ``runc spec --rootless`` does to a config (runc's specconv.ToRootless).

    No network namespace (an unprivileged user cannot wire one up), a user
    namespace mapping container root to the invoking user, /sys bind-mounted
    (sysfs cannot be mounted without owning the network namespace), no
    ``uid=``/``gid=`` mount options (those ids are not mapped), and no cgroup
    resources (an unprivileged user usually cannot write cgroups).
    """
    out = copy.deepcopy(spec)
    linux = out.setdefault("linux", {})
    kept = [ns for ns in linux.get("namespaces", []) if ns.get("type") not in ("network", "user")]
    linux["namespaces"] = [*kept, {"type": "user"}]
    linux["uidMappings"] = [{"containerID": 0, "hostID": uid, "size": 1}]
    linux["gidMappings"] = [{"containerID": 0, "hostID": gid, "size": 1}]
    mounts = []
    for mount in out.get("mounts", []):
        if mount.get("destination", "").rstrip("/") == "/sys":
            mounts.append(
                {
                    "destination": "/sys",
                    "type": "none",
                    "source": "/sys",
                    "options": ["rbind", "nosuid", "noexec", "nodev", "ro"],
                }
            )
            continue
        if "options" in mount:
            mount["options"] = [o for o in mount["options"] if not o.startswith(("gid=", "uid="))]
        mounts.append(mount)
    out["mounts"] = mounts
    linux.pop("resources", None)
    return runc_order(out)


def rootless_spec(uid: int, gid: int) -> dict[str, Any]:
    """The config ``runc spec --rootless`` writes for a user with these effective ids."""
    return make_rootless(default_spec(), uid, gid)


def hardened_spec(params: ProfileParams) -> dict[str, Any]:
    """A locked-down config: what a security linter should find nothing to say about.

    Over ``default``: no capabilities at all (add back with --cap-add),
    seccomp from the default policy, a cgroup namespace, more masked paths, a
    writable /tmp tmpfs since the root is read-only, memory and pids limits,
    and, when the host allows user namespaces, a user namespace: run by root,
    container ids 0..65535 map onto host ids 100000..165535 (container root is
    nobody on the host); run by another user, the rootless mapping and its
    adjustments apply. ``noNewPrivileges`` and the read-only root come from
    ``default`` already.
    """
    spec = default_spec()
    process = spec["process"]
    process["terminal"] = False
    process["capabilities"] = {
        "bounding": [],
        "effective": [],
        "inheritable": [],
        "permitted": [],
        "ambient": [],
    }
    process["noNewPrivileges"] = True
    spec["root"]["readonly"] = True
    spec["mounts"].append(
        {
            "destination": "/tmp",
            "type": "tmpfs",
            "source": "tmpfs",
            "options": ["nosuid", "nodev", "noexec", "mode=1777", "size=65536k"],
        }
    )
    linux = spec["linux"]
    linux["resources"] = {
        "devices": [{"allow": False, "access": "rwm"}],
        "memory": {"limit": HARDENED_MEMORY_LIMIT},
        "pids": {"limit": HARDENED_PIDS_LIMIT},
    }
    linux["namespaces"].append({"type": "cgroup"})
    linux["maskedPaths"] = [*MASKED_PATHS, *HARDENED_EXTRA_MASKED]
    if params.seccomp is not None:
        linux["seccomp"] = copy.deepcopy(params.seccomp)
    if params.userns:
        if params.uid == 0:
            linux["namespaces"].append({"type": "user"})
            linux["uidMappings"] = [
                {"containerID": 0, "hostID": HARDENED_ID_BASE, "size": HARDENED_ID_SIZE}
            ]
            linux["gidMappings"] = [
                {"containerID": 0, "hostID": HARDENED_ID_BASE, "size": HARDENED_ID_SIZE}
            ]
        else:
            spec = make_rootless(spec, params.uid, params.gid)
    return runc_order(spec)


def shipped_policy(name: str = "default.policy") -> dict[str, Any] | None:
    """The OCI seccomp object of a policy shipped in ``profiles/seccomp/`` (None if absent).

    Reading a file ocitool ships is not a host fact, so this may live here;
    ``hardened`` itself still takes the object as a parameter.
    """
    from ocitool.resources import resource_path
    from ocitool.seccomp.policy import load_policy

    path = resource_path("profiles", f"seccomp/{name}")
    return load_policy(path) if path.exists() else None


def build_profile(name: str, params: ProfileParams | None = None) -> dict[str, Any]:
    """The named profile's config; ``name`` must be one of :data:`PROFILES`."""
    params = params or ProfileParams()
    if name == "default":
        return default_spec()
    if name == "rootless":
        return rootless_spec(params.uid, params.gid)
    if name == "hardened":
        return hardened_spec(params)
    raise ValueError(f"unknown profile {name!r}")


# Key order of the runtime-spec Go structs (what runc prints), for readable output.
_ORDER: dict[str, list[str]] = {
    "": ["ociVersion", "process", "root", "hostname", "domainname", "mounts", "hooks",
         "annotations", "linux"],
    "process": ["terminal", "consoleSize", "user", "args", "commandLine", "env", "cwd",
                "capabilities", "rlimits", "noNewPrivileges", "apparmorProfile",
                "oomScoreAdj", "scheduler", "selinuxLabel", "ioPriority", "execCPUAffinity"],
    "user": ["uid", "gid", "umask", "additionalGids", "username"],
    "capabilities": ["bounding", "effective", "inheritable", "permitted", "ambient"],
    "mount": ["destination", "type", "source", "options", "uidMappings", "gidMappings"],
    "linux": ["uidMappings", "gidMappings", "timeOffsets", "sysctl", "resources",
              "cgroupsPath", "namespaces", "devices", "seccomp", "rootfsPropagation",
              "maskedPaths", "readonlyPaths", "mountLabel", "intelRdt", "personality"],
    "resources": ["devices", "memory", "cpu", "pids", "blockIO", "hugepageLimits",
                  "network", "rdma", "unified"],
}  # fmt: skip


def _ordered(obj: dict[str, Any], order: list[str]) -> dict[str, Any]:
    rank = {key: i for i, key in enumerate(order)}
    return dict(sorted(obj.items(), key=lambda kv: rank.get(kv[0], len(rank))))


def runc_order(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with keys in runc's order (unknown keys keep their order, after known ones)."""
    out = _ordered(spec, _ORDER[""])
    process = out.get("process")
    if isinstance(process, dict):
        process = _ordered(process, _ORDER["process"])
        for key in ("user", "capabilities"):
            if isinstance(process.get(key), dict):
                process[key] = _ordered(process[key], _ORDER[key])
        out["process"] = process
    if isinstance(out.get("mounts"), list):
        out["mounts"] = [
            _ordered(m, _ORDER["mount"]) if isinstance(m, dict) else m for m in out["mounts"]
        ]
    linux = out.get("linux")
    if isinstance(linux, dict):
        linux = _ordered(linux, _ORDER["linux"])
        if isinstance(linux.get("resources"), dict):
            linux["resources"] = _ordered(linux["resources"], _ORDER["resources"])
        out["linux"] = linux
    return out
