"""Lowering: Spec + HostInfo -> Plan. Pure: no files are read, no system calls made.

Each concern lives in its own module and returns a list of ops tagged with
phases. :func:`lower` calls the concerns in a fixed order and merges their
ops by phase with a *stable* sort, so the order of two ops in the same phase
is the order of the concerns below (then the order each concern emitted).
That makes the within-phase rules explicit in one list:

* create.runtime: cgroup directories/limits, then the resctrl group (intelRdt);
* create.spawn: ``clone`` (namespaces), the initial CPU affinity, then the
  cgroup and resctrl joins;
* create.init: namespaces (fork, cgroup ns), hostname, process limits and
  sysctl, then the rootfs mounts (mounts);
* create.pivot: mounts (pivot_root, masked, readonly) then console and
  ``wait_start`` (handover) last;
* exec: LSM labels, process attributes, chdir, [early seccomp], user/groups,
  capabilities, umask, no_new_privs, seccomp, execve;
* delete: kill (teardown) before the cgroup is removed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from importlib import import_module

from ocitool.errors import LoweringError
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.lower.nopivot import replace_pivot
from ocitool.lower.spawn import fold_spawn
from ocitool.plan.ops.base import Op
from ocitool.plan.plan import Plan, check_order
from ocitool.spec.model import Spec

_ID = re.compile(r"[\w+\-.]+", re.ASCII)

Concern = Callable[[Spec, HostInfo, LowerContext], list[Op]]

# (module, function, owned by another helper => optional while it is being written)
CONCERNS: tuple[tuple[str, str, bool], ...] = (
    ("ocitool.lower.lifecycle", "lower_teardown", False),
    ("ocitool.lower.namespaces", "lower_namespaces", False),
    ("ocitool.lower.process", "lower_spawn_affinity", False),
    ("ocitool.lower.cgroups", "lower_cgroups", True),
    ("ocitool.lower.intelrdt", "lower_intel_rdt", False),
    ("ocitool.lower.uts", "lower_uts", False),
    ("ocitool.lower.process", "lower_process_setup", False),
    ("ocitool.lower.mounts", "lower_mounts", True),
    ("ocitool.lower.hooks", "lower_hooks", False),
    ("ocitool.lower.lifecycle", "lower_handover", False),
    ("ocitool.lower.process", "lower_process_exec", False),
    ("ocitool.lower.seccomp", "lower_seccomp_early", False),
    ("ocitool.lower.users", "lower_users", False),
    ("ocitool.lower.capabilities", "lower_capabilities", False),
    ("ocitool.lower.users", "lower_umask", False),
    ("ocitool.lower.process", "lower_no_new_privs", False),
    ("ocitool.lower.seccomp", "lower_seccomp", False),
    ("ocitool.lower.process", "lower_execve", False),
)


def concern_functions() -> list[tuple[str, Concern]]:
    """The concern functions available, in call order."""
    out: list[tuple[str, Concern]] = []
    for module_name, func_name, optional in CONCERNS:
        try:
            module = import_module(module_name)
        except ImportError:
            if optional:
                continue
            raise
        fn = getattr(module, func_name, None)
        if fn is None:
            if optional:
                continue
            raise ImportError(f"{module_name}.{func_name} is missing")
        out.append((f"{module_name.rsplit('.', 1)[-1]}.{func_name}", fn))
    return out


def merge(groups: list[list[Op]]) -> list[Op]:
    """Concatenate the concerns' ops and order them by phase, keeping concern order within one."""
    flat = [op for group in groups for op in group]
    return sorted(flat, key=lambda op: op.phase.order)


def lower(
    spec: Spec, host: HostInfo, *, container_id: str, bundle: str, no_pivot: bool = False
) -> Plan:
    """The Plan for running ``spec`` as ``container_id`` from ``bundle`` on ``host``
    (``no_pivot``: MS_MOVE + chroot instead of pivot_root, :mod:`ocitool.lower.nopivot`)."""
    if not _ID.fullmatch(container_id) or container_id in (".", ".."):
        # The id becomes a path component (cgroup, resctrl, state dir): keep it one.
        raise LoweringError(
            message=f"container id {container_id!r} is not valid",
            code="OCI312",
            expected="letters, digits and _ + - . (like runc), not '.' or '..'",
        )
    ctx = LowerContext(
        spec=spec, host=host, container_id=container_id, bundle=os.path.abspath(bundle)
    )
    groups = [fn(spec, host, ctx) for _, fn in concern_functions()]
    ops = fold_spawn(merge(groups), host, ctx)
    if no_pivot:
        ops = replace_pivot(ops)
    problems = check_order(ops)
    if problems:
        raise LoweringError(
            message="internal error: the plan breaks ordering rules: " + "; ".join(problems),
            code="OCI399",
            hint="this is a bug in ocitool's lowering; please report it with the config",
        )
    return Plan(
        host=host,
        ops=tuple(ops),
        diagnostics=tuple(ctx.diagnostics),
        container_id=container_id,
        bundle=ctx.bundle,
    )
