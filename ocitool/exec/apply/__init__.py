"""Op appliers: one function per op kind, turning a plan op into Syscalls calls.

The executor never reads the config (DESIGN.md rule 2): everything an
applier needs is in the op. Appliers that change the host register their
undo in ``ctx.rollback``. One module per module of :mod:`ocitool.plan.ops`;
each applier's ``op`` parameter is typed with its op class, and
``@applies("name")`` registers it under that class's ``name`` (a unit test
checks the two agree). ``clone``, ``fork``, ``wait_start`` and ``start``
move control between processes and live in :mod:`ocitool.exec.process`.
"""

from __future__ import annotations

from ocitool.exec.apply import (  # noqa: F401
    cgroup,
    common,
    fs,
    hooks,
    namespaces,
    process,
    rootless,
    security,
)
from ocitool.exec.apply.base import APPLIERS, applies, drop_resolvers, resolver
from ocitool.exec.apply.prepare import prepare_init
from ocitool.exec.apply.process import resolve_exec_early

__all__ = [
    "APPLIERS",
    "applies",
    "drop_resolvers",
    "prepare_init",
    "resolve_exec_early",
    "resolver",
]
