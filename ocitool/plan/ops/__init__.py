"""The Plan IR. ``base`` defines Phase and Op; each concern module defines its ops.

Concern modules: ``common`` (write_file), ``namespaces``, ``process``,
``security``, ``hooks`` (helper "plan"), ``fs`` and ``cgroup`` (helper "mounts").
:func:`op_types` maps every op name to its class (for loading a plan from JSON).
"""

from __future__ import annotations

from importlib import import_module

from ocitool.plan.ops.base import Op, Phase

__all__ = ["Op", "Phase", "op_types"]

_MODULES = ("common", "namespaces", "process", "security", "hooks", "fs", "cgroup", "rootless")


def op_types() -> dict[str, type[Op]]:
    """Every concrete op class by its ``name``, from all concern modules present."""
    found: dict[str, type[Op]] = {}
    for mod_name in _MODULES:
        try:
            module = import_module(f"ocitool.plan.ops.{mod_name}")
        except ImportError:
            continue
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Op)
                and value is not Op
                and value.__module__ == module.__name__
            ):
                found[value.name] = value
    return found
