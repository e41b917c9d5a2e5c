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
  ``wait_start`` (handover) last; with a joined pid namespace the fork and the
  proc mount come right after the root switch (:mod:`ocitool.lower.joinedpid`);
* exec: LSM labels, process attributes, chdir, [early seccomp], user/groups,
  capabilities, umask, no_new_privs, seccomp, execve;
* delete: kill (teardown) before the cgroup is removed.
"""

from __future__ import annotations

import os

from ocitool.errors import InternalError, LoweringError
from ocitool.ids import check_id
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.lower.joinedpid import fork_after_root_switch
from ocitool.lower.nopivot import replace_pivot
from ocitool.lower.spawn import fold_spawn
from ocitool.plan.ops.base import Op
from ocitool.plan.plan import Plan, check_order
from ocitool.spec.model import Spec


def merge(groups: list[list[Op]]) -> list[Op]:
    """Concatenate the concerns' ops and order them by phase, keeping concern order within one."""
    flat = [op for group in groups for op in group]
    return sorted(flat, key=lambda op: op.phase.order)


def lower(
    spec: Spec,
    host: HostInfo,
    *,
    container_id: str,
    bundle: str,
    systemd_cgroup: bool = False,
    no_pivot: bool = False,
    no_new_keyring: bool = False,
) -> Plan:
    """The Plan for running ``spec`` as ``container_id`` from ``bundle`` on ``host``
    (``systemd_cgroup``: the systemd cgroup driver, ``--systemd-cgroup``; ``no_pivot``:
    MS_MOVE + chroot instead of pivot_root, :mod:`ocitool.lower.nopivot`; ``no_new_keyring``:
    no session keyring op, the process keeps the runtime's, ``--no-new-keyring``)."""
    # The id becomes a path component (cgroup, resctrl, state dir): keep it one.
    check_id(container_id, LoweringError, "OCI312")
    ctx = LowerContext(
        spec=spec,
        host=host,
        container_id=container_id,
        bundle=os.path.abspath(bundle),
        systemd_cgroup=systemd_cgroup,
        no_new_keyring=no_new_keyring,
    )
    from ocitool.lower.concerns import CONCERNS
    from ocitool.lower.verify import verify_plan

    ops = fold_spawn(merge([fn(spec, host, ctx) for _, fn in CONCERNS]), host, ctx)
    ops = fork_after_root_switch(ops, ctx)  # a joined pid namespace: no host root in it
    if no_pivot:
        ops = replace_pivot(ops)
    missing = verify_plan(
        spec,
        ops,
        diagnostics=ctx.diagnostics,
        euid=host.euid,
        no_pivot=no_pivot,
        no_new_keyring=no_new_keyring,
    )
    if missing:
        raise InternalError(
            message="internal error: the plan lacks ops the config asks for: " + "; ".join(missing),
            code="OCI398",
            hint="this is a bug in ocitool's lowering; please report it with the config",
        )
    problems = check_order(ops)
    if problems:
        raise InternalError(
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
