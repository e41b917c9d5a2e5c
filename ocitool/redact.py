"""Environment values never appear in a diagnostic (they hold secrets: tokens, passwords).

WHY: ``podman run -e TOKEN=... IMG /nonexistent`` put the token in podman's
output and in the runtime's ``--log`` file, through the failing execve op's
text line. Every error path that can show a process (an op's text, a schema
message, a lint finding, a source snippet) shows an environment entry as
``NAME=***``: the name helps, the value is never needed to fix the error.
The plan itself (``ocitool plan``) still shows the environment it will set:
that is output the user asked for, not a diagnostic.

Hot path: imported by the executor's error path, possibly in the container's
init after pivot_root, so it imports nothing.
"""

from __future__ import annotations

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

HIDDEN = "***"


def quote(value: str | None) -> str:
    """A C-ish string literal for op text lines; ``NULL`` for None."""
    if value is None:
        return "NULL"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def env_entry(entry: object) -> object:
    """``NAME=value`` -> ``NAME=***``; anything else (no name to keep) -> ``***``."""
    if not isinstance(entry, str):
        return entry if isinstance(entry, int | float | bool) or entry is None else HIDDEN
    name, sep, _ = entry.partition("=")
    return f"{name}={HIDDEN}" if sep and name and name.isprintable() else HIDDEN


def env_value(value: Any) -> Any:
    """A process or hook ``env`` (or one entry of it) with every value hidden."""
    if isinstance(value, list | tuple):
        return [env_entry(e) for e in value]
    return env_entry(value)


def is_env_pointer(pointer: str | None) -> bool:
    """Whether a JSON pointer is at or under ``/process/env`` or a hook's ``env``."""
    if not pointer:
        return False
    parts = pointer.split("/")
    if parts[1:3] == ["process", "env"]:
        return True
    return len(parts) >= 5 and parts[1] == "hooks" and parts[4] == "env"


def op_text(op: Any) -> str:
    """``op.text()`` with the op's environment entries (execve, hooks) hidden."""
    text: str = op.text()
    env = getattr(op, "env", None)
    if not env:
        return text
    shown = "[" + ", ".join(quote(e) for e in env) + "]"
    hidden = "[" + ", ".join(quote(str(env_entry(e))) for e in env) + "]"
    if shown in text:
        return text.replace(shown, hidden)
    return f"{op.name}({quote(str(getattr(op, 'path', '')))}, env hidden)"


def _literal_end(line: str, start: int) -> int:
    """Index just past the JSON string literal that opens at ``line[start]`` (a quote)."""
    i = start + 1
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == '"':
            return i + 1
        i += 1
    return len(line)


def _hide_literal(literal: str) -> str:
    """``"NAME=value"`` -> ``"NAME=*****"``, as long as the original: a caret under a
    later column of the same line (a minified config is one line) stays in place."""
    closed = literal.endswith('"') and len(literal) > 1
    inner = literal[1:-1] if closed else literal[1:]
    name, sep, value = inner.partition("=")
    hidden = f"{name}={'*' * len(value)}" if sep and name else "*" * len(inner)
    return '"' + hidden + ('"' if closed else "")


def hide_env_literals(line: str, columns: list[int] | None) -> str:
    """A source line with the values of the env string literals at ``columns`` (1-based)
    starred out, keeping the line's length.

    ``columns`` None: where the env entries are is unknown (the text did not
    parse), so every string literal holding ``=`` is hidden.
    """
    out: list[str] = []
    i = 0
    while i < len(line):
        if line[i] != '"':
            j = line.find('"', i)
            j = len(line) if j < 0 else j
            out.append(line[i:j])
            i = j
            continue
        end = _literal_end(line, i)
        literal = line[i:end]
        if (columns is None and "=" in literal) or (columns is not None and i + 1 in columns):
            literal = _hide_literal(literal)
        out.append(literal)
        i = end
    return "".join(out)


def env_pointers(data: Any) -> list[str]:
    """The pointers of every env entry (or whole env that is not a list) in a config."""
    out: list[str] = []
    if not isinstance(data, dict):
        return out

    def add(base: str, env: Any) -> None:
        if isinstance(env, list):
            out.extend(f"{base}/{i}" for i in range(len(env)))
        elif env is not None:
            out.append(base)

    process = data.get("process")
    if isinstance(process, dict):
        add("/process/env", process.get("env"))
    hooks = data.get("hooks")
    if isinstance(hooks, dict):
        for kind, items in hooks.items():
            if isinstance(items, list):
                for i, hook in enumerate(items):
                    if isinstance(hook, dict):
                        key = str(kind).replace("~", "~0").replace("/", "~1")
                        add(f"/hooks/{key}/{i}/env", hook.get("env"))
    return out
