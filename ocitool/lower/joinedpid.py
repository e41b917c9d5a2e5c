"""A joined pid namespace: fork into it only once the root is the container's.

WHY: ``setns`` into a pid namespace applies to the caller's children, so the
init forks. The fork's child is visible to every process already in that
namespace (a pod's, ``podman --pid container:X``'s) from the fork on; a holder
of CAP_SYS_PTRACE there can open its ``/proc/PID/root`` and ``cwd``. Forked
before the mounts (where the other pid namespaces fork), the child would still
have the host's root and working directory until ``pivot_root``: host files in
reach (docs/security.md). runc and crun have that window.

So for a joined pid namespace the pre-fork process does the rootfs mounts and
the root switch itself (``pivot_root`` and the ``chdir("/")`` after it, or the
``chroot`` that stands in for it), and the fork comes right after. Only what
must be done from inside the pid namespace moves after the fork with it: the
proc mount (procfs shows the pid namespace of the process that mounts it), now
made at ``/proc`` of the new root. A bind mount onto a file under ``/proc``
(lxcfs) would need its host source after the root switch: refused (OCI371).

The plan verifier checks the rule (lower/verify.py ``_joined_pid_order``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ocitool import records
from ocitool.lower.context import LowerContext
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.fs import BindMount, Chroot, Mount, PivotRoot
from ocitool.plan.ops.namespaces import Fork, Setns


def joins_pid_namespace(ops: Sequence[Op]) -> bool:
    return any(isinstance(op, Setns) and op.nstype == "CLONE_NEWPID" for op in ops)


def in_proc(op: Op) -> bool:
    """An op that creates or mounts something at or below ``/proc`` of the rootfs."""
    where = op.target if isinstance(op, Mount) else getattr(op, "path", None)
    return (
        getattr(op, "root", None) is not None
        and isinstance(where, str)
        and (where == "/proc" or where.startswith("/proc/"))
    )


def root_switched(ops: Sequence[Op]) -> int:
    """Index of the op after which the root and cwd are the container's, or -1: the
    ``chdir("/")`` after ``pivot_root``, or the ``chroot`` (which also changes cwd)."""
    for i, op in enumerate(ops):
        if isinstance(op, Chroot):
            return i
        if isinstance(op, PivotRoot):
            for k in range(i + 1, len(ops)):
                if ops[k].name == "chdir" and getattr(ops[k], "path", None) == "/":
                    return k
            return -1
    return -1


def fork_after_root_switch(ops: list[Op], ctx: LowerContext) -> list[Op]:
    """Move the fork of a joined pid namespace (and the proc mount) after the root switch."""
    if not joins_pid_namespace(ops):
        return ops
    fork = next((op for op in ops if isinstance(op, Fork)), None)
    end = root_switched(ops)
    if fork is None or end < 0:
        return ops
    moved: list[Op] = []
    for op in ops[:end]:
        if not in_proc(op):
            continue
        if isinstance(op, BindMount) or op.name.endswith("bind_mount"):
            raise ctx.error(
                op.source or "/mounts",
                f"a bind mount onto {getattr(op, 'target', '?')} cannot be made in a "
                "container that joins a pid namespace: /proc is mounted from inside it, "
                "after the root switch, where the host source is out of reach",
                code="OCI371",
                hint="drop the mount, or give the container its own pid namespace",
            )
        moved.append(records.replace(op, root=None, phase=Phase.CREATE_PIVOT))
    skip = {id(fork)} | {id(op) for op in ops[:end] if in_proc(op)}
    after = records.replace(fork, phase=Phase.CREATE_PIVOT)
    out: list[Op] = []
    for i, op in enumerate(ops):
        if id(op) not in skip:
            out.append(op)
        if i == end:
            out.append(after)
            out.extend(moved)
    return out
