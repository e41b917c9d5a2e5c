"""The Plan: host facts + ordered ops + lowering diagnostics, and its ordering rules.

Ordering constraints are produced by the lowering and *checked* here, once,
so the tests (and ``lower`` itself) can assert that a plan is well formed
whatever config it came from. :func:`check_order` returns violations as text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ocitool.errors import Diagnostic
from ocitool.plan.ops.base import JSON, Op, Phase
from ocitool.plan.ops.hooks import RunHook
from ocitool.plan.ops.security import SeccompLoad

if TYPE_CHECKING:
    from ocitool.lower.host import HostInfo


@dataclass(frozen=True)
class Plan:
    """An ordered, immutable list of ops for one container on one host."""

    host: HostInfo
    ops: tuple[Op, ...]
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    container_id: str | None = None
    bundle: str | None = None

    def __iter__(self) -> Iterator[Op]:
        return iter(self.ops)

    def __len__(self) -> int:
        return len(self.ops)

    def by_phase(self) -> list[tuple[Phase, list[Op]]]:
        """Ops grouped by phase, in lifecycle order (phases without ops left out)."""
        groups: dict[Phase, list[Op]] = {}
        for op in self.ops:
            groups.setdefault(op.phase, []).append(op)
        return sorted(groups.items(), key=lambda item: item[0].order)

    def find(self, name: str) -> list[Op]:
        return [op for op in self.ops if op.name == name]

    def index(self, name: str) -> int | None:
        for i, op in enumerate(self.ops):
            if op.name == name:
                return i
        return None

    def to_json(self) -> dict[str, JSON]:
        data: dict[str, JSON] = {
            "host": self.host.to_json(),
            "ops": [op.to_json() for op in self.ops],
        }
        if self.diagnostics:
            data["diagnostics"] = [d.to_json() for d in self.diagnostics]
        return data


def check_order(ops: tuple[Op, ...] | list[Op]) -> list[str]:
    """Every ordering rule a plan must satisfy; returns the violations (empty = fine)."""
    problems: list[str] = []
    names = [op.name for op in ops]

    def first(name: str) -> int | None:
        return names.index(name) if name in names else None

    def last(name: str) -> int | None:
        return len(names) - 1 - names[::-1].index(name) if name in names else None

    for i in range(1, len(ops)):
        if ops[i].phase.order < ops[i - 1].phase.order:
            problems.append(
                f"op {i} ({ops[i].name}, {ops[i].phase.value}) comes after "
                f"op {i - 1} in later phase {ops[i - 1].phase.value}"
            )
    pivot = first("pivot_root")
    if pivot is not None:
        for i, op in enumerate(ops):
            if op.phase is Phase.CREATE_INIT and op.name == "mount" and i > pivot:
                problems.append(f"rootfs mount op {i} after pivot_root")
            if op.phase is Phase.CREATE_PIVOT and op.name in ("mount",) and i < pivot:
                problems.append(f"masked/readonly mount op {i} before pivot_root")
    execve = last("execve")
    seccomp = last("seccomp_load")
    load = ops[seccomp] if seccomp is not None else None
    if isinstance(load, SeccompLoad) and load.early:
        seccomp = None  # loaded before the credential change on purpose (lower/seccomp.py)
    if execve is not None:
        if execve != len(ops) - 1 and any(op.phase is Phase.EXEC for op in ops[execve + 1 :]):
            problems.append("execve is not the last exec-phase op")
        if seccomp is not None and seccomp != execve - 1:
            problems.append("seccomp_load is not immediately before execve")
    if seccomp is not None:
        for name in ("capabilities", "no_new_privs", "setresuid", "setresgid", "setgroups"):
            idx = last(name)
            if idx is not None and idx > seccomp and ops[idx].phase is Phase.EXEC:
                problems.append(f"{name} after seccomp_load")
    caps = last("capabilities")
    exec_setuid = [
        i for i, op in enumerate(ops) if op.name == "setresuid" and op.phase is Phase.EXEC
    ]
    if caps is not None and exec_setuid and caps < exec_setuid[-1]:
        problems.append("capabilities set before setresuid (setuid would clear them)")
    seen: dict[str, int] = {}
    for op in ops:
        if isinstance(op, RunHook):
            if op.index < seen.get(op.kind, -1):
                problems.append(f"hook {op.kind}[{op.index}] out of spec order")
            seen[op.kind] = op.index
    clone = first("clone")
    for i, op in enumerate(ops):
        if clone is not None and i > clone:
            break
        if op.name != "clone" and any(
            isinstance(value, str) and "{init}" in value for _, value in op.fields()
        ):
            problems.append(f"op {i} ({op.name}) uses the init's pid before it was cloned")
    return problems
