"""Appliers for :mod:`ocitool.plan.ops.rootless`: the id-map helpers and the cgroup note.

``newuidmap``/``newgidmap`` are looked up on PATH when the op runs, as runc
does (its lookup happens before it starts the init); a missing helper or a
refusal (the ranges are not granted in /etc/subuid or /etc/subgid) is an
error with its own code, carrying the helper's message.
"""

from __future__ import annotations

import os

from ocitool.exec.apply.base import applies, pid_text
from ocitool.exec.context import ExecContext
from ocitool.exec.syscalls import exec_error
from ocitool.idmaptool import helper_argv
from ocitool.plan.ops.rootless import CgroupsSkipped, IdMapHelper

HELPER_MISSING = "OCI540"
HELPER_FAILED = "OCI541"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SUBID_FILE = {"newuidmap": "/etc/subuid", "newgidmap": "/etc/subgid"}


def find_helper(ctx: ExecContext, name: str) -> str | None:
    """The first executable regular file ``name`` on PATH (runc: exec.LookPath)."""
    for directory in (os.getenv("PATH") or DEFAULT_PATH).split(":"):
        if not directory.startswith("/"):
            continue  # a relative PATH entry would depend on the cwd
        path = os.path.join(directory, name)
        st = ctx.sys.try_stat(path)
        if not isinstance(st, int) and st.st_mode & 0o170000 == 0o100000 and st.st_mode & 0o111:
            return path
    return None


@applies(IdMapHelper)
def idmap_helper(op: IdMapHelper, ctx: ExecContext) -> None:
    path = find_helper(ctx, op.helper)
    if path is None:
        raise exec_error(
            f"{op.helper} is not installed (not found on PATH): a rootless container whose "
            f"map is more than the runtime's own id needs it",
            HELPER_MISSING,
            pointer=op.source,
            hint="install the uidmap package (apt-get install uidmap), or map only your own "
            "uid/gid with size 1",
        )
    argv = helper_argv(op.helper, pid_text(ctx, op.pid), op.mappings)
    status, err = ctx.sys.run_helper(path, argv)
    if status != 0:
        said = err.decode("utf-8", "replace").strip().splitlines()
        raise exec_error(
            f"{op.helper} refused the map ({', '.join(' '.join(map(str, m)) for m in op.mappings)})"
            f": {said[-1] if said else f'exit status {status}'}",
            HELPER_FAILED,
            pointer=op.source,
            hint=f"grant the host ranges to this user in {SUBID_FILE[op.helper]} (usermod "
            "--add-subuids/--add-subgids), or change the config's mappings",
        )


@applies(CgroupsSkipped)
def cgroups_skipped(op: CgroupsSkipped, ctx: ExecContext) -> None:
    """Nothing to do: the op is the plan's statement that there is no cgroup."""
