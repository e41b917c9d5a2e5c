"""Plan -> strace-like text: one line per op, prefixed by the process that makes the call.

``[runtime]`` and ``[init]`` play the role of strace -f's ``[pid N]``; hooks
show as ``[hook]``. With ``explain`` each line ends with the JSON pointer of the
config value that caused it. No rich here: the output is for grep and diff.
"""

from __future__ import annotations

from typing import IO

from ocitool.plan.plan import Plan


def op_prefix(process: str, is_hook: bool) -> str:
    return "[hook]    " if is_hook else f"[{process}]".ljust(10)


def plan_lines(plan: Plan, *, explain: bool = False) -> list[str]:
    lines = []
    for op in plan.ops:
        line = op_prefix(op.process, op.phase.is_hook) + op.text()
        if explain:
            line += f"  # {op.phase.value}" + (f" <- {op.source}" if op.source is not None else "")
        lines.append(line)
    return lines


def render_strace(plan: Plan, stream: IO[str], *, explain: bool = False) -> None:
    for line in plan_lines(plan, explain=explain):
        stream.write(line + "\n")
