"""Plan -> rich tree: lifecycle command -> phase (with the process that runs it) -> ops.

The tree is the human view of the same ops the executor runs: grouped by
``create``/``start``/``delete`` and by phase, each phase labelled with the
process that performs it. Ops that carry a program (the cgroup device eBPF
program) show its listing under them. ``explain`` adds, under each op, the
JSON pointer and the config.json line it came from.
"""

from __future__ import annotations

from typing import IO

from ocitool.plan.plan import Plan
from ocitool.render.plan_json import source_excerpt
from ocitool.spec.load import Document

_PROCESS_STYLE = {"runtime": "magenta", "init": "cyan"}


def render_tree(
    plan: Plan,
    stream: IO[str],
    doc: Document | None = None,
    *,
    explain: bool = False,
    color: bool | None = None,
) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.tree import Tree

    console = Console(
        file=stream,
        width=None if stream.isatty() else 1000,
        highlight=False,
        soft_wrap=True,
        force_terminal=color if color else None,
        no_color=color is False,
        emoji=False,
    )
    title = f"[bold]plan[/bold] for [bold]{escape(plan.container_id or '?')}[/bold]"
    title += f"  [dim]({escape(plan.host.summary())}; {len(plan.ops)} ops)[/dim]"
    root = Tree(title)
    commands: dict[str, Tree] = {}
    for phase, ops in plan.by_phase():
        command = commands.get(phase.command)
        if command is None:
            command = root.add(f"[bold underline]{phase.command}[/bold underline]")
            commands[phase.command] = command
        who = "hook" if phase.is_hook else phase.process
        style = _PROCESS_STYLE.get(phase.process, "yellow")
        branch = command.add(
            f"[bold]{phase.value}[/bold] [{style}]{who}[/{style}]"
            f" [dim]- {escape(phase.description)}[/dim]"
        )
        for op in ops:
            node = branch.add(escape(op.text()))
            details = getattr(op, "detail_lines", None)
            if callable(details):  # e.g. the cgroup device eBPF program listing
                for line in details():
                    node.add(f"[dim]{escape(str(line))}[/dim]")
            if explain:
                if op.source is None:
                    node.add("[dim]every container gets this op[/dim]")
                    continue
                where = source_excerpt(doc, op.source)
                label = f"[cyan]{escape(op.source or '/')}[/cyan]"
                if where is not None:
                    label += f" [dim]line {where['line']}:[/dim] {escape(where['text'])}"
                node.add(label)
    console.print(root)
