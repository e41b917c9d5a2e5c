"""``--no-pivot``: enter the rootfs with MS_MOVE + chroot instead of pivot_root.

pivot_root(2) fails when the current root is not a mount point (a
ramdisk/initramfs root), which is why runc has ``--no-pivot``. Like runc's
msMoveRoot, after ``chdir(rootfs)`` the rootfs mount is moved onto "/" and
the process chroots into it. Weaker than pivot_root (the old root stays
reachable to a process that escapes the chroot, e.g. with CAP_SYS_CHROOT),
so it is only used on request. The plan is rewritten, so ``--debug`` and
the error messages show the ops that really ran.
"""

from __future__ import annotations

from ocitool import lightos as os
from ocitool.exec.apply import APPLIERS, drop_resolvers
from ocitool.exec.context import ExecContext

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (hot path)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any


def _chroot(op: Any, ctx: ExecContext) -> None:
    drop_resolvers(ctx)
    os.chroot(op.path)


APPLIERS.setdefault("chroot", _chroot)


def replace_pivot(ops: Sequence[Any]) -> list[Any]:
    """pivot_root + make-slave + umount of the old root -> mount(".", "/", MS_MOVE) + chroot(".")."""
    from ocitool.plan.ops.fs import Chroot, Mount

    out: list[Any] = []
    skip = 0
    for op in ops:
        if skip and op.name in ("make_propagation", "umount2") and op.target == ".":
            skip -= 1
            continue
        skip = 0
        if op.name == "pivot_root":
            out.append(
                Mount(phase=op.phase, source=op.source, src=".", target="/", flags=("MS_MOVE",))
            )
            out.append(Chroot(phase=op.phase, source=op.source, path="."))
            skip = 2
            continue
        out.append(op)
    return out
