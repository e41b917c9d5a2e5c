"""Appliers for :mod:`ocitool.plan.ops.namespaces` (``clone`` and ``fork`` move control
between processes and live in :mod:`ocitool.exec.process`)."""

from __future__ import annotations

import errno as _errno
import os

from ocitool.exec import flags as F
from ocitool.exec.apply.base import applies, pid_text
from ocitool.exec.context import ExecContext
from ocitool.exec.syscalls import (
    sys_error,
)
from ocitool.plan.ops.namespaces import (
    NetDeviceMove,
    Setdomainname,
    Sethostname,
    Setns,
    Unshare,
)


# ---------------------------------------------------------------- namespaces
@applies(Unshare)
def unshare(op: Unshare, ctx: ExecContext) -> None:
    ctx.sys.unshare(F.clone_flags(op.flags))


@applies(Setns)
def setns(op: Setns, ctx: ExecContext) -> None:
    fd = ctx.sys.open(op.path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        ctx.sys.setns(fd, F.clone_flags((op.nstype,)))
    finally:
        ctx.sys.close(fd)


@applies(Sethostname)
def sethostname(op: Sethostname, ctx: ExecContext) -> None:
    ctx.sys.sethostname(op.hostname)


@applies(Setdomainname)
def setdomainname(op: Setdomainname, ctx: ExecContext) -> None:
    ctx.sys.setdomainname(op.domainname)


@applies(NetDeviceMove)
def netdev_move(op: NetDeviceMove, ctx: ExecContext) -> None:
    """Move a host interface into the container's netns (iproute2 speaks netlink for us).

    No undo: when the namespace dies with the init, the kernel moves a physical
    device back to the host and destroys a virtual one.
    """
    import subprocess

    target = pid_text(ctx, op.netns)
    if target.startswith("/proc/"):
        target = target.split("/")[2]
    argv = ["ip", "link", "set", "dev", op.device, "netns", target]
    if op.new_name and op.new_name != op.device:
        argv += ["name", op.new_name]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise sys_error(" ".join(argv), (proc.stderr.strip(),), _errno.EINVAL)
