"""Seccomp rules: is there a filter, does it deny what must be denied, do its names exist."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocitool.lint.context import ALLOW_ACTIONS, DENY_ACTIONS, LintContext, syscall_pointer
from ocitool.lint.registry import Hit, rule

# Syscalls that no ordinary container should be able to make: module loading, kexec,
# BPF, handle-based opens, swap, accounting, raw port I/O and obsolete interfaces.
NEVER_ALLOW = frozenset(
    {
        "kexec_load",
        "kexec_file_load",
        "init_module",
        "finit_module",
        "delete_module",
        "create_module",
        "bpf",
        "open_by_handle_at",
        "reboot",
        "swapon",
        "swapoff",
        "acct",
        "iopl",
        "ioperm",
        "lookup_dcookie",
        "uselib",
        "nfsservctl",
        "get_kernel_syms",
        "query_module",
        "_sysctl",
        "vm86",
        "vm86old",
    }
)
# The core a deny list must cover for an allow-by-default filter to mean anything.
CORE_DENY = (
    "kexec_load",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "open_by_handle_at",
)
_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


@rule(
    "OCS210",
    "seccomp-missing",
    "warning",
    fix="add linux.seccomp with a deny-by-default profile (ocitool spec --profile hardened has one)",
)
def seccomp_missing(ctx: LintContext) -> Iterator[Hit]:
    """The config has no seccomp filter.

    Without seccomp every system call of the host kernel is reachable,
    including rarely used ones that carry most kernel vulnerabilities.
    Capabilities and namespaces do not reduce that attack surface.
    """
    if ctx.process and ctx.seccomp is None:
        yield Hit("/linux", "no linux.seccomp: every system call is allowed")


@rule(
    "OCS211",
    "seccomp-allow-default",
    "warning",
    fix="use a deny-by-default profile (defaultAction SCMP_ACT_ERRNO) with an allow list",
)
def seccomp_allow_default(ctx: LintContext) -> Iterator[Hit]:
    """The seccomp filter allows by default and its deny list misses the dangerous calls.

    An allow-by-default filter only blocks what it names; when it does not
    even name module loading, kexec, BPF and open_by_handle_at, it filters
    almost nothing while looking like a policy.
    """
    if ctx.seccomp_default not in ALLOW_ACTIONS:
        return
    denied = {
        name
        for _, _, name, action, has_args in ctx.syscall_rules
        if action in DENY_ACTIONS and not has_args
    }
    missing = [n for n in CORE_DENY if n not in denied]
    if missing:
        yield Hit(
            "/linux/seccomp/defaultAction",
            f"defaultAction {ctx.seccomp_default} and no deny rule for {', '.join(missing)}",
        )


@rule(
    "OCS212",
    "seccomp-dangerous-syscall-allowed",
    "warning",
    fix="remove the syscall from the allow rules",
)
def seccomp_dangerous_allowed(ctx: LintContext) -> Iterator[Hit]:
    """A deny-by-default filter explicitly allows a syscall no container should make.

    kexec_load, init_module, finit_module, bpf, open_by_handle_at, swapon,
    iopl and similar calls either act on the whole host or have a history of
    container escapes; allowing them defeats the point of the filter.
    """
    if ctx.seccomp_default is None or ctx.seccomp_default in ALLOW_ACTIONS:
        return
    for i, j, name, action, has_args in ctx.syscall_rules:
        if action in ALLOW_ACTIONS and name in NEVER_ALLOW:
            how = " (under argument conditions)" if has_args else ""
            yield Hit(syscall_pointer(i, j), f"{name} is allowed{how}")


# Real syscalls newer than the generated tables (libseccomp 2.5.4): Linux 6.4 .. 6.17.
NEWER_SYSCALLS = frozenset(
    {
        "riscv_hwprobe",
        "cachestat",
        "fchmodat2",
        "map_shadow_stack",
        "futex_wake",
        "futex_wait",
        "futex_requeue",
        "statmount",
        "listmount",
        "lsm_get_self_attr",
        "lsm_set_self_attr",
        "lsm_list_modules",
        "mseal",
        "uretprobe",
        "setxattrat",
        "getxattrat",
        "listxattrat",
        "removexattrat",
        "open_tree_attr",
        "file_getattr",
        "file_setattr",
    }
)


_TABLE_NAMES: list[frozenset[str] | None] = []


def _table_names() -> frozenset[str] | None:
    """Every syscall name of every architecture; None when the tables are not available."""
    if not _TABLE_NAMES:
        try:
            from ocitool.seccomp.tables import ARCHES, syscalls
        except ImportError:
            _TABLE_NAMES.append(None)
        else:
            _TABLE_NAMES.append(frozenset().union(*(syscalls(a) for a in ARCHES)) | NEWER_SYSCALLS)
    return _TABLE_NAMES[0]


@rule(
    "OCR111",
    "unknown-seccomp-syscall",
    "warning",
    fix="fix the syscall name (see syscalls(2)); names are lower case, e.g. openat",
)
def unknown_syscall(ctx: LintContext) -> Iterator[Hit]:
    """A seccomp rule names a syscall that no architecture has.

    libseccomp cannot resolve such a name and runtimes skip (or reject) it,
    so a misspelt deny rule silently denies nothing. Names that exist on some
    other architecture are fine: profiles are shared across architectures.
    """
    known = _table_names() or frozenset()
    for i, j, name, _, _ in ctx.syscall_rules:
        if name in known:
            continue
        if not _NAME_RE.match(name):
            yield Hit(syscall_pointer(i, j), f"{name!r} is not a syscall name")
        elif known:
            yield Hit(syscall_pointer(i, j), f"unknown syscall {name!r} (no architecture has it)")


@rule(
    "OCR116",
    "seccomp-conflicting-actions",
    "warning",
    fix="keep one unconditional rule per syscall",
)
def seccomp_conflicts(ctx: LintContext) -> Iterator[Hit]:
    """One syscall has unconditional rules with different actions.

    Which action wins depends on the runtime and libseccomp version (some
    reject the filter); the policy is ambiguous either way.
    """
    first: dict[str, str] = {}
    for i, j, name, action, has_args in ctx.syscall_rules:
        if has_args:
            continue
        if name in first and first[name] != action:
            yield Hit(
                syscall_pointer(i, j), f"{name} is also given {first[name]} by an earlier rule"
            )
        first.setdefault(name, action)


@rule(
    "OCR131",
    "seccomp-notify-without-listener",
    "error",
    fix="set linux.seccomp.listenerPath to the agent's unix socket, or use another action",
)
def seccomp_notify_listener(ctx: LintContext) -> Iterator[Hit]:
    """SCMP_ACT_NOTIFY is used but no listenerPath is set.

    The notification file descriptor is handed to the agent listening on
    listenerPath; without one there is nobody to answer the notified
    syscalls, and runtimes fail to start the container (runc: "seccomp
    listenerPath is not set").
    """
    if ctx.seccomp is None or ctx.seccomp.get("listenerPath"):
        return
    if ctx.seccomp_default == "SCMP_ACT_NOTIFY":
        yield Hit("/linux/seccomp/defaultAction", "SCMP_ACT_NOTIFY without listenerPath")
        return
    for i, _, _, action, _ in ctx.syscall_rules:
        if action == "SCMP_ACT_NOTIFY":
            yield Hit(f"/linux/seccomp/syscalls/{i}", "SCMP_ACT_NOTIFY without listenerPath")
            return
