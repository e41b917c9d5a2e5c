"""Errors are values: a stable code, a location, what was expected and a hint.

The library raises :class:`OciToolError` (or a subclass); the CLI renders it.
A :class:`Diagnostic` is the unit every checker (loader, schema, lowering,
lint) produces; an error may carry several of them.

Code families (stable; never reuse a code for a different meaning):

* ``OCI0xx`` usage and I/O (file missing, unreadable, bad flag value)
* ``OCI1xx`` JSON text (syntax, duplicate keys, encoding)
* ``OCI2xx`` schema validation of config.json / state.json / features.json
* ``OCI3xx`` model building and lowering (host cannot honour, bad value)
* ``OCI4xx`` seccomp (unknown syscall, too large, policy syntax)
* ``OCI5xx`` execution (a syscall failed, rollback)
* ``OCI6xx`` runtime lifecycle (state, container not found, wrong status)
* lint rule codes are separate: ``OCR``/``OCS``/``OCP`` + number (see ocitool.lint)
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding about one place in one document."""

    code: str
    message: str
    pointer: str = ""
    severity: Severity = "error"
    hint: str | None = None
    expected: str | None = None
    line: int | None = None
    column: int | None = None
    path: str | None = None

    def located(self, line: int | None, column: int | None) -> Diagnostic:
        return replace(self, line=line, column=column)

    def with_path(self, path: str | None) -> Diagnostic:
        return replace(self, path=path)

    def location(self) -> str:
        """``file:line:col`` (parts that are unknown are left out)."""
        if self.path is None and self.line is None:
            return "ocitool"
        parts = [self.path or "<config>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "pointer": self.pointer,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }

    def render(self) -> str:
        """Plain one-or-two-line text form, for logs and non-rich output."""
        where = self.location()
        ptr = f" at {self.pointer}" if self.pointer else ""
        text = f"{where}: {self.severity} {self.code}{ptr}: {self.message}"
        if self.expected and self.expected not in self.message:
            text += f" (expected {self.expected})"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


@dataclass
class OciToolError(Exception):
    """Base of every error ocitool raises on purpose."""

    message: str
    code: str = "OCI000"
    pointer: str | None = None
    hint: str | None = None
    path: str | None = None
    line: int | None = None
    column: int | None = None
    expected: str | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.render()

    def as_diagnostics(self) -> list[Diagnostic]:
        """The error as a list of diagnostics (its own, or itself as one)."""
        if self.diagnostics:
            return list(self.diagnostics)
        return [
            Diagnostic(
                code=self.code,
                message=self.message,
                pointer=self.pointer or "",
                hint=self.hint,
                expected=self.expected,
                line=self.line,
                column=self.column,
                path=self.path,
            )
        ]

    def render(self) -> str:
        return "\n".join(d.render() for d in self.as_diagnostics())


class UsageError(OciToolError):
    """Bad command-line use or an unreadable input (exit status 2)."""


class LoadError(OciToolError):
    """The input is not a usable JSON document (syntax, duplicates, encoding)."""


class ValidationError(OciToolError):
    """The document does not match the schema; ``diagnostics`` lists every defect."""


class LoweringError(OciToolError):
    """The config cannot be turned into a Plan for this host."""


class SeccompError(OciToolError):
    """A seccomp profile or policy cannot be compiled, or a program is malformed."""


class ExecError(OciToolError):
    """A system call failed while applying a Plan (names the op and errno)."""


class RuntimeStateError(OciToolError):
    """A lifecycle command met a container in the wrong state, or none at all."""
