"""Hooks: each configured hook at its lifecycle point, in the spec's order.

Where each kind runs (runtime-spec config.md "POSIX-platform Hooks"):
prestart/createRuntime in the runtime namespace during create, before
pivot_root; createContainer in the container namespaces, before pivot_root;
startContainer in the container namespaces after start, before the user
process; poststart after the user process started; poststop after delete.
Every hook gets the container state JSON on stdin.
"""

from __future__ import annotations

from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.hooks import RunHook
from ocitool.spec.facts import HOOK_KINDS
from ocitool.spec.model import Spec

HOOK_PHASES: dict[str, Phase] = {
    "prestart": Phase.HOOKS_PRESTART,
    "createRuntime": Phase.HOOKS_CREATE_RUNTIME,
    "createContainer": Phase.HOOKS_CREATE_CONTAINER,
    "startContainer": Phase.HOOKS_START_CONTAINER,
    "poststart": Phase.HOOKS_POSTSTART,
    "poststop": Phase.HOOKS_POSTSTOP,
}


def lower_hooks(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    if spec.hooks is None:
        return []
    ops: list[Op] = []
    for kind in HOOK_KINDS:
        hooks = spec.hooks.of_kind(kind)
        if kind == "prestart" and hooks:
            ctx.warn(
                spec.hooks.at("prestart"),
                "prestart hooks are deprecated (runtime-spec 1.0.2+); they run just before "
                "createRuntime hooks",
                code="OCI372",
                hint="move them to createRuntime",
            )
        for index, hook in enumerate(hooks):
            if hook.timeout is not None and hook.timeout <= 0:
                raise ctx.error(
                    hook.at("timeout"),
                    f"hook timeout must be greater than zero, got {hook.timeout}",
                    code="OCI361",
                )
            ops.append(
                RunHook(
                    phase=HOOK_PHASES[kind],
                    source=hook.pointer,
                    kind=kind,
                    index=index,
                    path=hook.path,
                    args=hook.args,
                    env=hook.env,
                    timeout=hook.timeout,
                )
            )
    return ops
