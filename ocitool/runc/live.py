"""Plans for changing a created container from outside: ``update``, ``pause``/``resume``, ``kill``.

runc's ``update``, ``pause``, ``resume`` and ``kill`` act on a running
container. Here each is a small plan of ``live``-phase ops, lowered from
what ``create`` stored (the container's cgroup directories, its saved
config) and this host's facts, and applied by the executor like any other
plan (``ocitool-runc --debug`` logs each op's line) through :func:`apply`. The
lowering functions are pure, as all lowering.
It lives with the runc command line rather than in ``ocitool.lower`` because
importing that package loads the whole spec model.
"""

from __future__ import annotations

import os

from ocitool.exec.syscalls import TYPE_CHECKING
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.cgroup import (
    CgroupFreeze,
    CgroupSignal,
    CgroupWrite,
    SetUnitProperties,
    StartTransientUnit,
)
from ocitool.plan.ops.process import SignalInit

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from ocitool.exec.state import State
    from ocitool.lower.host import HostInfo
    from ocitool.runc.common import Globals

FREEZE_KERNEL = (5, 2)  # cgroup.freeze in cgroup2
# Files create writes that update must not write again: the device policy, and
# controllers enabled in the parent (they are not the container's limits).
_NOT_LIMITS = ("devices.", "cgroup.subtree_control")


def _is_cgroup2(host: HostInfo, directory: str) -> bool:
    root = host.unified_mount or ("/sys/fs/cgroup" if host.cgroup == "v2" else "")
    return bool(root) and (directory == root or directory.startswith(root.rstrip("/") + "/"))


def freeze_ops(host: HostInfo, dirs: Sequence[str], frozen: bool) -> list[Op]:
    """Freeze (pause) or thaw (resume) the container: v1's freezer controller where it has
    one, else cgroup2's cgroup.freeze. No freezer at all is a coded error."""
    for d in dirs:
        if "/freezer/" in d or d.endswith("/freezer"):
            return [
                CgroupFreeze(phase=Phase.LIVE, source=None, path=d, version="v1", frozen=frozen)
            ]
    for d in dirs:
        if _is_cgroup2(host, d) and host.kernel_at_least(*FREEZE_KERNEL):
            return [
                CgroupFreeze(phase=Phase.LIVE, source=None, path=d, version="v2", frozen=frozen)
            ]
    from ocitool.errors import LoweringError

    raise LoweringError(
        message="the container has no freezer cgroup",
        code="OCI510",
        hint="pause needs the v1 freezer controller or cgroup v2 (Linux 5.2+)",
    )


def pids_file(dirs: Sequence[str]) -> str | None:
    """The cgroup.procs that lists the container's processes (the pids hierarchy first)."""
    ordered = sorted(dirs, key=lambda d: ("/pids/" not in d, "/memory/" not in d))
    return os.path.join(ordered[0], "cgroup.procs") if ordered else None


def signal_init_ops(signal: str, start_time: int | None) -> list[Op]:
    """``kill``: the init, through a pidfd, if it is still the process that was started."""
    return [SignalInit(phase=Phase.LIVE, source=None, signal=signal, start_time=start_time)]


def signal_all_ops(dirs: Sequence[str], signal: str) -> list[Op]:
    """``kill --all``: every process the container's cgroup lists."""
    procs = pids_file(dirs)
    if procs is None:
        return []
    return [CgroupSignal(phase=Phase.LIVE, source=None, path=procs, signal=signal)]


def kill_paused_ops(host: HostInfo, dirs: Sequence[str]) -> list[Op]:
    """Before a paused container is deleted: queue SIGKILL for every process, then thaw
    (a frozen process cannot die)."""
    return signal_all_ops(dirs, "SIGKILL") + freeze_ops(host, dirs, False)


def update_ops(ops: Iterable[Op], dirs: Sequence[str], rdt: bool = False) -> list[Op]:
    """``update``: the limit writes of the re-lowered plan into the container's own
    cgroup directories, as live ops (the device policy and parents are left alone);
    with ``rdt`` also its resctrl ``schemata`` write (from linux.intelRdt)."""
    out: list[Op] = []
    for op in ops:
        if isinstance(op, StartTransientUnit):
            out.insert(0, unit_limits_op(op))
            continue
        # create.spawn: the systemd driver writes the files once its unit exists
        if not isinstance(op, CgroupWrite) or op.phase not in (
            Phase.CREATE_RUNTIME,
            Phase.CREATE_SPAWN,
        ):
            continue
        if rdt and op.source and op.source.startswith("/linux/intelRdt"):
            out.append(
                CgroupWrite(phase=Phase.LIVE, source=op.source, path=op.path, value=op.value)
            )
            continue
        if os.path.basename(op.path).startswith(_NOT_LIMITS):
            continue
        if any(op.path.startswith(d.rstrip("/") + "/") for d in dirs):
            out.append(
                CgroupWrite(phase=Phase.LIVE, source=op.source, path=op.path, value=op.value)
            )
    return out


def unit_limits_op(start: StartTransientUnit) -> SetUnitProperties:
    """The systemd driver's part of ``update``: the unit's properties that come from
    ``linux.resources``, sent again. As runc's update: placement, PIDs and annotations
    were the unit's at creation and cannot change, and neither can the device rules
    (``update`` takes none, and DeviceAllow= would add up)."""
    props = tuple(
        p
        for p in start.properties
        if (p[3] or "").startswith("/linux/resources/") and not p[0].startswith("Device")
    )
    return SetUnitProperties(
        phase=Phase.LIVE, source=start.source, unit=start.unit, properties=props
    )


def apply(g: Globals, st: State, ops: list[Op]) -> None:
    """Apply a live plan to the container ``st``; ``--debug`` logs each op's line."""
    from ocitool.exec import lifecycle
    from ocitool.exec.context import ExecContext
    from ocitool.exec.linux import LinuxSyscalls

    for op in ops:
        g.log.debug(f"{st.id}: {op.text()}")
    ctx = ExecContext(sys=LinuxSyscalls(), container_id=st.id, bundle=st.bundle, pid=st.pid)
    lifecycle.apply_live(ops, ctx)
