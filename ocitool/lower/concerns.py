"""The concerns of lowering, in call order: a fixed list of plain imports.

Every concern is required (DESIGN.md rule 5, fail closed): a concern module
that cannot be imported makes this module, and so :func:`ocitool.lower.lower`,
fail with the ImportError, instead of leaving its ops out of the plan. The
order is the within-phase order of their ops (see ``ocitool.lower``'s
docstring).

This module is imported by ``lower()`` when it runs, not by the package, so
that ``ocitool.lower.host`` (which the executor's hot path needs) does not
load the seccomp compiler and the other concerns.
"""

from __future__ import annotations

from collections.abc import Callable

from ocitool.lower import (
    capabilities,
    cgroups,
    hooks,
    intelrdt,
    lifecycle,
    mounts,
    namespaces,
    process,
    seccomp,
    users,
    uts,
)
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op
from ocitool.spec.model import Spec

Concern = Callable[[Spec, HostInfo, LowerContext], list[Op]]

CONCERNS: tuple[tuple[str, Concern], ...] = (
    ("lifecycle.lower_teardown", lifecycle.lower_teardown),
    ("namespaces.lower_namespaces", namespaces.lower_namespaces),
    ("process.lower_spawn_affinity", process.lower_spawn_affinity),
    ("cgroups.lower_cgroups", cgroups.lower_cgroups),
    ("intelrdt.lower_intel_rdt", intelrdt.lower_intel_rdt),
    ("uts.lower_uts", uts.lower_uts),
    ("process.lower_process_setup", process.lower_process_setup),
    ("mounts.lower_mounts", mounts.lower_mounts),
    ("hooks.lower_hooks", hooks.lower_hooks),
    ("process.lower_lsm_labels", process.lower_lsm_labels),
    ("lifecycle.lower_handover", lifecycle.lower_handover),
    ("process.lower_session_keyring", process.lower_session_keyring),
    ("process.lower_process_exec", process.lower_process_exec),
    ("seccomp.lower_seccomp_early", seccomp.lower_seccomp_early),
    ("users.lower_users", users.lower_users),
    ("capabilities.lower_capabilities", capabilities.lower_capabilities),
    ("users.lower_umask", users.lower_umask),
    ("process.lower_no_new_privs", process.lower_no_new_privs),
    ("seccomp.lower_seccomp", seccomp.lower_seccomp),
    ("process.lower_execve", process.lower_execve),
)
