"""Appliers for :mod:`ocitool.plan.ops.cgroup`: directories, limits, joins, freezer, removal."""

from __future__ import annotations

import errno as _errno
import os

from ocitool.exec import flags as F
from ocitool.exec.apply.base import applies, pid_text
from ocitool.exec.context import ExecContext
from ocitool.exec.syscalls import (
    error_errno,
    exec_error,
)
from ocitool.plan.ops.cgroup import (
    CgroupDeviceProgram,
    CgroupFreeze,
    CgroupJoin,
    CgroupMkdir,
    CgroupRemove,
    CgroupSignal,
    CgroupWrite,
    SetUnitProperties,
    StartTransientUnit,
    StopUnit,
    UnitProperty,
)


# ---------------------------------------------------------------- cgroups
@applies(CgroupMkdir)
def cgroup_mkdir(op: CgroupMkdir, ctx: ExecContext) -> None:
    """mkdir -p; the container's own directory is removed by rollback/delete.

    v1 cpuset directories start with empty ``cpuset.cpus``/``cpuset.mems`` and
    refuse tasks until they are filled: ``copy_from_parent`` copies them down.
    """
    missing = []
    leaf = op.path.rstrip("/")
    path = leaf
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for p in reversed(missing):
        try:
            ctx.sys.mkdir(p, 0o755)
        except Exception as exc:
            if error_errno(exc) != _errno.EEXIST:
                raise
            continue
        if p == leaf:  # shared parents (e.g. /ocitool) stay for other containers
            ctx.rollback.push("rmdir_cgroup", [p], f"rmdir {p}")
        for name in getattr(op, "copy_from_parent", ()):
            _copy_from_parent(ctx, p, name)


def _copy_from_parent(ctx: ExecContext, path: str, name: str) -> None:
    with open(os.path.join(path, name), "rb") as f:
        if f.read().strip():
            return
    with open(os.path.join(os.path.dirname(path), name), "rb") as f:
        value = f.read().strip()
    if value:
        ctx.sys.write_file(os.path.join(path, name), value)


@applies(CgroupWrite)
def cgroup_write(op: CgroupWrite, ctx: ExecContext) -> None:
    try:
        ctx.sys.write_file(op.path, op.value.encode())
    except Exception as exc:
        if os.path.basename(op.path) != "cgroup.subtree_control":
            raise
        if error_errno(exc) not in _CONTROLLER_ERRNOS:
            raise
        _enable_one_by_one(op, ctx, exc)


@applies(CgroupFreeze)
def cgroup_freeze(op: CgroupFreeze, ctx: ExecContext) -> None:
    """Write the freezer state, then wait until the kernel reports it (see CgroupFreeze)."""
    import time

    if op.version == "v1":
        state = check = os.path.join(op.path, "freezer.state")
        want = b"FROZEN" if op.frozen else b"THAWED"
        reached = want
    else:
        state = os.path.join(op.path, "cgroup.freeze")
        check = os.path.join(op.path, "cgroup.events")
        want = b"1" if op.frozen else b"0"
        reached = b"frozen " + want
    deadline = time.monotonic() + op.timeout_ms / 1000
    ctx.sys.write_file(state, want)
    while reached not in (line.strip() for line in ctx.sys.read_file(check).split(b"\n")):
        if time.monotonic() > deadline:
            if op.frozen:  # never leave it half frozen
                ctx.sys.write_file(state, b"THAWED" if op.version == "v1" else b"0")
            what = "freezing" if op.frozen else "thawing"
            raise exec_error(f"timed out {what} {op.path}", "OCI510")
        time.sleep(0.001)
        if op.version == "v1":  # v1 says FREEZING meanwhile: write again until it sticks
            ctx.sys.write_file(state, want)


@applies(CgroupSignal)
def cgroup_signal(op: CgroupSignal, ctx: ExecContext) -> None:
    """Signal every pid the cgroup lists; one that exited meanwhile is no error."""
    sig = F.signal_number(op.signal)
    for pid in sorted(int(x) for x in ctx.sys.read_file(op.path).split()):
        try:
            ctx.sys.kill(pid, sig)
        except Exception as exc:
            if error_errno(exc) != _errno.ESRCH:
                raise


# what cgroup.subtree_control answers for a controller it cannot enable here:
# unknown (EINVAL), not offered by the parent (ENOENT), or not supported
_CONTROLLER_ERRNOS = (_errno.EINVAL, _errno.ENOENT, _errno.EOPNOTSUPP)


def _enable_one_by_one(op: CgroupWrite, ctx: ExecContext, first: Exception) -> None:
    """The kernel refuses a whole ``+a +b +c`` write when one controller cannot be
    enabled; enable the others one at a time, as runc and crun do. A limit that needs
    a missing controller then fails on its own file, which names it. Nothing enabled
    at all is the first error."""
    enabled = 0
    for token in op.value.split():
        try:
            ctx.sys.write_file(op.path, token.encode())
            enabled += 1
        except Exception as exc:
            if error_errno(exc) not in _CONTROLLER_ERRNOS:
                raise
    if not enabled:
        raise first


@applies(CgroupJoin)
def cgroup_join(op: CgroupJoin, ctx: ExecContext) -> None:
    """Write the init's pid (runtime side) or "0" (the init moving itself) to ``op.path``."""
    ctx.sys.write_file(op.path, pid_text(ctx, op.pid).encode())


BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
BPF_ATTACH_FLAGS = {"BPF_F_ALLOW_OVERRIDE": 1, "BPF_F_ALLOW_MULTI": 2, "BPF_F_REPLACE": 4}


@applies(CgroupDeviceProgram)
def cgroup_device_program(op: CgroupDeviceProgram, ctx: ExecContext) -> None:
    """cgroup v2 device policy: load the compiled program, attach it to the cgroup.

    The attachment holds the program; it goes away with the cgroup directory,
    so there is nothing to undo besides the cgroup itself.
    """
    prog = ctx.sys.bpf_prog_load(
        BPF_PROG_TYPE_CGROUP_DEVICE, bytes.fromhex(op.bytecode), op.license, BPF_CGROUP_DEVICE
    )
    try:
        target = ctx.sys.open(op.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            flags = 0
            for name in op.attach_flags:
                flags |= BPF_ATTACH_FLAGS[name]
            ctx.sys.bpf_prog_attach(target, prog, BPF_CGROUP_DEVICE, flags)
        finally:
            ctx.sys.close(target)
    finally:
        ctx.sys.close(prog)


@applies(CgroupRemove)
def cgroup_remove(op: CgroupRemove, ctx: ExecContext) -> None:
    from ocitool.exec.rollback import remove_cgroup_tree

    remove_cgroup_tree(ctx.sys, op.path)


# ---------------------------------------------------------------- systemd driver
@applies(StartTransientUnit)
def systemd_start_unit(op: StartTransientUnit, ctx: ExecContext) -> None:
    """Create the container's transient unit (systemd driver); its undo stops it.

    The undo is registered first: a start job that fails can leave the unit
    behind (loaded, failed), and stopping a unit that does not exist is fine.
    It runs after the init's kill (``push_under_kills``), as runc's delete kills
    before it stops the unit.
    """
    props = bus_properties(op.properties, ctx.pid)
    ctx.rollback.push_under_kills("stop_unit", [op.unit], f"stop unit {op.unit}")
    ctx.sys.systemd_start_unit(op.unit, op.mode, props)


@applies(SetUnitProperties)
def systemd_set_unit_properties(op: SetUnitProperties, ctx: ExecContext) -> None:
    ctx.sys.systemd_set_unit_properties(op.unit, bus_properties(op.properties, ctx.pid))


@applies(StopUnit)
def systemd_stop_unit(op: StopUnit, ctx: ExecContext) -> None:
    ctx.sys.systemd_stop_unit(op.unit, op.mode)


def bus_properties(
    properties: tuple[UnitProperty, ...], pid: int
) -> list[tuple[str, tuple[str, object]]]:
    """A plan op's unit properties as D-Bus wants them: ``(name, (signature, value))``."""
    return [(name, (sig, _unit_value(pid, sig, value))) for name, sig, value, _ in properties]


def _unit_value(pid: int, sig: str, value: object) -> object:
    """A plan property value for D-Bus: the init's pid filled in, bytes for ``ay``."""
    from ocitool.plan.ops.common import INIT_PID

    items = list(value) if isinstance(value, tuple | list) else []
    if sig == "ay":
        return bytes(items)
    if sig == "au":
        return [pid if v == INIT_PID else int(str(v)) for v in items]
    if sig.startswith("a("):
        return [tuple(item) if isinstance(item, tuple | list) else item for item in items]
    if sig.startswith("a"):
        return items
    return value
