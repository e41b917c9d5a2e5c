"""Seccomp: compile ``linux.seccomp`` for the host architecture into a ``seccomp_load`` op.

The filter is installed as late as possible — after the uid change, the
capability sets and no_new_privs, just before execve — so it only has to
allow what the container's program needs, not what the runtime needs to set
it up. Loading a filter needs no_new_privs or CAP_SYS_ADMIN: when the config
sets ``noNewPrivileges: false`` and the final effective set lacks
CAP_SYS_ADMIN, a late load would fail with EACCES, so the filter is loaded
before the credentials change instead (``early``), as runc does; the profile
must then allow the setup calls that follow (setresuid, capset, execve ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ocitool.capabilities import CAP_NUMBER
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import JSON, Op, Phase
from ocitool.plan.ops.security import SeccompLoad
from ocitool.spec.model import Spec

if TYPE_CHECKING:
    from ocitool.seccomp.compiler import CompiledFilter

CAP_SYS_ADMIN_BIT = 1 << CAP_NUMBER["CAP_SYS_ADMIN"]


def _plain(value: object) -> JSON:
    """A deep, plain-dict/list copy of (part of) the read-only raw seccomp object."""
    if isinstance(value, Mapping):
        return _plain_object(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"{value!r} is not a JSON value")


def _plain_object(value: Mapping[str, object]) -> dict[str, JSON]:
    return {str(k): _plain(v) for k, v in value.items()}


def needs_early_load(spec: Spec) -> bool:
    """True when a filter loaded after the credential change would be refused (see module doc)."""
    proc = spec.process
    if proc is None or proc.no_new_privileges:
        return False
    caps = proc.capabilities
    effective = caps.effective if caps is not None else None
    return not effective or "CAP_SYS_ADMIN" not in {n.upper() for n in effective}


def _load_op(spec: Spec, host: HostInfo, ctx: LowerContext, *, early: bool) -> list[Op]:
    linux = spec.linux
    if linux is None or linux.seccomp is None or spec.process is None:
        return []
    if needs_early_load(spec) != early:
        return []
    sc = linux.seccomp
    raw = _plain_object(sc.raw)
    if early:
        ctx.info(
            sc.pointer,
            "noNewPrivileges is false and the process keeps no CAP_SYS_ADMIN: the seccomp "
            "filter is loaded before the uid/capability change (it must allow those calls)",
            code="OCI378",
        )
    compiled = _compile(raw, host.arch)
    for diag in compiled.warnings:
        pointer = diag.pointer
        if not pointer.startswith(sc.pointer):
            pointer = sc.pointer + pointer
        ctx.diagnostics.append(diag.replace(pointer=pointer))
    return [
        SeccompLoad(
            phase=Phase.EXEC,
            source=sc.pointer,
            instructions=len(compiled.instructions),
            flags=tuple(compiled.flags),
            program=compiled.raw().hex(),
            listener_path=compiled.listener_path,
            listener_metadata=compiled.listener_metadata,
            early=early,
        )
    ]


_COMPILED: dict[tuple[str, str], CompiledFilter] = {}
_COMPILED_MAX = 8


def _compile(raw: dict[str, JSON], arch: str) -> CompiledFilter:
    """``compile_seccomp(raw, arch)``, remembered for the rest of the process.

    The program depends on nothing else, and some callers lower one config twice
    (ocitool-runc checks a plan template by lowering the config again with other
    ids): the second lowering then skips the compiler (~12 ms for podman's profile).
    """
    # Imported here, not at the top: most configs without seccomp should not pay for
    # loading the compiler. No fallback: if it cannot be imported, lowering fails.
    from ocitool.seccomp.compiler import compile_seccomp

    key = (repr(raw), arch)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = _COMPILED[key] = compile_seccomp(raw, arch)
        if len(_COMPILED) > _COMPILED_MAX:
            del _COMPILED[next(iter(_COMPILED))]
    return compiled


def lower_seccomp(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    """The usual, late load: the last op before execve."""
    return _load_op(spec, host, ctx, early=False)


def lower_seccomp_early(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    """The early load, before the credential change (no_new_privs off, no CAP_SYS_ADMIN)."""
    return _load_op(spec, host, ctx, early=True)
