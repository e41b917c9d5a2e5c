"""Names in plan ops -> the kernel's numbers (Linux UAPI values)."""

from __future__ import annotations

from ocitool.exec.syscalls import TYPE_CHECKING, exec_error
from ocitool.spec.facts import RLIM_INFINITY

if TYPE_CHECKING:
    from collections.abc import Iterable

CLONE = {
    "CLONE_NEWNS": 0x00020000,
    "CLONE_NEWCGROUP": 0x02000000,
    "CLONE_NEWUTS": 0x04000000,
    "CLONE_NEWIPC": 0x08000000,
    "CLONE_NEWUSER": 0x10000000,
    "CLONE_NEWPID": 0x20000000,
    "CLONE_NEWNET": 0x40000000,
    "CLONE_NEWTIME": 0x00000080,
}

MS_RDONLY = 1
MS_BIND = 4096
MS_REC = 16384
MS_REMOUNT = 32
MOUNT = {
    "MS_RDONLY": 1,
    "MS_NOSUID": 2,
    "MS_NODEV": 4,
    "MS_NOEXEC": 8,
    "MS_SYNCHRONOUS": 16,
    "MS_REMOUNT": 32,
    "MS_MANDLOCK": 64,
    "MS_DIRSYNC": 128,
    "MS_NOSYMFOLLOW": 256,
    "MS_NOATIME": 1024,
    "MS_NODIRATIME": 2048,
    "MS_BIND": 4096,
    "MS_MOVE": 8192,
    "MS_REC": 16384,
    "MS_SILENT": 32768,
    "MS_POSIXACL": 1 << 16,
    "MS_UNBINDABLE": 1 << 17,
    "MS_PRIVATE": 1 << 18,
    "MS_SLAVE": 1 << 19,
    "MS_SHARED": 1 << 20,
    "MS_RELATIME": 1 << 21,
    "MS_I_VERSION": 1 << 23,
    "MS_STRICTATIME": 1 << 24,
    "MS_LAZYTIME": 1 << 25,
}
UMOUNT = {"MNT_FORCE": 1, "MNT_DETACH": 2, "MNT_EXPIRE": 4, "UMOUNT_NOFOLLOW": 8}
AT_RECURSIVE = 0x8000
MOUNT_ATTR = {
    "MOUNT_ATTR_RDONLY": 0x1,
    "MOUNT_ATTR_NOSUID": 0x2,
    "MOUNT_ATTR_NODEV": 0x4,
    "MOUNT_ATTR_NOEXEC": 0x8,
    "MOUNT_ATTR__ATIME": 0x70,
    "MOUNT_ATTR_RELATIME": 0,
    "MOUNT_ATTR_NOATIME": 0x10,
    "MOUNT_ATTR_STRICTATIME": 0x20,
    "MOUNT_ATTR_NODIRATIME": 0x80,
    "MOUNT_ATTR_IDMAP": 0x100000,
    "MOUNT_ATTR_NOSYMFOLLOW": 0x200000,
}
# statvfs f_flag bits (ST_*) -> the MS_* flag a bind remount must keep
_LOCKED = ((2, 2), (4, 4), (8, 8), (1024, 1024), (2048, 2048), (4096, 1 << 21))

RLIMITS = {
    "RLIMIT_CPU": 0,
    "RLIMIT_FSIZE": 1,
    "RLIMIT_DATA": 2,
    "RLIMIT_STACK": 3,
    "RLIMIT_CORE": 4,
    "RLIMIT_RSS": 5,
    "RLIMIT_NPROC": 6,
    "RLIMIT_NOFILE": 7,
    "RLIMIT_MEMLOCK": 8,
    "RLIMIT_AS": 9,
    "RLIMIT_LOCKS": 10,
    "RLIMIT_SIGPENDING": 11,
    "RLIMIT_MSGQUEUE": 12,
    "RLIMIT_NICE": 13,
    "RLIMIT_RTPRIO": 14,
    "RLIMIT_RTTIME": 15,
}

SCHED_FLAGS = {
    "SCHED_FLAG_RESET_ON_FORK": 0x01,
    "SCHED_FLAG_RECLAIM": 0x02,
    "SCHED_FLAG_DL_OVERRUN": 0x04,
    "SCHED_FLAG_KEEP_POLICY": 0x08,
    "SCHED_FLAG_KEEP_PARAMS": 0x10,
    "SCHED_FLAG_UTIL_CLAMP_MIN": 0x20,
    "SCHED_FLAG_UTIL_CLAMP_MAX": 0x40,
}
MEMPOLICY_MODES = {
    "MPOL_DEFAULT": 0,
    "MPOL_PREFERRED": 1,
    "MPOL_BIND": 2,
    "MPOL_INTERLEAVE": 3,
    "MPOL_LOCAL": 4,
    "MPOL_PREFERRED_MANY": 5,
    "MPOL_WEIGHTED_INTERLEAVE": 6,
}
MEMPOLICY_FLAGS = {
    "MPOL_F_STATIC_NODES": 1 << 15,
    "MPOL_F_RELATIVE_NODES": 1 << 14,
    "MPOL_F_NUMA_BALANCING": 1 << 13,
}
SECCOMP_FLAGS = {
    "SECCOMP_FILTER_FLAG_TSYNC": 1,
    "SECCOMP_FILTER_FLAG_LOG": 2,
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4,
    "SECCOMP_FILTER_FLAG_NEW_LISTENER": 8,
    "SECCOMP_FILTER_FLAG_TSYNC_ESRCH": 16,
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": 32,
}


def _combine(table: dict[str, int], names: Iterable[str], what: str) -> int:
    value = 0
    for name in names:
        try:
            value |= table[name]
        except KeyError:
            raise exec_error(f"unknown {what} {name!r} in plan") from None
    return value


def clone_flags(names: Iterable[str]) -> int:
    return _combine(CLONE, names, "namespace flag")


def mount_flags(names: Iterable[str]) -> int:
    return _combine(MOUNT, names, "mount flag")


def umount_flags(names: Iterable[str]) -> int:
    return _combine(UMOUNT, names, "umount flag")


def mount_attrs(names: Iterable[str]) -> int:
    return _combine(MOUNT_ATTR, names, "mount attribute")


def sched_flags(names: Iterable[str]) -> int:
    return _combine(SCHED_FLAGS, names, "sched flag")


def mempolicy_flags(names: Iterable[str]) -> int:
    return _combine(MEMPOLICY_FLAGS, names, "mempolicy flag")


def seccomp_flags(names: Iterable[str]) -> int:
    return _combine(SECCOMP_FLAGS, names, "seccomp flag")


def locked_flags(st_flag: int) -> int:
    """The MS_* flags a bind remount must repeat so the kernel does not refuse it."""
    return sum(ms for st, ms in _LOCKED if st_flag & st)


def rlimit(name: str) -> int:
    try:
        return RLIMITS[name]
    except KeyError:
        raise exec_error(f"unknown rlimit {name!r} in plan") from None


def rlim(value: int) -> int:
    return RLIM_INFINITY if value < 0 or value >= RLIM_INFINITY else value


def cpu_list(text: str) -> list[int]:
    """``0-3,7`` -> [0, 1, 2, 3, 7]."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def signal_number(name: str | int) -> int:
    import _signal as signal

    if isinstance(name, int) or str(name).isdigit():
        return int(name)
    text = str(name).upper()
    if not text.startswith("SIG"):
        text = "SIG" + text
    return int(getattr(signal, text))


_LAST_CAP: list[int] = []


def cap_last_cap() -> int:
    """The highest capability this kernel knows (/proc/sys/kernel/cap_last_cap)."""
    if not _LAST_CAP:
        try:
            with open("/proc/sys/kernel/cap_last_cap") as f:
                _LAST_CAP.append(int(f.read()))
        except OSError:
            _LAST_CAP.append(40)
    return _LAST_CAP[0]
