#!/usr/bin/env python3
"""Generate ocitool/kernel/constants.py: the kernel's numbers for the names plans print.

Why generated: MS_*, MOUNT_ATTR_*, CLONE_*, RLIMIT_* and the numbers of the
system calls the executor makes directly are facts of the kernel ABI. They were
typed by hand in several modules; now they are read once, from the headers
Debian ships (linux-libc-dev for ``<linux/*.h>`` and ``<asm-generic/*.h>``,
libc6-dev for glibc's ``<sys/mount.h>``), and the syscall numbers from our own
per-arch tables (ocitool/seccomp/tables, generated from libseccomp), so every
number has one source.

Which names are wanted is listed here (the names ocitool prints and applies);
their values come from the headers. Run: ``python3 tools/gen_kernel_constants.py``
(``--check`` exits 1 when the committed file differs).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "ocitool" / "kernel" / "constants.py"
INCLUDE = Path("/usr/include")

# (table name, header, names wanted, what the table is for)
TABLES: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    (
        "MS",
        "linux/mount.h",
        (
            "MS_RDONLY",
            "MS_NOSUID",
            "MS_NODEV",
            "MS_NOEXEC",
            "MS_SYNCHRONOUS",
            "MS_REMOUNT",
            "MS_MANDLOCK",
            "MS_DIRSYNC",
            "MS_NOSYMFOLLOW",
            "MS_NOATIME",
            "MS_NODIRATIME",
            "MS_BIND",
            "MS_MOVE",
            "MS_REC",
            "MS_SILENT",
            "MS_POSIXACL",
            "MS_UNBINDABLE",
            "MS_PRIVATE",
            "MS_SLAVE",
            "MS_SHARED",
            "MS_RELATIME",
            "MS_I_VERSION",
            "MS_STRICTATIME",
            "MS_LAZYTIME",
        ),
        "mount(2) flags, in bit order (the order plans print them in)",
    ),
    (
        "MOUNT_ATTR",
        "linux/mount.h",
        (
            "MOUNT_ATTR_RDONLY",
            "MOUNT_ATTR_NOSUID",
            "MOUNT_ATTR_NODEV",
            "MOUNT_ATTR_NOEXEC",
            "MOUNT_ATTR__ATIME",
            "MOUNT_ATTR_RELATIME",
            "MOUNT_ATTR_NOATIME",
            "MOUNT_ATTR_STRICTATIME",
            "MOUNT_ATTR_NODIRATIME",
            "MOUNT_ATTR_IDMAP",
            "MOUNT_ATTR_NOSYMFOLLOW",
        ),
        "mount_setattr(2) attributes",
    ),
    (
        "MOUNT_API",
        "linux/mount.h",
        ("OPEN_TREE_CLONE", "MOVE_MOUNT_F_EMPTY_PATH"),
        "open_tree(2) / move_mount(2) flags",
    ),
    (
        "AT",
        "linux/fcntl.h",
        ("AT_FDCWD", "AT_EMPTY_PATH", "AT_RECURSIVE"),
        "*at(2) flags",
    ),
    (
        "UMOUNT",
        "x86_64-linux-gnu/sys/mount.h",
        ("MNT_FORCE", "MNT_DETACH", "MNT_EXPIRE", "UMOUNT_NOFOLLOW"),
        "umount2(2) flags (from glibc; the same on every arch)",
    ),
    (
        "CLONE",
        "linux/sched.h",
        (
            "CSIGNAL",
            "CLONE_NEWTIME",
            "CLONE_VM",
            "CLONE_FS",
            "CLONE_FILES",
            "CLONE_SIGHAND",
            "CLONE_PIDFD",
            "CLONE_PTRACE",
            "CLONE_VFORK",
            "CLONE_PARENT",
            "CLONE_THREAD",
            "CLONE_NEWNS",
            "CLONE_SYSVSEM",
            "CLONE_SETTLS",
            "CLONE_PARENT_SETTID",
            "CLONE_CHILD_CLEARTID",
            "CLONE_DETACHED",
            "CLONE_UNTRACED",
            "CLONE_CHILD_SETTID",
            "CLONE_NEWCGROUP",
            "CLONE_NEWUTS",
            "CLONE_NEWIPC",
            "CLONE_NEWUSER",
            "CLONE_NEWPID",
            "CLONE_NEWNET",
            "CLONE_IO",
            "CLONE_CLEAR_SIGHAND",
            "CLONE_INTO_CGROUP",
        ),
        "clone(2) / unshare(2) / setns(2) flags, in bit order",
    ),
    (
        "SCHED_FLAG",
        "linux/sched.h",
        (
            "SCHED_FLAG_RESET_ON_FORK",
            "SCHED_FLAG_RECLAIM",
            "SCHED_FLAG_DL_OVERRUN",
            "SCHED_FLAG_KEEP_POLICY",
            "SCHED_FLAG_KEEP_PARAMS",
            "SCHED_FLAG_UTIL_CLAMP_MIN",
            "SCHED_FLAG_UTIL_CLAMP_MAX",
        ),
        "sched_setattr(2) flags",
    ),
    (
        "MPOL_F",
        "linux/mempolicy.h",
        ("MPOL_F_NUMA_BALANCING", "MPOL_F_RELATIVE_NODES", "MPOL_F_STATIC_NODES"),
        "set_mempolicy(2) mode flags",
    ),
    (
        "SECCOMP_FILTER_FLAG",
        "linux/seccomp.h",
        (
            "SECCOMP_FILTER_FLAG_TSYNC",
            "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
            "SECCOMP_FILTER_FLAG_NEW_LISTENER",
            "SECCOMP_FILTER_FLAG_TSYNC_ESRCH",
            "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
        ),
        "seccomp(2) SECCOMP_SET_MODE_FILTER flags",
    ),
    (
        "PER",
        "linux/personality.h",
        ("PER_LINUX", "PER_LINUX32"),
        "personality(2) domains runtime-spec names",
    ),
    (
        "RLIMIT",
        "asm-generic/resource.h",
        (
            "RLIMIT_CPU",
            "RLIMIT_FSIZE",
            "RLIMIT_DATA",
            "RLIMIT_STACK",
            "RLIMIT_CORE",
            "RLIMIT_RSS",
            "RLIMIT_NPROC",
            "RLIMIT_NOFILE",
            "RLIMIT_MEMLOCK",
            "RLIMIT_AS",
            "RLIMIT_LOCKS",
            "RLIMIT_SIGPENDING",
            "RLIMIT_MSGQUEUE",
            "RLIMIT_NICE",
            "RLIMIT_RTPRIO",
            "RLIMIT_RTTIME",
        ),
        "setrlimit(2) resources (those of every arch in EXEC_ARCHES)",
    ),
)

# Tables printed in decimal (numbers, not bit flags).
DECIMAL = frozenset({"AT", "RLIMIT"})

# The architectures the executor runs on: those whose <asm/resource.h> is
# asm-generic's (alpha, mips and sparc number rlimits differently).
EXEC_ARCHES = ("x86_64", "x86", "aarch64", "arm", "riscv64", "ppc64le", "s390x")

# The system calls the executor makes with syscall(2) (glibc has no wrapper, or
# the wrapper does not do what we need).
EXEC_SYSCALLS = (
    "bpf",
    "capget",
    "capset",
    "clone",
    "clone3",
    "close_range",
    "ioprio_set",
    "keyctl",
    "mount_setattr",
    "move_mount",
    "open_tree",
    "openat2",
    "pidfd_open",
    "pidfd_send_signal",
    "pivot_root",
    "prlimit64",
    "sched_setattr",
    "seccomp",
    "set_mempolicy",
)

_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)\s+(.+?)\s*$")
_ENUM = re.compile(r"^\s*(\w+)\s*=\s*([^,/]+?)\s*,?\s*(?:/\*.*)?$")
_EXPR = re.compile(r"^[0-9a-fA-FxX()<|\s-]+$")


def _value(text: str) -> int | None:
    """The integer a macro body or enum value stands for, or None (not a plain number)."""
    text = re.sub(r"/\*.*?(\*/|$)", "", text).strip()  # a comment, maybe unclosed
    text = re.sub(r"(?<=[0-9a-fA-F])(ULL|UL|U|LL|L)\b", "", text)
    if not text or not _EXPR.match(text):
        return None
    try:
        value = eval(text, {"__builtins__": {}}, {})  # digits, hex, <<, |, () only
    except SyntaxError:
        return None
    return value if isinstance(value, int) else None


def header_values(header: Path) -> dict[str, int]:
    """Every ``#define NAME number`` and ``NAME = number`` (enum) in ``header``."""
    found: dict[str, int] = {}
    for line in header.read_text().splitlines():
        match = _DEFINE.match(line) or _ENUM.match(line)
        if match:
            value = _value(match.group(2))
            if value is not None:
                found.setdefault(match.group(1), value)
    return found


def collect(include: Path = INCLUDE) -> dict[str, dict[str, int]]:
    """Table name -> {constant name -> value}, read from the headers under ``include``."""
    tables: dict[str, dict[str, int]] = {}
    for table, header, names, _ in TABLES:
        values = header_values(include / header)
        missing = [n for n in names if n not in values]
        if missing:
            raise SystemExit(f"{header}: no value for {', '.join(missing)}")
        tables[table] = {n: values[n] for n in names}
    return tables


def syscall_numbers() -> dict[str, dict[str, int]]:
    """arch -> {syscall -> number} for the executor's direct calls, from seccomp/tables."""
    sys.path.insert(0, str(REPO))
    from ocitool.seccomp.tables import syscalls

    out: dict[str, dict[str, int]] = {}
    for arch in EXEC_ARCHES:
        table = syscalls(arch)
        missing = [n for n in EXEC_SYSCALLS if n not in table]
        if missing:
            raise SystemExit(f"seccomp/tables has no {arch} number for {', '.join(missing)}")
        out[arch] = {n: table[n] for n in EXEC_SYSCALLS}
    return out


def kernel_version(include: Path = INCLUDE) -> str:
    values = header_values(include / "linux" / "version.h")
    code = values.get("LINUX_VERSION_CODE", 0)
    return f"{code >> 16}.{code >> 8 & 0xFF}"


def render(
    tables: dict[str, dict[str, int]], numbers: dict[str, dict[str, int]], version: str
) -> str:
    from ocitool.seccomp.tables import LIBSECCOMP_VERSION

    lines = [
        "# GENERATED by tools/gen_kernel_constants.py from the Linux "
        f"{version} UAPI headers (linux-libc-dev),",
        "# glibc's <sys/mount.h> and ocitool/seccomp/tables "
        f"(libseccomp {LIBSECCOMP_VERSION}). DO NOT EDIT.",
        '"""Kernel ABI numbers for the names plans print: one source for lowering and the executor.',
        "",
        "Each table maps a constant's name to its value; ``SYSCALLS`` maps each",
        "architecture the executor runs on to the numbers of the calls it makes",
        'with syscall(2)."""',
        "",
        "from __future__ import annotations",
        "",
    ]
    for table, header, names, why in TABLES:
        lines.append(f"# <{header.removeprefix('x86_64-linux-gnu/')}>: {why}")
        as_hex = table not in DECIMAL
        for name in names:
            value = tables[table][name]
            lines.append(f"{name} = 0x{value:X}" if as_hex and value > 9 else f"{name} = {value}")
        lines.append(f"{table}: dict[str, int] = {{")
        lines += [f'    "{n}": {n},' for n in names]
        lines += ["}", ""]
    lines.append(
        "EXEC_ARCHES: tuple[str, ...] = (" + ", ".join(f'"{a}"' for a in EXEC_ARCHES) + ")"
    )
    # Calls numbered alike on every arch (the 424+ range) once, the others per arch.
    common = {n: nr for n, nr in numbers[EXEC_ARCHES[0]].items() if _same(numbers, n)}
    own = [n for n in EXEC_SYSCALLS if n not in common]
    lines.append("_COMMON_NR: dict[str, int] = {")
    lines += [f'    "{n}": {nr},' for n, nr in common.items()]
    lines.append("}")
    lines.append("_OWN_NAMES = (")
    lines += [f'    "{n}",' for n in own]
    lines.append(")")
    lines.append("_OWN_NR: dict[str, tuple[int, ...]] = {")
    for arch in EXEC_ARCHES:
        lines.append(f'    "{arch}": (' + ", ".join(str(numbers[arch][n]) for n in own) + "),")
    lines.append("}")
    lines.append("SYSCALLS: dict[str, dict[str, int]] = {")
    lines.append(
        "    arch: {**dict(zip(_OWN_NAMES, nrs, strict=True)), **_COMMON_NR}"
        " for arch, nrs in _OWN_NR.items()"
    )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _same(numbers: dict[str, dict[str, int]], name: str) -> bool:
    return len({table[name] for table in numbers.values()}) == 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    text = render(collect(), syscall_numbers(), kernel_version())
    if args.check:
        same = args.out.exists() and args.out.read_text() == text
        print(f"{args.out}: {'up to date' if same else 'differs'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
