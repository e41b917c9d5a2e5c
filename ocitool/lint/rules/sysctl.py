"""Sysctl rules: only namespaced sysctls may be set, and only in the container's own namespace."""

from __future__ import annotations

from collections.abc import Iterator

from ocitool.lint.context import LintContext, as_dict
from ocitool.lint.registry import Hit, rule
from ocitool.spec.facts import sysctl_namespace
from ocitool.spec.load import join_pointer


def _sysctls(ctx: LintContext) -> Iterator[tuple[str, str]]:
    for key in as_dict(ctx.linux.get("sysctl")):
        yield join_pointer("/linux/sysctl", key), key


@rule(
    "OCS260",
    "sysctl-not-namespaced",
    "error",
    fix="set the sysctl on the host, or remove it",
)
def sysctl_not_namespaced(ctx: LintContext) -> Iterator[Hit]:
    """A sysctl that is not namespaced is set.

    Global sysctls (vm.*, kernel.* outside IPC and UTS, fs.* outside mqueue)
    would change the whole host; runtimes refuse them.
    """
    for pointer, key in _sysctls(ctx):
        if sysctl_namespace(key) is None:
            yield Hit(pointer, f"{key} is not namespaced: it would change the host")


@rule(
    "OCS261",
    "sysctl-on-host-namespace",
    "error",
    fix="give the container its own namespace for that sysctl (network, ipc or uts)",
)
def sysctl_on_host_ns(ctx: LintContext) -> Iterator[Hit]:
    """A namespaced sysctl is set while the container shares that namespace with the host.

    net.* without a network namespace, or IPC sysctls without an IPC
    namespace, would be written into the host's namespace.
    """
    for pointer, key in _sysctls(ctx):
        kind = sysctl_namespace(key)
        if kind is not None and ctx.shares_host_ns(kind):
            yield Hit(pointer, f"{key} needs a {kind} namespace; this one is the host's")
