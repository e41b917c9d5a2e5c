"""Frozen, typed model of an OCI runtime-spec 1.3 ``config.json``.

Why a model: lowering and lint should read ``spec.process.user.uid``, not
``doc["process"]["user"]["uid"]`` with a ``get`` at every level. Every node
keeps the JSON pointer it was built from (``pointer``), so each op and each
diagnostic can say which config value caused it. Absent members are ``None``
(or an empty tuple for lists that the spec defines as "may be empty");
sequences are tuples and maps are read-only mappings, so a Spec cannot be
changed by a consumer by accident.

Field names are the spec's names in snake_case. Nodes are built by
:func:`ocitool.spec.build.build_spec`.
"""

from __future__ import annotations

from types import MappingProxyType

from ocitool.records import Record
from ocitool.spec.load import join_pointer
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

EMPTY_MAP: Mapping[str, Any] = MappingProxyType({})


class Node(Record):
    """Base of every model node: where in the document it came from."""

    pointer: str

    def at(self, *tokens: str | int) -> str:
        """JSON pointer of a member (or member path) of this node, e.g. ``at("oomScoreAdj")``."""
        ptr = self.pointer
        for token in tokens:
            ptr = join_pointer(ptr, token)
        return ptr


# --------------------------------------------------------------------------- process


class ConsoleSize(Node):
    height: int
    width: int


class User(Node):
    uid: int
    gid: int
    umask: int | None = None
    additional_gids: tuple[int, ...] = ()
    username: str | None = None  # Windows only; kept for completeness


class Capabilities(Node):
    """The five sets as given (names); ``None`` means the set is absent (empty)."""

    bounding: tuple[str, ...] | None = None
    effective: tuple[str, ...] | None = None
    inheritable: tuple[str, ...] | None = None
    permitted: tuple[str, ...] | None = None
    ambient: tuple[str, ...] | None = None


class Rlimit(Node):
    type: str
    soft: int
    hard: int


class IOPriority(Node):
    klass: str  # spec member "class"
    priority: int


class Scheduler(Node):
    policy: str
    nice: int | None = None
    priority: int | None = None
    flags: tuple[str, ...] = ()
    runtime: int | None = None
    deadline: int | None = None
    period: int | None = None


class ExecCPUAffinity(Node):
    initial: str | None = None
    final: str | None = None


class Process(Node):
    terminal: bool = False
    console_size: ConsoleSize | None = None
    user: User
    args: tuple[str, ...] = ()
    command_line: str | None = None  # Windows only
    env: tuple[str, ...] = ()
    cwd: str
    capabilities: Capabilities | None = None
    rlimits: tuple[Rlimit, ...] = ()
    no_new_privileges: bool = False
    apparmor_profile: str | None = None
    oom_score_adj: int | None = None
    selinux_label: str | None = None
    io_priority: IOPriority | None = None
    scheduler: Scheduler | None = None
    exec_cpu_affinity: ExecCPUAffinity | None = None


# --------------------------------------------------------------------------- root, mounts


class Root(Node):
    path: str
    readonly: bool = False


class IDMapping(Node):
    container_id: int
    host_id: int
    size: int


class Mount(Node):
    destination: str
    source: str | None = None
    type: str | None = None
    options: tuple[str, ...] = ()
    uid_mappings: tuple[IDMapping, ...] = ()
    gid_mappings: tuple[IDMapping, ...] = ()


# --------------------------------------------------------------------------- hooks


class Hook(Node):
    path: str
    args: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    timeout: int | None = None


class Hooks(Node):
    prestart: tuple[Hook, ...] = ()  # deprecated by the spec, still run (runc does)
    create_runtime: tuple[Hook, ...] = ()
    create_container: tuple[Hook, ...] = ()
    start_container: tuple[Hook, ...] = ()
    poststart: tuple[Hook, ...] = ()
    poststop: tuple[Hook, ...] = ()

    def of_kind(self, kind: str) -> tuple[Hook, ...]:
        """Hooks of a spec kind name (``createRuntime`` ...)."""
        attr = {
            "prestart": "prestart",
            "createRuntime": "create_runtime",
            "createContainer": "create_container",
            "startContainer": "start_container",
            "poststart": "poststart",
            "poststop": "poststop",
        }[kind]
        hooks: tuple[Hook, ...] = getattr(self, attr)
        return hooks


# --------------------------------------------------------------------------- linux


class Namespace(Node):
    type: str
    path: str | None = None


class TimeOffset(Node):
    clock: str  # "monotonic" or "boottime" (the map key)
    secs: int = 0
    nanosecs: int = 0


class Device(Node):
    type: str
    path: str
    major: int | None = None
    minor: int | None = None
    file_mode: int | None = None
    uid: int | None = None
    gid: int | None = None


class DeviceRule(Node):
    """One ``linux.resources.devices`` entry (cgroup device allow/deny)."""

    allow: bool
    type: str | None = None  # a, b or c; None means all
    major: int | None = None
    minor: int | None = None
    access: str | None = None


class Memory(Node):
    limit: int | None = None
    reservation: int | None = None
    swap: int | None = None
    kernel: int | None = None
    kernel_tcp: int | None = None
    swappiness: int | None = None
    disable_oom_killer: bool | None = None
    use_hierarchy: bool | None = None
    check_before_update: bool | None = None


class CPU(Node):
    shares: int | None = None
    quota: int | None = None
    burst: int | None = None
    period: int | None = None
    realtime_runtime: int | None = None
    realtime_period: int | None = None
    cpus: str | None = None
    mems: str | None = None
    idle: int | None = None


class WeightDevice(Node):
    major: int
    minor: int
    weight: int | None = None
    leaf_weight: int | None = None


class ThrottleDevice(Node):
    major: int
    minor: int
    rate: int


class BlockIO(Node):
    weight: int | None = None
    leaf_weight: int | None = None
    weight_device: tuple[WeightDevice, ...] = ()
    throttle_read_bps_device: tuple[ThrottleDevice, ...] = ()
    throttle_write_bps_device: tuple[ThrottleDevice, ...] = ()
    throttle_read_iops_device: tuple[ThrottleDevice, ...] = ()
    throttle_write_iops_device: tuple[ThrottleDevice, ...] = ()


class HugepageLimit(Node):
    page_size: str
    limit: int


class InterfacePriority(Node):
    name: str
    priority: int


class Network(Node):
    class_id: int | None = None
    priorities: tuple[InterfacePriority, ...] = ()


class Pids(Node):
    limit: int | None = None


class Rdma(Node):
    device: str  # the map key
    hca_handles: int | None = None
    hca_objects: int | None = None


class Resources(Node):
    devices: tuple[DeviceRule, ...] = ()
    memory: Memory | None = None
    cpu: CPU | None = None
    block_io: BlockIO | None = None
    hugepage_limits: tuple[HugepageLimit, ...] = ()
    network: Network | None = None
    pids: Pids | None = None
    rdma: tuple[Rdma, ...] = ()
    unified: Mapping[str, str] = EMPTY_MAP


class SeccompArg(Node):
    index: int
    value: int
    value_two: int | None = None
    op: str


class SeccompSyscall(Node):
    names: tuple[str, ...]
    action: str
    errno_ret: int | None = None
    args: tuple[SeccompArg, ...] = ()


class Seccomp(Node):
    """Typed view of ``linux.seccomp``; ``raw`` is the original object (the compiler takes it)."""

    default_action: str
    default_errno_ret: int | None = None
    architectures: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    listener_path: str | None = None
    listener_metadata: str | None = None
    syscalls: tuple[SeccompSyscall, ...] = ()
    raw: Mapping[str, Any] = EMPTY_MAP


class IntelRdt(Node):
    clos_id: str | None = None
    l3_cache_schema: str | None = None
    mem_bw_schema: str | None = None
    schemata: tuple[str, ...] = ()
    enable_monitoring: bool | None = None
    enable_cmt: bool | None = None  # pre-1.3 spelling
    enable_mbm: bool | None = None  # pre-1.3 spelling


class Personality(Node):
    domain: str
    flags: tuple[str, ...] = ()


class NetDevice(Node):
    host_name: str  # the map key: the interface name on the host
    name: str | None = None  # the name inside the container (default: same)


class MemoryPolicy(Node):
    mode: str
    nodes: str | None = None
    flags: tuple[str, ...] = ()


class Linux(Node):
    namespaces: tuple[Namespace, ...] = ()
    uid_mappings: tuple[IDMapping, ...] = ()
    gid_mappings: tuple[IDMapping, ...] = ()
    time_offsets: tuple[TimeOffset, ...] = ()
    devices: tuple[Device, ...] = ()
    net_devices: tuple[NetDevice, ...] = ()
    cgroups_path: str | None = None
    resources: Resources | None = None
    intel_rdt: IntelRdt | None = None
    sysctl: Mapping[str, str] = EMPTY_MAP
    seccomp: Seccomp | None = None
    rootfs_propagation: str | None = None
    masked_paths: tuple[str, ...] = ()
    readonly_paths: tuple[str, ...] = ()
    mount_label: str | None = None
    personality: Personality | None = None
    memory_policy: MemoryPolicy | None = None

    def namespace(self, ns_type: str) -> Namespace | None:
        """The namespace entry of ``ns_type`` ("user", "pid", ...), if listed."""
        for ns in self.namespaces:
            if ns.type == ns_type:
                return ns
        return None


# --------------------------------------------------------------------------- spec


class Spec(Node):
    oci_version: str
    process: Process | None = None
    root: Root | None = None
    hostname: str | None = None
    domainname: str | None = None
    mounts: tuple[Mount, ...] = ()
    hooks: Hooks | None = None
    annotations: Mapping[str, str] = EMPTY_MAP
    linux: Linux | None = None
    # Other platforms' sections are not modelled; kept raw so nothing is lost.
    other_platforms: Mapping[str, Any] = EMPTY_MAP

    def has_namespace(self, ns_type: str) -> bool:
        return self.linux is not None and self.linux.namespace(ns_type) is not None
