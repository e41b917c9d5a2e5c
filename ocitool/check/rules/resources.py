"""Resource values this host's kernel refuses, or that kill the container at once.

A cpuset outside the parent cgroup's CPUs or memory nodes is refused with
EINVAL when written; a memory limit below what the init needs to reach
``execve`` is accepted, and then the init is OOM-killed before the
container's program starts, which the runtime reports as its init having
exited.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from ocitool.check.context import CheckContext
from ocitool.check.facts import parse_list
from ocitool.check.registry import Finding, check
from ocitool.plan.ops.cgroup import CgroupWrite

# The least memory ocitool's init is charged for between joining the cgroup and
# execve (its copy-on-write pages and page tables), rounded up; see docs/check.md.
INIT_MEMORY_FLOOR = 1 << 20

_MEMORY_FILES = ("memory.limit_in_bytes", "memory.max")
_CPUSET_FILES = {"cpuset.cpus": "cpus", "cpuset.mems": "mems"}


@check(
    "OCH501",
    "memory-limit-too-low",
    "error",
    fix="raise linux.resources.memory.limit (at least a few MiB for a shell)",
)
def memory_limit_too_low(ctx: CheckContext) -> Iterator[Finding]:
    """The memory limit is below what the container's init needs to start.

    The limit is written before the init joins the cgroup; the init is then
    charged for the pages it touches until execve, is OOM-killed, and the
    runtime only sees its init exit (runc: "unable to set memory limit ...
    current usage").
    """
    for i, op in ctx.each(CgroupWrite):
        if os.path.basename(op.path) not in _MEMORY_FILES or not op.value.isdigit():
            continue
        limit = int(op.value)
        if limit < INIT_MEMORY_FLOOR:
            yield Finding(
                op.source or "/linux/resources/memory/limit",
                f"memory limit {limit} bytes is below the {INIT_MEMORY_FLOOR} bytes the init "
                "needs before execve: it would be OOM-killed",
                i,
            )


def _allowed(ctx: CheckContext, path: str, what: str) -> tuple[frozenset[int], str] | None:
    """The CPUs/nodes the nearest existing ancestor of cgroup file ``path`` allows."""
    directory = os.path.dirname(os.path.dirname(path))
    while directory and directory != "/":
        for name in (f"cpuset.{what}.effective", f"cpuset.effective_{what}", f"cpuset.{what}"):
            text = ctx.facts.cgroup_file(os.path.join(directory, name))
            if text is not None and text.strip():
                try:
                    return parse_list(text), os.path.join(directory, name)
                except ValueError:
                    return None
        directory = os.path.dirname(directory)
    return None


@check(
    "OCH502",
    "cpuset-not-allowed",
    "error",
    fix="use CPUs / memory nodes from the parent cgroup's cpuset (see the file named)",
)
def cpuset_not_allowed(ctx: CheckContext) -> Iterator[Finding]:
    """The cpuset names CPUs or memory nodes the parent cgroup does not allow.

    The kernel refuses the cpuset write with EINVAL (a cpuset must be a
    subset of its parent's), so the create fails on a cgroup file.
    """
    for i, op in ctx.each(CgroupWrite):
        what = _CPUSET_FILES.get(os.path.basename(op.path))
        if what is None or not op.value.strip():
            continue
        try:
            wanted = parse_list(op.value)
        except ValueError:
            continue
        allowed = _allowed(ctx, op.path, what)
        if allowed is None:
            continue
        extra = sorted(wanted - allowed[0])
        if extra:
            kind = "CPU(s)" if what == "cpus" else "memory node(s)"
            yield Finding(
                op.source or f"/linux/resources/cpu/{what}",
                f"{kind} {','.join(map(str, extra))} are not in {allowed[1]} "
                f"({','.join(map(str, sorted(allowed[0])))})",
                i,
            )
