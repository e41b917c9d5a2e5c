"""Errors are values: a stable code, a location, what was expected and a hint.

The library raises :class:`OciToolError` (or a subclass); the CLI renders it.
A :class:`Diagnostic` is the unit every checker (loader, schema, lowering,
lint) produces; an error may carry several of them.

Every command imports this module, the container-start hot path included, so
it is written with plain classes: ``dataclasses`` (which pulls in ``inspect``
and ``re``) and ``typing`` would cost more than everything else here.

Code families (stable; never reuse a code for a different meaning):

* ``OCI0xx`` usage and I/O (file missing, unreadable, bad flag value)
* ``OCI1xx`` JSON text (syntax, duplicate keys, encoding)
* ``OCI2xx`` schema validation of config.json / state.json / features.json
* ``OCI3xx`` model building and lowering (host cannot honour, bad value)
* ``OCI4xx`` seccomp (unknown syscall, too large, policy syntax)
* ``OCI5xx`` execution (a syscall failed, rollback)
* ``OCI6xx`` runtime lifecycle (state, container not found, wrong status)
* lint rule codes are separate: ``OCR``/``OCS``/``OCP`` + number (see ocitool.lint)
* preflight check codes too: ``OCH`` + number (see ocitool.check)
"""

from __future__ import annotations

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any, Literal

    Severity = Literal["error", "warning", "info"]
else:
    Severity = str

_DIAGNOSTIC_FIELDS = (
    "code",
    "message",
    "pointer",
    "severity",
    "hint",
    "expected",
    "line",
    "column",
    "path",
)


class Diagnostic:
    """One finding about one place in one document (immutable; compare by value)."""

    __slots__ = _DIAGNOSTIC_FIELDS

    code: str
    message: str
    pointer: str
    severity: Severity
    hint: str | None
    expected: str | None
    line: int | None
    column: int | None
    path: str | None

    def __init__(
        self,
        code: str,
        message: str,
        pointer: str = "",
        severity: Severity = "error",
        hint: str | None = None,
        expected: str | None = None,
        line: int | None = None,
        column: int | None = None,
        path: str | None = None,
    ) -> None:
        init = object.__setattr__
        init(self, "code", code)
        init(self, "message", message)
        init(self, "pointer", pointer)
        init(self, "severity", severity)
        init(self, "hint", hint)
        init(self, "expected", expected)
        init(self, "line", line)
        init(self, "column", column)
        init(self, "path", path)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Diagnostic is immutable; use .replace({name}=...)")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in _DIAGNOSTIC_FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Diagnostic):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in _DIAGNOSTIC_FIELDS)
        return f"Diagnostic({inner})"

    def replace(self, **changes: Any) -> Diagnostic:
        """A copy with some fields changed (what ``dataclasses.replace`` did)."""
        unknown = set(changes) - set(_DIAGNOSTIC_FIELDS)
        if unknown:
            raise TypeError(f"Diagnostic has no field(s) {', '.join(sorted(unknown))}")
        values = {name: getattr(self, name) for name in _DIAGNOSTIC_FIELDS}
        values.update(changes)
        return Diagnostic(**values)

    def located(self, line: int | None, column: int | None) -> Diagnostic:
        return self.replace(line=line, column=column)

    def with_path(self, path: str | None) -> Diagnostic:
        return self.replace(path=path)

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


class OciToolError(Exception):
    """Base of every error ocitool raises on purpose."""

    def __init__(
        self,
        message: str,
        code: str = "OCI000",
        pointer: str | None = None,
        hint: str | None = None,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        expected: str | None = None,
        diagnostics: list[Diagnostic] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.pointer = pointer
        self.hint = hint
        self.path = path
        self.line = line
        self.column = column
        self.expected = expected
        self.diagnostics: list[Diagnostic] = list(diagnostics) if diagnostics else []

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, pointer={self.pointer!r})"

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


class InternalError(OciToolError):
    """ocitool's own checks caught a bug in ocitool (a plan missing ops, ops out of
    order): reported with its code like any error, but with exit status 70."""


class SeccompError(OciToolError):
    """A seccomp profile or policy cannot be compiled, or a program is malformed."""


class ExecError(OciToolError):
    """A system call failed while applying a Plan (names the op and errno)."""


class RuntimeStateError(OciToolError):
    """A lifecycle command met a container in the wrong state, or none at all."""
