"""features.json (runtime-spec 1.3 features.md) for what ocitool-runc really supports.

Built from the tables the code itself uses -- the mount option table of the
lowering, the seccomp compiler's actions/operators/architectures, the
capability list, the memory policy tables, the executor's op appliers -- so
it cannot claim a feature the executor lacks. Pure: the appliers are passed in.

Like runc's, the document says what the runtime implements, not what this
host has (features.md: "irrelevant to the availability ... on the host"):
AppArmor, SELinux, Intel RDT and the rdma controller are true because the
lowering emits their ops; a host without them gets a coded error at
``create``. Each field is cross-checked against a real container in
tests/integration/test_runc_features.py.

Id-mapped mounts (``mountExtensions.idmap``, ``idmap``, ``ridmap``) are listed
only with both halves of their appliers: inside a container user namespace the
runtime makes the id-mapped tree (``idmap_tree``) and the init moves it
(``bind_mount_idmapped``). No ``config.json`` annotation changes ocitool's
behaviour, hence the empty ``potentiallyUnsafeConfigAnnotations``.
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
    if {"bind_mount_idmapped", "idmap_tree"} <= appliers:
        names |= {"idmap", "ridmap"}
    return sorted(names)


def features(appliers: Iterable[str], version: str) -> dict[str, Any]:
    from ocitool.capabilities import CAPABILITIES
    from ocitool.lower.process import MPOL_FLAGS
    from ocitool.seccomp.actions import _BASE as ACTIONS
    from ocitool.seccomp.arch import OCI_ARCH_NAMES
    from ocitool.spec.facts import MPOL_MODES

    have = set(appliers)
    lsm = "lsm_label" in have
    rdt = {"cgroup_mkdir", "cgroup_write", "cgroup_join"} <= have
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
                "systemd": "systemd_start_unit" in have,
                "systemdUser": False,
                "rdma": "cgroup_write" in have,
            },
            "seccomp": {
                "enabled": "seccomp_load" in have,
                "actions": sorted(ACTIONS),
                "operators": list(OPERATORS),
                "archs": sorted(OCI_ARCH_NAMES),
                "knownFlags": list(SECCOMP_FLAGS),
                "supportedFlags": list(SECCOMP_FLAGS),
            },
            "apparmor": {"enabled": lsm},
            "selinux": {"enabled": lsm},
            "memoryPolicy": {
                "modes": list(MPOL_MODES) if "set_mempolicy" in have else [],
                "flags": list(MPOL_FLAGS) if "set_mempolicy" in have else [],
            },
            "intelRdt": {"enabled": rdt, "schemata": rdt, "monitoring": rdt},
            "mountExtensions": {
                "idmap": {"enabled": {"bind_mount_idmapped", "idmap_tree"} <= have}
            },
            "netDevices": {"enabled": "netdev_move" in have},
        },
        "annotations": {"io.github.ocitool.version": version},
        "potentiallyUnsafeConfigAnnotations": [],
    }
