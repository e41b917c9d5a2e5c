"""The ``--no-pivot`` pass: enter the rootfs with MS_MOVE + chroot instead of pivot_root.

pivot_root(2) fails when the current root is not a mount point (a
ramdisk/initramfs root), which is why runc has ``--no-pivot``. As runc's
msMoveRoot does, after ``chdir(rootfs)`` the rootfs mount is moved onto "/"
and the process chroots into it. Weaker than pivot_root (the old root stays
reachable to a process that escapes the chroot, e.g. with CAP_SYS_CHROOT),
so it is only used on request: ``ocitool plan --no-pivot`` prints the plan
``ocitool-runc create --no-pivot`` runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocitool.plan.ops.fs import Chroot, Mount, PivotRoot

# pivot_root(".", ".") is followed by these two, which only make sense after it:
# the old root made a slave, then detached.
_AFTER_PIVOT = ("make_propagation", "umount2")


def replace_pivot(ops: Sequence[Any]) -> list[Any]:
    """pivot_root + make-slave + umount of the old root -> mount(".", "/", MS_MOVE) +
    chroot(".") (``lower(..., no_pivot=True)``; the option is part of the plan cache key)."""
    out: list[Any] = []
    skip = 0
    for op in ops:
        if skip and op.name in _AFTER_PIVOT and op.target == ".":
            skip -= 1
            continue
        skip = 0
        if op.name == PivotRoot.name:
            out.append(
                Mount(phase=op.phase, source=op.source, src=".", target="/", flags=("MS_MOVE",))
            )
            out.append(Chroot(phase=op.phase, source=op.source, path="."))
            skip = len(_AFTER_PIVOT)
            continue
        out.append(op)
    return out
