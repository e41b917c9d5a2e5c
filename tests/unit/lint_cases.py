# mypy: disable-error-code="func-returns-value"
# (a near miss may be a tuple of patches, each called for its effect)
"""Per-rule lint cases: a config that triggers each rule and a near miss that must not.

Every case starts from the hardened fixture (tests/fixtures/hardened.json),
which lints without a single warning, and changes only what the rule is about.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ocitool.capabilities import CAPABILITIES
from ocitool.lint.host import HostFacts

HARDENED_PATH = Path(__file__).resolve().parents[1] / "fixtures" / "hardened.json"
HARDENED: dict[str, Any] = json.loads(HARDENED_PATH.read_text())

Patch = Callable[[dict[str, Any]], object]


def hardened() -> dict[str, Any]:
    return copy.deepcopy(HARDENED)


def setp(cfg: dict[str, Any], pointer: str, value: Any) -> None:
    """Set ``pointer`` (creating objects on the way; '-' appends to a list)."""
    parts = pointer.lstrip("/").split("/")
    node: Any = cfg
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    last = parts[-1]
    if isinstance(node, list):
        if last == "-":
            node.append(value)
        else:
            node[int(last)] = value
    else:
        node[last] = value


def delp(cfg: dict[str, Any], pointer: str) -> None:
    parts = pointer.lstrip("/").split("/")
    node: Any = cfg
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        del node[int(parts[-1])]
    else:
        del node[parts[-1]]


def addcap(
    cfg: dict[str, Any], *caps: str, sets: tuple[str, ...] = ("bounding", "effective", "permitted")
) -> None:
    for s in sets:
        cfg["process"]["capabilities"].setdefault(s, []).extend(caps)


def drop_ns(cfg: dict[str, Any], *kinds: str) -> None:
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] not in kinds]
    if "user" in kinds:
        cfg["linux"].pop("uidMappings", None)
        cfg["linux"].pop("gidMappings", None)


def ns_path(cfg: dict[str, Any], kind: str, path: str) -> None:
    for n in cfg["linux"]["namespaces"]:
        if n["type"] == kind:
            n["path"] = path


def mount(cfg: dict[str, Any], **m: Any) -> None:
    cfg["mounts"].append(m)


def bind(src: str, dst: str, *opts: str) -> dict[str, Any]:
    return {"destination": dst, "type": "bind", "source": src, "options": ["rbind", *opts]}


def seccomp_add(cfg: dict[str, Any], rule: dict[str, Any]) -> None:
    cfg["linux"]["seccomp"]["syscalls"].append(rule)


def remove_from(cfg: dict[str, Any], key: str, value: str) -> None:
    cfg["linux"][key] = [p for p in cfg["linux"][key] if p != value]


DOCKER_CAPS = [
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
]  # fmt: skip


def root_no_userns(cfg: dict[str, Any], caps: list[str]) -> None:
    drop_ns(cfg, "user")
    cfg["process"]["user"] = {"uid": 0, "gid": 0}
    for s in ("bounding", "effective", "permitted"):
        cfg["process"]["capabilities"][s] = list(caps)


def _all(*fns: Patch) -> Patch:
    def apply(cfg: dict[str, Any]) -> None:
        for fn in fns:
            fn(cfg)

    return apply


def _noop(cfg: dict[str, Any]) -> None:
    return None


def ALL_CAPS_PATCH(c: dict[str, Any]) -> None:  # noqa: N802 - a constant-like patch
    addcap(c, *CAPABILITIES)


_CORE = ["kexec_load", "init_module", "finit_module", "delete_module", "bpf", "open_by_handle_at"]

# code -> (patch that triggers it, near-miss patch that must not, host facts or None)
CASES: dict[str, tuple[Patch, Patch, HostFacts | None]] = {
    # capabilities
    "OCS201": (ALL_CAPS_PATCH, lambda c: addcap(c, *DOCKER_CAPS), None),
    "OCS202": (
        lambda c: addcap(c, "CAP_SYS_ADMIN"),
        # only in bounding, and no_new_privs is set: it cannot be gained
        lambda c: addcap(c, "CAP_SYS_ADMIN", sets=("bounding",)),
        None,
    ),
    "OCS203": (lambda c: addcap(c, "CAP_SYS_MODULE"), ALL_CAPS_PATCH, None),  # privileged covers it
    "OCS204": (
        lambda c: (
            addcap(c, "CAP_SYS_PTRACE", sets=("bounding",)),
            setp(c, "/process/noNewPrivileges", False),
        ),
        lambda c: addcap(c, "CAP_SYS_PTRACE", sets=("bounding",)),
        None,
    ),
    "OCS205": (
        lambda c: addcap(c, "CAP_NET_ADMIN", sets=("ambient", "inheritable", "permitted")),
        _noop,
        None,
    ),
    "OCS206": (lambda c: addcap(c, "cap_dac_read_search"), _noop, None),
    "OCS207": (lambda c: addcap(c, "SYS_RAWIO"), _noop, None),
    "OCS208": (lambda c: addcap(c, "CAP_BPF"), lambda c: addcap(c, "CAP_PERFMON"), None),
    "OCS209": (lambda c: delp(c, "/process/capabilities"), _noop, None),
    "OCR112": (
        lambda c: setp(c, "/process/capabilities/ambient", ["CAP_KILL"]),
        lambda c: (
            setp(c, "/process/capabilities/ambient", ["CAP_KILL"]),
            setp(c, "/process/capabilities/inheritable", ["CAP_KILL"]),
        ),
        None,
    ),
    "OCR113": (
        lambda c: addcap(c, "CAP_CHOWN", sets=("ambient", "inheritable")),
        lambda c: addcap(c, "CAP_KILL", sets=("ambient", "inheritable")),
        None,
    ),
    "OCR114": (
        lambda c: addcap(c, "CAP_CHOWN", sets=("effective",)),
        lambda c: addcap(c, "CAP_CHOWN", sets=("permitted",)),
        None,
    ),
    "OCR115": (
        lambda c: addcap(c, "CAP_FOO", sets=("bounding",)),
        lambda c: addcap(c, "net_raw", sets=("bounding",)),
        None,
    ),
    "OCP309": (
        lambda c: addcap(c, "CAP_PERFMON", sets=("bounding",)),
        lambda c: addcap(c, "CAP_CHOWN"),
        None,
    ),
    # seccomp
    "OCS210": (lambda c: delp(c, "/linux/seccomp"), _noop, None),
    "OCS211": (
        lambda c: setp(
            c,
            "/linux/seccomp",
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mount", "umount2"], "action": "SCMP_ACT_ERRNO"}],
            },
        ),
        lambda c: setp(
            c,
            "/linux/seccomp",
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": _CORE + ["mount"], "action": "SCMP_ACT_ERRNO"}],
            },
        ),
        None,
    ),
    "OCS212": (
        lambda c: seccomp_add(c, {"names": ["kexec_load"], "action": "SCMP_ACT_ALLOW"}),
        lambda c: seccomp_add(c, {"names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS"}),
        None,
    ),
    "OCR111": (
        lambda c: seccomp_add(c, {"names": ["opnat"], "action": "SCMP_ACT_ERRNO"}),
        # vm86 exists only on x86: fine in a profile shared across arches; mseal is newer than the tables
        lambda c: seccomp_add(c, {"names": ["vm86", "mseal"], "action": "SCMP_ACT_ERRNO"}),
        None,
    ),
    "OCR116": (
        lambda c: seccomp_add(c, {"names": ["read"], "action": "SCMP_ACT_ERRNO"}),
        lambda c: seccomp_add(
            c,
            {
                "names": ["read"],
                "action": "SCMP_ACT_ERRNO",
                "args": [{"index": 0, "value": 99, "op": "SCMP_CMP_EQ"}],
            },
        ),
        None,
    ),
    "OCR131": (
        lambda c: seccomp_add(c, {"names": ["mknod"], "action": "SCMP_ACT_NOTIFY"}),
        lambda c: (
            seccomp_add(c, {"names": ["mknod"], "action": "SCMP_ACT_NOTIFY"}),
            setp(c, "/linux/seccomp/listenerPath", "/run/agent.sock"),
        ),
        None,
    ),
    # namespaces
    "OCS220": (lambda c: drop_ns(c, "pid"), lambda c: ns_path(c, "pid", "/proc/4242/ns/pid"), None),
    "OCS221": (lambda c: drop_ns(c, "ipc"), _noop, None),
    "OCS222": (
        lambda c: ns_path(c, "network", "/proc/1/ns/net"),
        lambda c: ns_path(c, "network", "/var/run/netns/blue"),
        None,
    ),
    "OCS223": (
        lambda c: (drop_ns(c, "uts"), delp(c, "/hostname"), addcap(c, "CAP_SYS_ADMIN")),
        lambda c: (drop_ns(c, "uts"), delp(c, "/hostname")),
        None,
    ),
    "OCS224": (lambda c: drop_ns(c, "user"), _noop, None),
    "OCS225": (lambda c: drop_ns(c, "cgroup"), _noop, None),
    "OCS226": (lambda c: drop_ns(c, "mount"), _noop, None),
    "OCS227": (
        lambda c: setp(c, "/linux/uidMappings/0/hostID", 0),
        lambda c: setp(c, "/linux/uidMappings/0", {"containerID": 0, "hostID": 1, "size": 65536}),
        None,
    ),
    "OCR101": (
        lambda c: drop_ns(c, "uts"),
        lambda c: (drop_ns(c, "uts"), delp(c, "/hostname")),
        None,
    ),
    "OCR102": (
        lambda c: setp(
            c, "/linux/namespaces", [n for n in c["linux"]["namespaces"] if n["type"] != "user"]
        ),
        _noop,
        None,
    ),
    "OCR117": (lambda c: setp(c, "/linux/namespaces/-", {"type": "pid"}), _noop, None),
    "OCR129": (
        lambda c: delp(c, "/linux/gidMappings"),
        lambda c: (
            ns_path(c, "user", "/proc/4242/ns/user"),
            delp(c, "/linux/uidMappings"),
            delp(c, "/linux/gidMappings"),
        ),
        None,
    ),
    # mounts
    "OCS230": (
        lambda c: mount(c, **bind("/etc", "/host/etc")),
        lambda c: mount(c, **bind("/etc/ssl/certs", "/etc/ssl/certs", "ro")),
        None,
    ),
    "OCS231": (
        lambda c: mount(c, **bind("/var/run/docker.sock", "/var/run/docker.sock")),
        lambda c: mount(c, **bind("/srv/data", "/data", "ro")),
        None,
    ),
    "OCS232": (
        lambda c: (drop_ns(c, "user"), setp(c, "/mounts/5/options", ["nosuid", "noexec", "nodev"])),
        lambda c: setp(c, "/mounts/5/options", ["nosuid", "noexec", "nodev"]),  # user ns: fine
        None,
    ),
    "OCS233": (
        lambda c: (drop_ns(c, "user"), remove_from(c, "readonlyPaths", "/proc/sys")),
        lambda c: (
            drop_ns(c, "user"),
            remove_from(c, "readonlyPaths", "/proc/sys"),
            setp(c, "/linux/readonlyPaths/-", "/proc"),
        ),
        None,
    ),
    "OCS234": (
        lambda c: remove_from(c, "maskedPaths", "/proc/kcore"),
        lambda c: remove_from(c, "maskedPaths", "/proc/asound"),
        None,
    ),
    "OCS235": (
        lambda c: remove_from(c, "readonlyPaths", "/proc/sysrq-trigger"),
        lambda c: (
            remove_from(c, "readonlyPaths", "/proc/sysrq-trigger"),
            setp(c, "/linux/maskedPaths/-", "/proc/sysrq-trigger"),
        ),
        None,
    ),
    "OCS236": (
        lambda c: mount(c, **bind("/srv/data", "/data", "rshared")),
        # rootfsPropagation shared is a new peer group, not the host's
        lambda c: (
            setp(c, "/linux/rootfsPropagation", "shared"),
            mount(c, **bind("/srv/data", "/data", "rslave")),
        ),
        None,
    ),
    "OCS237": (
        lambda c: (drop_ns(c, "user", "cgroup"), setp(c, "/mounts/6/options", ["nosuid", "rw"])),
        lambda c: (
            drop_ns(c, "user", "cgroup"),
            setp(c, "/mounts/6/options", ["nosuid", "rw", "ro"]),
        ),
        None,
    ),
    "OCS238": (
        lambda c: (setp(c, "/root/readonly", False), mount(c, **bind("/srv/data", "/data"))),
        lambda c: (setp(c, "/root/readonly", False), mount(c, **bind("/srv/data", "/data", "ro"))),
        None,
    ),
    "OCS239": (lambda c: setp(c, "/root/readonly", False), _noop, None),
    "OCR108": (
        lambda c: mount(c, destination="/tmp/", type="tmpfs", source="tmpfs"),
        lambda c: mount(c, destination="/tmp/cache", type="tmpfs", source="tmpfs"),
        None,
    ),
    "OCR109": (
        lambda c: mount(c, destination="/proc/keys", type="tmpfs", source="tmpfs"),
        lambda c: mount(c, destination="/proc/keyring", type="tmpfs", source="tmpfs"),
        None,
    ),
    "OCR118": (lambda c: mount(c, destination="data", type="tmpfs", source="tmpfs"), _noop, None),
    "OCP311": (
        lambda c: mount(
            c,
            **bind("/srv/data", "/data", "ro"),
            uidMappings=[{"containerID": 0, "hostID": 100000, "size": 1}],
        ),
        lambda c: mount(c, **bind("/srv/data", "/data", "ro")),
        None,
    ),
    # devices
    "OCS240": (
        lambda c: setp(c, "/linux/resources/devices/-", {"allow": True, "access": "rwm"}),
        lambda c: setp(
            c,
            "/linux/resources/devices/-",
            {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        ),
        None,
    ),
    "OCS241": (
        lambda c: setp(
            c, "/linux/devices", [{"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}]
        ),
        lambda c: setp(
            c, "/linux/devices", [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]
        ),
        None,
    ),
    "OCS242": (
        lambda c: setp(
            c, "/linux/devices", [{"path": "/dev/xmem", "type": "c", "major": 1, "minor": 1}]
        ),
        lambda c: setp(
            c, "/linux/devices", [{"path": "/dev/null", "type": "c", "major": 1, "minor": 3}]
        ),
        None,
    ),
    # process
    "OCS250": (lambda c: setp(c, "/process/noNewPrivileges", False), _noop, None),
    "OCS251": (
        lambda c: root_no_userns(
            c, DOCKER_CAPS + ["CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_IPC_LOCK"]
        ),
        lambda c: root_no_userns(c, DOCKER_CAPS),
        None,
    ),
    "OCS252": (
        lambda c: setp(c, "/process/apparmorProfile", "unconfined"),
        lambda c: setp(c, "/process/apparmorProfile", "docker-default"),
        None,
    ),
    "OCS253": (
        _noop,
        lambda c: setp(c, "/process/selinuxLabel", "system_u:system_r:container_t:s0"),
        None,
    ),
    "OCR107": (
        lambda c: setp(
            c, "/process/rlimits/0", {"type": "RLIMIT_NOFILE", "soft": 4096, "hard": 1024}
        ),
        lambda c: setp(
            c, "/process/rlimits/0", {"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096}
        ),
        None,
    ),
    "OCR124": (
        lambda c: setp(c, "/process/rlimits/-", {"type": "RLIMIT_NOFILE", "soft": 1, "hard": 1}),
        lambda c: setp(c, "/process/rlimits/-", {"type": "RLIMIT_NPROC", "soft": 1, "hard": 1}),
        None,
    ),
    "OCR120": (
        lambda c: setp(c, "/process/cwd", "tmp"),
        lambda c: setp(c, "/process/cwd", "/tmp"),
        None,
    ),
    "OCR121": (lambda c: setp(c, "/process/args", []), _noop, None),
    "OCR122": (
        lambda c: setp(c, "/process/env/-", "DEBUG"),
        lambda c: setp(c, "/process/env/-", "DEBUG="),
        None,
    ),
    "OCR123": (
        lambda c: setp(c, "/process/oomScoreAdj", 1001),
        lambda c: setp(c, "/process/oomScoreAdj", -1000),
        None,
    ),
    # sysctl
    "OCS260": (
        lambda c: setp(c, "/linux/sysctl", {"vm.overcommit_memory": "1"}),
        lambda c: setp(c, "/linux/sysctl", {"net.ipv4.ip_forward": "1", "kernel/shmmax": "1"}),
        None,
    ),
    "OCS261": (
        lambda c: (drop_ns(c, "network"), setp(c, "/linux/sysctl", {"net.ipv4.ip_forward": "1"})),
        lambda c: setp(c, "/linux/sysctl", {"net.ipv4.ip_forward": "1"}),
        None,
    ),
    # resources
    "OCR103": (
        lambda c: setp(c, "/linux/resources/cpu/quota", 500),
        lambda c: setp(c, "/linux/resources/cpu/quota", 1000),
        None,
    ),
    "OCR104": (
        lambda c: setp(c, "/linux/resources/cpu/period", 999),
        lambda c: setp(c, "/linux/resources/cpu/period", 1_000_000),
        None,
    ),
    "OCR105": (
        lambda c: setp(c, "/linux/resources/memory/swap", 1024),
        lambda c: setp(c, "/linux/resources/memory/swap", -1),
        None,
    ),
    "OCR106": (
        lambda c: setp(c, "/linux/resources/cpu/shares", 0),
        lambda c: setp(c, "/linux/resources/cpu/shares", 2),
        None,
    ),
    "OCR125": (
        lambda c: setp(c, "/linux/resources/memory/reservation", 2**40),
        lambda c: setp(c, "/linux/resources/memory/reservation", 2**20),
        None,
    ),
    "OCR126": (
        lambda c: setp(c, "/linux/resources/blockIO", {"weight": 5}),
        lambda c: setp(c, "/linux/resources/blockIO", {"weight": 10}),
        None,
    ),
    "OCR127": (
        lambda c: setp(c, "/linux/resources/cpu/cpus", "3-1"),
        lambda c: setp(c, "/linux/resources/cpu/cpus", "0-3,6"),
        None,
    ),
    "OCS254": (
        lambda c: delp(c, "/linux/resources/pids"),
        lambda c: setp(c, "/linux/resources/pids/limit", 1),
        None,
    ),
    "OCS255": (lambda c: delp(c, "/linux/resources/memory"), _noop, None),
    # hooks
    "OCR110": (
        lambda c: setp(c, "/hooks", {"createRuntime": [{"path": "bin/netns-hook"}]}),
        lambda c: setp(c, "/hooks", {"createRuntime": [{"path": "/usr/bin/netns-hook"}]}),
        None,
    ),
    "OCR128": (
        lambda c: setp(c, "/hooks", {"poststop": [{"path": "/bin/true", "timeout": 0}]}),
        lambda c: setp(c, "/hooks", {"poststop": [{"path": "/bin/true", "timeout": 5}]}),
        None,
    ),
    "OCP313": (
        lambda c: setp(c, "/hooks", {"prestart": [{"path": "/bin/true"}]}),
        lambda c: setp(c, "/hooks", {"createRuntime": [{"path": "/bin/true"}]}),
        None,
    ),
    # portability
    "OCP301": (lambda c: setp(c, "/linux/intelRdt", {"closID": "guaranteed"}), _noop, None),
    "OCP302": (
        lambda c: setp(c, "/linux/resources/rdma", {"mlx5_1": {"hcaHandles": 3}}),
        _noop,
        None,
    ),
    "OCP303": (
        lambda c: setp(c, "/linux/resources/memory/kernel", 2**26),
        lambda c: setp(c, "/linux/resources/memory/kernelTCP", -1),  # the spec's own example
        None,
    ),
    "OCP304": (lambda c: setp(c, "/linux/resources/memory/swappiness", 0), _noop, None),
    "OCP305": (
        lambda c: setp(c, "/linux/resources/network", {"classID": 1048577}),
        lambda c: setp(c, "/linux/resources/network", {"priorities": []}),
        None,
    ),
    "OCP306": (lambda c: setp(c, "/linux/resources/cpu/realtimeRuntime", 950000), _noop, None),
    "OCP307": (
        lambda c: setp(
            c,
            "/linux/resources/blockIO",
            {"weightDevice": [{"major": 8, "minor": 0, "leafWeight": 10}]},
        ),
        lambda c: setp(
            c,
            "/linux/resources/blockIO",
            {"weightDevice": [{"major": 8, "minor": 0, "weight": 10}]},
        ),
        None,
    ),
    "OCP308": (lambda c: setp(c, "/linux/resources/unified", {"memory.high": "400M"}), _noop, None),
    "OCP310": (
        lambda c: setp(c, "/linux/namespaces/-", {"type": "time"}),
        _noop,
        None,
    ),
    "OCP312": (
        lambda c: setp(c, "/process/ioPriority", {"class": "IOPRIO_CLASS_IDLE"}),
        _noop,
        None,
    ),
}

_AA = lambda c: setp(c, "/process/apparmorProfile", "ocitool-default")  # noqa: E731
_SE = lambda c: setp(c, "/process/selinuxLabel", "system_u:system_r:container_t:s0")  # noqa: E731
_KMEM = lambda c: setp(c, "/linux/resources/memory/kernel", 2**26)  # noqa: E731
_RDT = lambda c: setp(c, "/linux/intelRdt", {"closID": "guaranteed"})  # noqa: E731
ALL_CONTROLLERS = frozenset({"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma"})

# host-specific rules: (patch, host that triggers, host that does not)
HOST_CASES: dict[str, tuple[Patch, HostFacts, HostFacts]] = {
    "OCP350": (_AA, HostFacts(apparmor=False), HostFacts(apparmor=True)),
    "OCP351": (_SE, HostFacts(selinux=False), HostFacts(selinux=True)),
    "OCP352": (_KMEM, HostFacts(cgroup_mode="v2"), HostFacts(cgroup_mode="v1")),
    "OCP353": (
        _noop,
        HostFacts(cgroup_mode="v2", controllers=ALL_CONTROLLERS - {"pids"}),
        HostFacts(cgroup_mode="v2", controllers=ALL_CONTROLLERS),
    ),
    "OCP354": (_RDT, HostFacts(resctrl=False), HostFacts(resctrl=True)),
    "OCP355": (_noop, HostFacts(max_user_namespaces=0), HostFacts(max_user_namespaces=15000)),
}

__all__ = ["CASES", "HARDENED", "HOST_CASES", "_all", "hardened"]
