"""The spawn pass: fewer processes and no cgroup migration, shown in the plan.

The concerns lower the spawn the way runc's nsexec does it: a plain
``clone``, the runtime writes the init's pid to each ``cgroup.procs``, the
init joins (``setns``) and creates (``unshare``) namespaces, and forks when a
pid or time namespace must apply. This pass, run on the merged plan, rewrites
that into the cheaper equivalent that the executor runs as printed:

* **Fold the leading unshare into the clone.** Namespaces the init would
  create before anything else (before any ``setns``) are created by the
  clone itself; with CLONE_NEWUSER in the same call the kernel still makes
  the user namespace the owner of the others. The cgroup namespace is never
  folded (it must be created after the cgroup join), nor the time namespace
  (its offsets are written before a process lives in it). CLONE_NEWPID stays
  with the unshare when a real fork is still needed (a new time namespace or
  a joined pid namespace): the fork's child, not the exiting parent, must be
  pid 1 of the new pid namespace.
* **Drop the fork** the new pid namespace needed, once CLONE_NEWPID is in
  the clone: the init is pid 1 already.
* **Start the init in its cgroup2 directory** (``Clone.cgroup``: clone3 with
  CLONE_INTO_CGROUP, Linux 5.7+) instead of writing its pid there: the
  first pid written to a cgroup2 ``cgroup.procs`` waits for an RCU grace
  period.
* **The init joins its v1 cgroups itself** when there is no new user
  namespace: it writes "0" to each hierarchy's ``tasks`` file, before it
  enters any namespace (a single-threaded process moving itself skips the
  grace period too). In a new user namespace those files belong to host
  root, so the runtime keeps writing the pid.
"""

from __future__ import annotations

import posixpath

from ocitool import records
from ocitool.lower.cgroups import paths
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.cgroup import CgroupJoin
from ocitool.plan.ops.namespaces import Clone, Fork, Setns, Unshare

NEVER_FOLDED = frozenset({"CLONE_NEWCGROUP", "CLONE_NEWTIME"})
CLONE_INTO_CGROUP_KERNEL = (5, 7)


def _is_init_create(op: Op) -> bool:
    return op.phase.process == "init" and op.phase.command == "create"


def fold_spawn(ops: list[Op], host: HostInfo, ctx: LowerContext) -> list[Op]:
    """``ops`` with the spawn rewritten as the module docstring says (a new list)."""
    clone_at = next((i for i, op in enumerate(ops) if isinstance(op, Clone)), None)
    if clone_at is None:
        return list(ops)
    clone = ops[clone_at]
    assert isinstance(clone, Clone)
    flags = list(clone.flags)
    init_ops = [i for i in range(clone_at + 1, len(ops)) if _is_init_create(ops[i])]

    not_folded = set(NEVER_FOLDED)
    if any(
        (isinstance(ops[i], Unshare) and "CLONE_NEWTIME" in ops[i].flags)  # type: ignore[attr-defined]
        or (isinstance(ops[i], Setns) and ops[i].nstype == "CLONE_NEWPID")  # type: ignore[attr-defined]
        for i in init_ops
    ):
        not_folded.add("CLONE_NEWPID")

    replaced: dict[int, Op | None] = {}  # op index -> new op (None: dropped)
    seen_other = False
    needs_fork = False
    forks: list[int] = []
    for i in init_ops:
        op = ops[i]
        if isinstance(op, Unshare):
            keep = op.flags
            if not seen_other:
                flags += [f for f in op.flags if f not in not_folded and f not in flags]
                keep = tuple(f for f in op.flags if f in not_folded)
                replaced[i] = records.replace(op, flags=keep) if keep else None
            needs_fork |= bool({"CLONE_NEWPID", "CLONE_NEWTIME"} & set(keep))
        elif isinstance(op, Fork):
            forks.append(i)
        else:
            if isinstance(op, Setns) and op.nstype == "CLONE_NEWPID":
                needs_fork = True
            seen_other = True
    if "CLONE_NEWPID" in flags and not needs_fork:
        replaced.update(dict.fromkeys(forks))
    userns = "CLONE_NEWUSER" in flags or any(
        isinstance(ops[i], Unshare) and "CLONE_NEWUSER" in ops[i].flags  # type: ignore[attr-defined]
        for i in init_ops
    )

    into_cgroup = ""
    self_joins: list[Op] = []
    cgroup2 = _cgroup2_dirs(host, ctx)
    for i in range(clone_at + 1, len(ops)):
        op = ops[i]
        if not isinstance(op, CgroupJoin) or op.phase is not Phase.CREATE_SPAWN:
            continue
        cgdir = posixpath.dirname(op.path)
        v2 = cgdir in cgroup2
        if v2 and not into_cgroup and host.kernel_at_least(*CLONE_INTO_CGROUP_KERNEL):
            into_cgroup = cgdir
            replaced[i] = None
        elif not userns:
            target = op.path if v2 else posixpath.join(cgdir, "tasks")
            self_joins.append(
                CgroupJoin(phase=Phase.CREATE_NAMESPACES, source=op.source, path=target, pid="0")
            )
            replaced[i] = None

    out: list[Op] = []
    for i, op in enumerate(ops):
        if i == clone_at:
            op = records.replace(clone, flags=tuple(flags), cgroup=into_cgroup)
        elif i in replaced:
            new = replaced[i]
            if new is None:
                continue
            op = new
        if self_joins and op.phase.order >= Phase.CREATE_NAMESPACES.order:
            out += self_joins  # first thing the init does: before any setns
            self_joins = []
        out.append(op)
    return out + self_joins


def _cgroup2_dirs(host: HostInfo, ctx: LowerContext) -> set[str]:
    """The container's directories in a cgroup2 hierarchy (v2, or hybrid's unified one)."""
    if paths.driver(host) != "v1":
        return {paths.v2_dir(host, ctx.cgroup_path)}
    unified = paths.hybrid_unified_dir(host, ctx.cgroup_path)
    return {unified} if unified else set()
