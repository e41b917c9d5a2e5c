"""Host-specific rules: can *this* machine honour the config? Run only with --host-specific."""

from __future__ import annotations

from collections.abc import Iterator

from ocitool.lint.context import LintContext, as_dict
from ocitool.lint.registry import Hit, rule
from ocitool.lint.rules.portability import v1_only_fields

# resources key -> cgroup v2 controller that applies it
_CONTROLLERS = {
    "memory": "memory",
    "cpu": "cpu",
    "pids": "pids",
    "blockIO": "io",
    "hugepageLimits": "hugetlb",
    "rdma": "rdma",
}


@rule(
    "OCP350",
    "apparmor-unavailable",
    "error",
    fix="remove process.apparmorProfile on this host, or enable AppArmor",
    host_specific=True,
)
def apparmor_unavailable(ctx: LintContext) -> Iterator[Hit]:
    """An AppArmor profile is requested but AppArmor is not enabled on this host.

    The runtime refuses to start (or, for some runtimes, silently runs
    without the confinement the config promises).
    """
    if ctx.host and ctx.host.apparmor is False and ctx.process.get("apparmorProfile"):
        yield Hit("/process/apparmorProfile", "AppArmor is not enabled on this host")


@rule(
    "OCP351",
    "selinux-unavailable",
    "error",
    fix="remove the SELinux labels on this host, or enable SELinux",
    host_specific=True,
)
def selinux_unavailable(ctx: LintContext) -> Iterator[Hit]:
    """An SELinux label is requested but SELinux is not enabled on this host.

    The label cannot be applied; the container would run unconfined.
    """
    if not ctx.host or ctx.host.selinux is not False:
        return
    if ctx.process.get("selinuxLabel"):
        yield Hit("/process/selinuxLabel", "SELinux is not enabled on this host")
    if ctx.linux.get("mountLabel"):
        yield Hit("/linux/mountLabel", "SELinux is not enabled on this host")


@rule(
    "OCP352",
    "cgroup-v1-field-on-v2-host",
    "error",
    fix="remove the cgroup v1-only fields for this cgroup v2 host",
    host_specific=True,
)
def v1_field_on_v2(ctx: LintContext) -> Iterator[Hit]:
    """A cgroup v1-only resource field is set and this host runs cgroup v2.

    The field cannot be applied here: depending on the runtime the container
    fails to start or runs without the limit.
    """
    if ctx.host and ctx.host.cgroup_mode == "v2":
        for pointer, what in v1_only_fields(ctx):
            yield Hit(pointer, f"{what} cannot be applied on this cgroup v2 host")


@rule(
    "OCP353",
    "cgroup-controller-missing",
    "warning",
    fix="enable the controller on the host (cgroup.subtree_control), or drop the limit",
    host_specific=True,
)
def controller_missing(ctx: LintContext) -> Iterator[Hit]:
    """A resource limit needs a cgroup v2 controller this host does not offer.

    Without the controller in the root's cgroup.controllers the limit cannot
    be written and the runtime fails.
    """
    if not ctx.host or ctx.host.cgroup_mode != "v2" or ctx.host.controllers is None:
        return
    for key, controller in _CONTROLLERS.items():
        value = ctx.resources.get(key)
        if value and controller not in ctx.host.controllers:
            yield Hit(
                f"/linux/resources/{key}", f"cgroup controller {controller!r} is not available"
            )
    cpu = as_dict(ctx.resources.get("cpu"))
    if (cpu.get("cpus") or cpu.get("mems")) and "cpuset" not in ctx.host.controllers:
        yield Hit("/linux/resources/cpu", "cgroup controller 'cpuset' is not available")


@rule(
    "OCP354",
    "resctrl-unavailable",
    "error",
    fix="mount resctrl (mount -t resctrl resctrl /sys/fs/resctrl) or drop linux.intelRdt",
    host_specific=True,
)
def resctrl_unavailable(ctx: LintContext) -> Iterator[Hit]:
    """linux.intelRdt is set but this host has no resctrl filesystem mounted.

    The runtime has nowhere to create the RDT group and fails.
    """
    if ctx.host and ctx.host.resctrl is False and ctx.linux.get("intelRdt") is not None:
        yield Hit("/linux/intelRdt", "resctrl is not mounted on this host")


@rule(
    "OCP355",
    "user-namespaces-disabled",
    "error",
    fix="raise user.max_user_namespaces on the host, or drop the user namespace",
    host_specific=True,
)
def userns_disabled(ctx: LintContext) -> Iterator[Hit]:
    """A user namespace is requested but this host allows none (max_user_namespaces is 0).

    clone(CLONE_NEWUSER) fails with ENOSPC, so the container cannot start.
    """
    if ctx.host and ctx.host.max_user_namespaces == 0 and "user" in ctx.namespaces:
        i = ctx.namespaces["user"][0]
        yield Hit(f"/linux/namespaces/{i}", "user namespaces are disabled on this host")
