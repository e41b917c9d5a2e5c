"""HostInfo: everything lowering needs to know about the machine, as a value.

It lives outside :mod:`ocitool.lower` (which re-exports it as ``ocitool.lower.host``)
because the plan cache keys its entries on ``HostInfo.detect()``: a cache hit must
not import the lowering.

Lowering is pure (DESIGN.md rule 1): it never looks at the machine. What
differs between machines (cgroup layout, architecture, kernel, capabilities,
namespaces, LSMs) is passed in as a :class:`HostInfo`. ``detect()`` reads the
real host; the presets and ``parse_overrides`` make ``ocitool plan --host
cgroup=v1,arch=aarch64`` (and the tests) deterministic on any machine.
"""

from __future__ import annotations

import os

from ocitool.capabilities import LAST_KNOWN_CAP
from ocitool.kernel import ARCH_ALIASES
from ocitool.records import Record, replace
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from types import MappingProxyType
    from typing import Any

    from ocitool.errors import UsageError
    from ocitool.plan.ops.base import JSON
else:
    MappingProxyType = type(type.__dict__)  # types.MappingProxyType, without importing types

CGROUP_ROOT = "/sys/fs/cgroup"
RESCTRL_ROOT = "/sys/fs/resctrl"

ALL_NAMESPACES: tuple[str, ...] = (
    "mount",
    "uts",
    "ipc",
    "user",
    "pid",
    "network",
    "cgroup",
    "time",
)

V1_CONTROLLERS: tuple[str, ...] = (
    "blkio",
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "freezer",
    "hugetlb",
    "memory",
    "net_cls",
    "net_prio",
    "perf_event",
    "pids",
    "rdma",
)
V2_CONTROLLERS: tuple[str, ...] = (
    "cpuset",
    "cpu",
    "io",
    "memory",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
)


def _v1_mounts() -> dict[str, str]:
    """Controller -> mountpoint as systemd lays out v1 (cpu,cpuacct and net_cls,net_prio co-mounted)."""
    joined = {
        "cpu": "cpu,cpuacct",
        "cpuacct": "cpu,cpuacct",
        "net_cls": "net_cls,net_prio",
        "net_prio": "net_cls,net_prio",
    }
    return {c: f"{CGROUP_ROOT}/{joined.get(c, c)}" for c in V1_CONTROLLERS}


_NO_MOUNTS: Mapping[str, str] = MappingProxyType({})


class HostInfo(Record):
    """Facts about one machine. ``cgroup_mounts`` maps each v1 controller (and named
    hierarchy, ``name=systemd``) to its mountpoint;
    ``unified_mount`` is where cgroup2 is mounted (v2: the root; hybrid: ``/unified``, with no
    controllers); ``unified_controllers`` are the controllers cgroup2 offers."""

    cgroup: str = "v2"  # "v1", "v2" or "hybrid"
    cgroup_mounts: Mapping[str, str] = _NO_MOUNTS
    unified_mount: str | None = CGROUP_ROOT
    unified_controllers: tuple[str, ...] = V2_CONTROLLERS
    arch: str = "x86_64"
    kernel: tuple[int, int, int] = (6, 1, 0)
    last_cap: int = LAST_KNOWN_CAP
    namespaces: tuple[str, ...] = ALL_NAMESPACES
    lsms: tuple[str, ...] = ("capability",)
    euid: int = 0  # the runtime's effective uid: non-zero means rootless
    resctrl: str | None = None  # where the resctrl fs (Intel RDT / ARM MPAM) is mounted
    kcore: bool = True  # /proc/kcore exists (CONFIG_PROC_KCORE): runc then adds /dev/core
    systemd: bool = False  # systemd is the init (/run/systemd/system): --systemd-cgroup can work
    detected: bool = False

    # ------------------------------------------------------------------ presets

    @classmethod
    def preset(cls, mode: str = "v2", arch: str = "x86_64") -> HostInfo:
        """A fixed, typical host (Debian 12-like kernel 6.1) in cgroup ``mode``."""
        arch = normalize_arch(arch)
        # Intel RDT is an x86 feature; resctrl for ARM MPAM is not in the 6.1 kernel.
        resctrl = RESCTRL_ROOT if arch in ("x86_64", "x86") else None
        if mode == "v2":
            return cls(cgroup="v2", arch=arch, resctrl=resctrl)
        if mode == "v1":
            return cls(
                cgroup="v1",
                cgroup_mounts=MappingProxyType(_v1_mounts()),
                unified_mount=None,
                unified_controllers=(),
                arch=arch,
                resctrl=resctrl,
            )
        if mode == "hybrid":
            return cls(
                cgroup="hybrid",
                cgroup_mounts=MappingProxyType(_v1_mounts()),
                unified_mount=f"{CGROUP_ROOT}/unified",
                unified_controllers=(),
                arch=arch,
                resctrl=resctrl,
            )
        raise _usage_error(
            message=f"unknown cgroup mode {mode!r}",
            code="OCI011",
            expected="v1, v2 or hybrid",
            hint="use --host cgroup=v1|v2|hybrid",
        )

    # ------------------------------------------------------------------ overrides

    @classmethod
    def parse_overrides(cls, text: str, base: HostInfo | None = None) -> HostInfo:
        """Apply ``k=v,k=v`` overrides. Without ``base``, start from the preset for the
        given (or default v2) cgroup mode, so the result does not depend on this machine.

        Keys: cgroup (v1|v2|hybrid), arch, kernel (6.1 or 6.1.0), last_cap (int),
        namespaces (``+``-separated names, or ``all``), lsms (``+``-separated, or ``none``),
        controllers (``+``-separated v2 controllers), euid (int), rootless (1/0: euid 1000/0),
        resctrl (a mountpoint, 1 for /sys/fs/resctrl, or none), kcore (1/0: /proc/kcore
        exists).
        """
        pairs: list[tuple[str, str]] = []
        for item in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise _usage_error(
                    message=f"--host: {item!r} is not KEY=VALUE",
                    code="OCI011",
                    hint="e.g. --host cgroup=v2,arch=aarch64,kernel=6.1",
                )
            pairs.append((key.strip().replace("-", "_"), value.strip()))
        mode = next((v for k, v in pairs if k == "cgroup"), None)
        arch = next((v for k, v in pairs if k == "arch"), None)
        host = base if base is not None else cls.preset(mode or "v2", arch or "x86_64")
        if base is not None and mode is not None and mode != base.cgroup:
            preset = cls.preset(mode, base.arch)
            host = replace(
                host,
                cgroup=preset.cgroup,
                cgroup_mounts=preset.cgroup_mounts,
                unified_mount=preset.unified_mount,
                unified_controllers=preset.unified_controllers,
            )
        for key, value in pairs:
            host = _apply(host, key, value)
        return host

    # ------------------------------------------------------------------ detection

    @classmethod
    def detect(cls, root: str = "/") -> HostInfo:
        """Read this machine's facts (the one place in lowering allowed to touch files)."""
        return _detect(cls, root)

    # ------------------------------------------------------------------ queries

    def has_namespace(self, ns_type: str) -> bool:
        return ns_type in self.namespaces

    def has_lsm(self, lsm: str) -> bool:
        return lsm in self.lsms

    def kernel_at_least(self, major: int, minor: int = 0) -> bool:
        return self.kernel[:2] >= (major, minor)

    def v1_mountpoint(self, controller: str) -> str | None:
        """Mountpoint of a v1 controller, or None (v2 host, or not mounted)."""
        return self.cgroup_mounts.get(controller)

    def to_json(self) -> dict[str, JSON]:
        return {
            "cgroup": self.cgroup,
            "cgroup_mounts": dict(sorted(self.cgroup_mounts.items())),
            "unified_mount": self.unified_mount,
            "unified_controllers": list(self.unified_controllers),
            "arch": self.arch,
            "kernel": ".".join(map(str, self.kernel)),
            "last_cap": self.last_cap,
            "namespaces": list(self.namespaces),
            "lsms": list(self.lsms),
            "euid": self.euid,
            "resctrl": self.resctrl,
            "kcore": self.kcore,
            "systemd": self.systemd,
        }

    def summary(self) -> str:
        k = ".".join(map(str, self.kernel))
        return (
            f"cgroup {self.cgroup}, {self.arch}, kernel {k}, last cap {self.last_cap}, "
            f"LSMs {'+'.join(self.lsms) or 'none'}"
        )


def _usage_error(**fields: Any) -> UsageError:
    """A UsageError (``ocitool.errors`` is imported only when there is one: ``detect()``
    is on the start path, the errors are for ``--host`` and the presets)."""
    from ocitool.errors import UsageError

    return UsageError(**fields)


def normalize_arch(arch: str) -> str:
    """Short arch name (x86_64, aarch64, ...) from uname or OCI (SCMP_ARCH_*) spelling."""
    name = arch.strip()
    if name.upper().startswith("SCMP_ARCH_"):
        name = name[len("SCMP_ARCH_") :].lower()
        name = {"x86_64": "x86_64", "aarch64": "aarch64", "ppc64le": "ppc64le"}.get(name, name)
    short = ARCH_ALIASES.get(name.lower())
    if short is None:
        raise _usage_error(
            message=f"unknown architecture {arch!r}",
            code="OCI011",
            expected=", ".join(sorted(set(ARCH_ALIASES.values()))),
        )
    return short


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(v for v in (p.strip() for p in value.replace(":", "+").split("+")) if v)


def _parse_kernel(value: str) -> tuple[int, int, int]:
    nums = []
    for part in value.split("-")[0].split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        nums.append(int(digits) if digits else 0)
    while len(nums) < 3:
        nums.append(0)
    return nums[0], nums[1], nums[2]


def _apply(host: HostInfo, key: str, value: str) -> HostInfo:
    bad = _usage_error(message=f"--host: bad value {value!r} for {key!r}", code="OCI011")

    def number(limit: int) -> int:
        """A decimal number in ASCII digits (``isdigit`` also takes '²' and '١') within limit."""
        if not value or not value.isascii() or not value.isdigit() or int(value) > limit:
            raise bad
        return int(value)

    if key == "cgroup":
        return host  # handled by parse_overrides (it needs the preset layout)
    if key == "arch":
        return replace(host, arch=normalize_arch(value))
    if key == "kernel":
        # MAJOR[.MINOR[.PATCH]], optionally followed by uname -r's "-..." / "+..." suffix
        end = next((i for i, ch in enumerate(value) if ch in "-+"), len(value))
        parts = value[:end].split(".")
        if not 1 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() for p in parts):
            raise _usage_error(
                message=f"--host: bad kernel version {value!r}",
                code="OCI011",
                expected="MAJOR[.MINOR[.PATCH]] in digits, e.g. 6.1 or 5.15.0",
            )
        return replace(host, kernel=_parse_kernel(value))
    if key in ("last_cap", "lastcap", "cap_last_cap"):
        return replace(host, last_cap=number(63))
    if key in ("namespaces", "ns"):
        names = ALL_NAMESPACES if value == "all" else _split_list(value)
        unknown = [n for n in names if n not in ALL_NAMESPACES]
        if unknown:
            raise _usage_error(
                message=f"--host: unknown namespace {unknown[0]!r}",
                code="OCI011",
                expected=", ".join(ALL_NAMESPACES),
            )
        return replace(host, namespaces=names)
    if key in ("lsms", "lsm"):
        lsms = () if value == "none" else _split_list(value)
        return replace(host, lsms=lsms)
    if key == "euid":
        return replace(host, euid=number(2**32 - 2))  # (uid_t)-1 means "no change"
    if key in ("rootless", "kcore", "systemd"):
        flag = value.lower()
        if flag not in ("1", "true", "yes", "0", "false", "no"):
            raise _usage_error(
                message=f"--host: bad value {value!r} for {key!r}",
                code="OCI011",
                expected="1/true/yes or 0/false/no",
            )
        on = flag in ("1", "true", "yes")
        if key == "kcore":
            return replace(host, kcore=on)
        if key == "systemd":
            return _with_systemd(host, on)
        return replace(host, euid=1000 if on else 0)
    if key == "resctrl":
        if value.lower() in ("0", "no", "none", "false"):
            return replace(host, resctrl=None)
        if value.lower() in ("1", "yes", "true"):
            return replace(host, resctrl=RESCTRL_ROOT)
        if not value.startswith("/"):
            raise bad
        return replace(host, resctrl=value)
    if key == "controllers":
        return replace(host, unified_controllers=_split_list(value))
    raise _usage_error(
        message=f"--host: unknown key {key!r}",
        code="OCI011",
        expected="cgroup, arch, kernel, last_cap, namespaces, lsms, controllers, euid, rootless, "
        "resctrl, kcore, systemd",
    )


def _with_systemd(host: HostInfo, on: bool) -> HostInfo:
    """systemd as init, or not; on a pure v1 host systemd mounts its own named hierarchy."""
    mounts = dict(host.cgroup_mounts)
    if on and host.cgroup == "v1":
        mounts.setdefault("name=systemd", f"{CGROUP_ROOT}/systemd")
    elif not on and host.cgroup == "v1" and not host.detected:
        mounts.pop("name=systemd", None)
    return replace(host, systemd=on, cgroup_mounts=MappingProxyType(mounts))


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _detect(cls: type[HostInfo], root: str) -> HostInfo:
    def p(rel: str) -> str:
        return os.path.join(root, rel.lstrip("/"))

    v1: dict[str, str] = {}
    named: dict[str, str] = {}
    unified: str | None = None
    resctrl: str | None = None
    for line in (_read(p("/proc/self/mounts")) or "").splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        mountpoint, fstype, options = parts[1], parts[2], parts[3].split(",")
        if fstype == "cgroup2" and unified is None:
            unified = mountpoint
        elif fstype == "resctrl" and resctrl is None:
            resctrl = mountpoint
        elif fstype == "cgroup":
            for opt in options:
                if opt in V1_CONTROLLERS:
                    v1.setdefault(opt, mountpoint)
                elif opt.startswith("name="):  # a named hierarchy (name=systemd)
                    named.setdefault(opt, mountpoint)
    if v1:
        # Named hierarchies have no controllers: the container gets a directory in
        # each and joins it, as with runc (systemd reads its own, name=systemd). They
        # do not make a cgroup2 host hybrid.
        for name, mountpoint in named.items():
            v1.setdefault(name, mountpoint)
    controllers: tuple[str, ...] = ()
    if unified is not None:
        text = _read(p(os.path.join(unified, "cgroup.controllers")))
        controllers = tuple(text.split()) if text else ()
    mode = "v2" if unified and not v1 else "hybrid" if unified else "v1"
    uname = os.uname()
    arch = ARCH_ALIASES.get(uname.machine.lower(), uname.machine)  # unknown: kept, refused later
    last_cap_text = (_read(p("/proc/sys/kernel/cap_last_cap")) or "").strip()
    namespaces = tuple(
        ns
        for ns, fname in zip(
            ALL_NAMESPACES,
            ("mnt", "uts", "ipc", "user", "pid", "net", "cgroup", "time"),
            strict=True,
        )
        if os.path.exists(p(f"/proc/self/ns/{fname}"))
    )
    lsm_text = (_read(p("/sys/kernel/security/lsm")) or "").strip()
    lsms = tuple(x for x in lsm_text.split(",") if x)
    if not lsms:
        found = ["capability"]
        if (_read(p("/sys/module/apparmor/parameters/enabled")) or "").strip() == "Y":
            found.append("apparmor")
        if os.path.exists(p("/sys/fs/selinux/enforce")):
            found.append("selinux")
        lsms = tuple(found)
    return cls(
        cgroup=mode,
        cgroup_mounts=MappingProxyType(v1),
        unified_mount=unified,
        unified_controllers=controllers,
        arch=arch,
        kernel=_parse_kernel(uname.release) if root == "/" else (0, 0, 0),
        last_cap=int(last_cap_text) if last_cap_text.isdigit() else LAST_KNOWN_CAP,
        namespaces=namespaces or ALL_NAMESPACES,
        lsms=lsms,
        euid=os.geteuid(),
        resctrl=resctrl,
        kcore=os.path.exists(p("/proc/kcore")),
        systemd=os.path.isdir(p("/run/systemd/system")),
        detected=True,
    )
