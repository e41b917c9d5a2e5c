"""features.json (runtime-spec features.md) for what ocitool-runc really supports.

Built from the tables the code itself uses -- the mount option table of the
lowering, the seccomp compiler's actions/operators/architectures, the
capability list, the executor's op appliers -- so it cannot claim a feature
the executor lacks (e.g. id-mapped mounts appear only once their applier
exists). Pure: the appliers are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

HOOKS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
NAMESPACES = ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"]
OPERATORS = [
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_LE",
    "SCMP_CMP_LT",
    "SCMP_CMP_MASKED_EQ",
    "SCMP_CMP_NE",
]
SECCOMP_FLAGS = [
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
]


def mount_options(appliers: set[str]) -> list[str]:
    from ocitool.lower.mount_options import FLAG_OPTIONS, PROPAGATION_OPTIONS, RECURSIVE_OPTIONS

    names = set(FLAG_OPTIONS) | set(PROPAGATION_OPTIONS) | set(RECURSIVE_OPTIONS)
    if "mount_copyup" in appliers:
        names.add("tmpcopyup")
    if "bind_mount_idmapped" in appliers:
        names |= {"idmap", "ridmap"}
    return sorted(names)


def features(appliers: Iterable[str], version: str) -> dict[str, Any]:
    from ocitool.capabilities import CAPABILITIES
    from ocitool.seccomp.actions import _BASE as ACTIONS
    from ocitool.seccomp.arch import OCI_ARCH_NAMES

    have = set(appliers)
    idmap = "bind_mount_idmapped" in have
    return {
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.3.0",
        "hooks": list(HOOKS) if "hook" in have else [],
        "mountOptions": mount_options(have),
        "linux": {
            "namespaces": list(NAMESPACES),
            "capabilities": list(CAPABILITIES),
            "cgroup": {
                "v1": True,
                "v2": True,
                "systemd": False,
                "systemdUser": False,
                "rdma": False,
            },
            "seccomp": {
                "enabled": "seccomp_load" in have,
                "actions": sorted(ACTIONS),
                "operators": list(OPERATORS),
                "archs": sorted(OCI_ARCH_NAMES),
                "knownFlags": list(SECCOMP_FLAGS),
                "supportedFlags": list(SECCOMP_FLAGS),
            },
            "apparmor": {"enabled": False},
            "selinux": {"enabled": False},
            "intelRdt": {"enabled": False},
            "mountExtensions": {"idmap": {"enabled": idmap}},
        },
        "annotations": {"io.github.ocitool.version": version},
    }
