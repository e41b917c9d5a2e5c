"""Hook ops: run one configured hook at its lifecycle point."""

from __future__ import annotations

from ocitool.plan.ops.base import Op, quote
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import ClassVar


class RunHook(Op):
    """Run ``path`` with ``args``/``env`` and the container state JSON on stdin.

    A non-zero exit or the ``timeout`` (seconds) fails the lifecycle step for
    createRuntime/createContainer/startContainer/prestart; for poststart and
    poststop the runtime only logs a warning (runtime-spec config.md).
    """

    name: ClassVar[str] = "hook"

    kind: str
    index: int
    path: str
    args: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    timeout: int | None = None
    stdin: str = "state"

    def text(self) -> str:
        argv = ", ".join(quote(a) for a in self.args)
        env = ", ".join(quote(e) for e in self.env)
        timeout = f", timeout={self.timeout}s" if self.timeout is not None else ""
        return f"hook {self.kind}[{self.index}]: execve({quote(self.path)}, [{argv}], [{env}]) < state.json{timeout}"
