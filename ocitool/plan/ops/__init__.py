"""The Plan IR. ``base`` defines Phase and Op; each concern module defines its ops.

Concern modules: ``common`` (write_file), ``namespaces``, ``process``,
``security``, ``hooks`` (helper "plan"), ``fs`` and ``cgroup`` (helper "mounts").
:func:`op_types` maps every op name to its class (for loading a plan from JSON,
:mod:`ocitool.plan.cache`).
"""

from __future__ import annotations

from ocitool.plan.ops.base import Op, Phase

__all__ = ["Op", "Phase", "op_types"]

_TYPES: dict[str, type[Op]] = {}


def op_types() -> dict[str, type[Op]]:
    """Every concrete op class by its ``name``, from every concern module (a fixed list:
    a module that fails to import fails here, it is never skipped)."""
    if not _TYPES:
        # imported here, not with the package: a command that builds one concern's ops
        # (delete: cgroup_remove) does not load the other concerns' classes
        from ocitool.plan.ops import (
            cgroup,
            common,
            fs,
            hooks,
            namespaces,
            process,
            rootless,
            security,
        )

        for module in (common, namespaces, process, security, hooks, fs, cgroup, rootless):
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, Op)
                    and value is not Op
                    and value.__module__ == module.__name__
                ):
                    _TYPES[value.name] = value
    return dict(_TYPES)
