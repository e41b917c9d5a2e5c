"""Op appliers: one function per op kind, turning a plan op into Syscalls calls.

The executor never reads the config (DESIGN.md rule 2): everything an
applier needs is in the op. Appliers that change the host register their
undo in ``ctx.rollback``. One module per module of :mod:`ocitool.plan.ops`;
``@applies(MaskPath)`` registers an applier for an op class, and its ``op``
parameter is typed with that class (a unit test checks the two agree). ``clone``, ``fork``, ``wait_start`` and ``start``
move control between processes and live in :mod:`ocitool.exec.process`.

The package loads its modules on first use of one of its names (``APPLIERS``
and the helpers below): the engine needs all of them, a live plan
(:func:`ocitool.exec.lifecycle.apply_live`, e.g. ``ocitool-runc kill``) only the
module of each of its ops (:func:`applier_for`).
"""

from __future__ import annotations

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ocitool.exec.apply.base import APPLIERS, applies, drop_resolvers, resolver
    from ocitool.exec.apply.prepare import prepare_init
    from ocitool.exec.apply.process import resolve_exec_early
    from ocitool.exec.context import ExecContext

__all__ = [
    "APPLIERS",
    "applier_for",
    "applies",
    "drop_resolvers",
    "load_all",
    "prepare_init",
    "resolve_exec_early",
    "resolver",
]

MODULES = ("cgroup", "common", "fs", "hooks", "namespaces", "process", "rootless", "security")
"""One applier module per module of :mod:`ocitool.plan.ops`, with the same name."""


def load_all() -> None:
    """Import every applier module (each registers its appliers in ``APPLIERS``)."""
    for name in MODULES:
        __import__(f"ocitool.exec.apply.{name}")


def applier_for(op: Any) -> Callable[[Any, ExecContext], None] | None:
    """The applier of ``op``, importing only the applier module that mirrors the op's
    module (``ocitool.plan.ops.cgroup`` -> ``ocitool.exec.apply.cgroup``)."""
    from ocitool.exec.apply.base import APPLIERS

    fn = APPLIERS.get(op.name)
    if fn is None:
        module = type(op).__module__.rpartition(".")[2]
        if module in MODULES:
            __import__(f"ocitool.exec.apply.{module}")
            fn = APPLIERS.get(op.name)
    return fn


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module 'ocitool.exec.apply' has no attribute {name!r}")
    load_all()
    from ocitool.exec.apply import base, prepare, process

    value = {
        "APPLIERS": base.APPLIERS,
        "applies": base.applies,
        "drop_resolvers": base.drop_resolvers,
        "resolver": base.resolver,
        "prepare_init": prepare.prepare_init,
        "resolve_exec_early": process.resolve_exec_early,
    }[name]
    globals()[name] = value
    return value
