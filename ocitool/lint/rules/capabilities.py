"""Capability rules: what the process holds, or can gain, and whether the sets make sense."""

from __future__ import annotations

from collections.abc import Iterator

from ocitool.capabilities import CAP_NUMBER
from ocitool.lint.context import LintContext, as_dict, as_list
from ocitool.lint.registry import Hit, rule


def _granted(ctx: LintContext, cap: str) -> Iterator[Hit]:
    if ctx.privileged or cap not in ctx.granted:
        return
    pointer = ctx.granted[cap]
    how = "can gain it through execve" if "/bounding/" in pointer else "holds it"
    yield Hit(pointer, f"{cap} is granted: the process {how}")


@rule(
    "OCS201",
    "privileged",
    "error",
    fix="list only the capabilities the workload needs; start from the runtime's default set",
)
def privileged(ctx: LintContext) -> Iterator[Hit]:
    """The process is granted all, or all but a few, capabilities.

    With (nearly) every capability, root in the container is root on the host
    in all but name: it can load modules, mount filesystems, trace any process
    it can see and reconfigure the network. Isolation then rests on namespaces
    alone, which were never meant to contain a fully privileged process.
    """
    if ctx.privileged:
        count = len(ctx.granted)
        yield Hit("/process/capabilities", f"{count} capabilities granted: a privileged container")


@rule(
    "OCS202",
    "cap-sys-admin",
    "warning",
    fix="drop CAP_SYS_ADMIN; grant the narrow capability the workload needs",
)
def cap_sys_admin(ctx: LintContext) -> Iterator[Hit]:
    """CAP_SYS_ADMIN is granted.

    CAP_SYS_ADMIN is the catch-all capability: mount, swapon, sethostname,
    namespace operations, many device ioctls, BPF on older kernels. Most
    container escapes documented in the wild start from it.
    """
    yield from _granted(ctx, "CAP_SYS_ADMIN")


@rule(
    "OCS203",
    "cap-sys-module",
    "error",
    fix="drop CAP_SYS_MODULE; load kernel modules on the host instead",
)
def cap_sys_module(ctx: LintContext) -> Iterator[Hit]:
    """CAP_SYS_MODULE is granted.

    Loading a kernel module runs arbitrary code in the host kernel; no
    namespace limits it. A container never needs this.
    """
    yield from _granted(ctx, "CAP_SYS_MODULE")


@rule(
    "OCS204",
    "cap-sys-ptrace",
    "warning",
    fix="drop CAP_SYS_PTRACE unless the container runs a debugger",
)
def cap_sys_ptrace(ctx: LintContext) -> Iterator[Hit]:
    """CAP_SYS_PTRACE is granted.

    ptrace lets the process read and write the memory of any process it can
    see; with a shared PID namespace that includes host processes, and it
    bypasses seccomp on kernels before 4.8.
    """
    yield from _granted(ctx, "CAP_SYS_PTRACE")


@rule(
    "OCS205",
    "cap-net-admin",
    "warning",
    fix="drop CAP_NET_ADMIN; configure the network from outside the container",
)
def cap_net_admin(ctx: LintContext) -> Iterator[Hit]:
    """CAP_NET_ADMIN is granted.

    The process can reconfigure interfaces, routes and firewall rules of its
    network namespace (the host's, if it shares it) and reaches a large,
    historically bug-prone kernel surface (netfilter, traffic control).
    """
    yield from _granted(ctx, "CAP_NET_ADMIN")


@rule("OCS206", "cap-dac-read-search", "warning", fix="drop CAP_DAC_READ_SEARCH")
def cap_dac_read_search(ctx: LintContext) -> Iterator[Hit]:
    """CAP_DAC_READ_SEARCH is granted.

    Besides bypassing read permission checks, it allows open_by_handle_at(2),
    which can open files on the host filesystem by handle from inside a bind
    mount: the classic "shocker" escape.
    """
    yield from _granted(ctx, "CAP_DAC_READ_SEARCH")


@rule("OCS207", "cap-sys-rawio", "warning", fix="drop CAP_SYS_RAWIO")
def cap_sys_rawio(ctx: LintContext) -> Iterator[Hit]:
    """CAP_SYS_RAWIO is granted.

    It allows I/O port access (iopl, ioperm), /dev/mem and raw SCSI commands:
    direct access to hardware and kernel memory.
    """
    yield from _granted(ctx, "CAP_SYS_RAWIO")


@rule(
    "OCS208",
    "cap-bpf",
    "warning",
    fix="drop CAP_BPF (and CAP_PERFMON) unless the workload loads BPF programs",
)
def cap_bpf(ctx: LintContext) -> Iterator[Hit]:
    """CAP_BPF is granted.

    Loading BPF programs exposes the verifier and JIT, a recurring source of
    kernel privilege escalations; with CAP_PERFMON it also allows tracing
    programs that read kernel memory.
    """
    yield from _granted(ctx, "CAP_BPF")


@rule(
    "OCS209",
    "capabilities-unset",
    "warning",
    fix="add process.capabilities with the five sets listed explicitly (empty lists are fine)",
)
def capabilities_unset(ctx: LintContext) -> Iterator[Hit]:
    """The process has no capabilities object.

    The runtime-spec does not define what an absent capabilities object
    means, so the process's privileges are left to the runtime rather than
    stated by the config. A reviewer cannot tell from the file what the
    container may do.
    """
    if ctx.process and "capabilities" not in ctx.process:
        yield Hit("/process", "process.capabilities is not set; the runtime decides the sets")


@rule(
    "OCR112",
    "ambient-not-inheritable",
    "warning",
    fix="add the capability to process.capabilities.inheritable, or remove it from ambient",
)
def ambient_not_inheritable(ctx: LintContext) -> Iterator[Hit]:
    """An ambient capability is missing from the inheritable set.

    The kernel raises an ambient capability only when it is both permitted
    and inheritable (PR_CAP_AMBIENT_RAISE fails otherwise), so the entry is
    silently dropped or makes the runtime fail.
    """
    yield from _outside(ctx, "ambient", "inheritable")


@rule(
    "OCR113",
    "ambient-not-permitted",
    "warning",
    fix="add the capability to process.capabilities.permitted, or remove it from ambient",
)
def ambient_not_permitted(ctx: LintContext) -> Iterator[Hit]:
    """An ambient capability is missing from the permitted set.

    An ambient capability must be permitted as well as inheritable;
    otherwise the kernel refuses to raise it.
    """
    yield from _outside(ctx, "ambient", "permitted")


@rule(
    "OCR114",
    "effective-not-permitted",
    "error",
    fix="add the capability to permitted, or remove it from effective",
)
def effective_not_permitted(ctx: LintContext) -> Iterator[Hit]:
    """An effective capability is missing from the permitted set.

    capset(2) rejects an effective set that is not a subset of the permitted
    set, so the runtime fails to start the process.
    """
    capsd = as_dict(ctx.process.get("capabilities"))
    if "permitted" not in capsd:
        return
    yield from _outside(ctx, "effective", "permitted")


@rule(
    "OCR115",
    "unknown-capability",
    "error",
    fix="fix the spelling; names look like CAP_NET_BIND_SERVICE",
)
def unknown_capability(ctx: LintContext) -> Iterator[Hit]:
    """A capability name is not a Linux capability.

    Runtimes reject (or, worse, silently skip) names they do not know; a typo
    either breaks start-up or leaves the process without a capability the
    author meant to grant.
    """
    capsd = as_dict(ctx.process.get("capabilities"))
    for set_name, entries in ctx.caps.items():
        for cap, i in entries.items():
            if cap not in CAP_NUMBER:
                raw = capsd[set_name][i]
                yield Hit(f"/process/capabilities/{set_name}/{i}", f"unknown capability {raw!r}")
        for i, cap in enumerate(as_list(capsd.get(set_name))):
            if not isinstance(cap, str) or not cap.strip():
                yield Hit(f"/process/capabilities/{set_name}/{i}", f"unknown capability {cap!r}")


@rule(
    "OCP309",
    "new-kernel-capability",
    "info",
    fix="make sure every target host runs Linux 5.9 or later, or drop the capability",
)
def new_kernel_capability(ctx: LintContext) -> Iterator[Hit]:
    """A capability that only recent kernels know is listed.

    CAP_PERFMON and CAP_BPF appeared in Linux 5.8 and CAP_CHECKPOINT_RESTORE
    in 5.9. Older kernels do not know them: a runtime either fails
    (PR_CAPBSET_DROP rejects an unknown capability) or drops them with a
    warning, so the process runs without them.
    """
    seen: set[str] = set()
    for set_name in ("effective", "permitted", "inheritable", "ambient", "bounding"):
        for cap, i in ctx.caps[set_name].items():
            if cap in _NEW_CAPS and cap not in seen:
                seen.add(cap)
                yield Hit(
                    f"/process/capabilities/{set_name}/{i}",
                    f"{cap} needs Linux {_NEW_CAPS[cap]} or later",
                )


_NEW_CAPS = {"CAP_PERFMON": "5.8", "CAP_BPF": "5.8", "CAP_CHECKPOINT_RESTORE": "5.9"}


def _outside(ctx: LintContext, subset: str, superset: str) -> Iterator[Hit]:
    """Entries of capability set ``subset`` that set ``superset`` lacks, each at its pointer."""
    allowed = ctx.caps[superset]
    for cap, i in ctx.caps[subset].items():
        if cap not in allowed:
            yield Hit(f"/process/capabilities/{subset}/{i}", f"{subset} {cap} is not {superset}")
