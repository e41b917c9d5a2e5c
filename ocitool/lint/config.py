"""``[tool.ocitool.lint]`` settings from pyproject.toml, found upward from the working directory.

The nearest pyproject.toml that has the section wins (as with ruff), so a
project can keep its lint policy next to its code and CI needs no flags.
Command-line flags override these settings; ``ignore`` adds to them.

Keys: ``select``, ``ignore`` (lists of codes, prefixes, families or names),
``fail-on`` ("warning" | "error"), ``format``, ``host-specific`` (bool),
``exclude`` (glob patterns, relative to the pyproject.toml directory) and a
``severity`` table mapping codes to "error" | "warning" | "info".
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass, field
from typing import Any, cast

from ocitool.errors import Severity, UsageError
from ocitool.lint.registry import SEVERITIES, get_rule

_KEYS = {"select", "ignore", "fail-on", "format", "host-specific", "exclude", "severity"}


@dataclass
class LintSettings:
    """Settings from one pyproject.toml (empty when none was found)."""

    path: str | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: str | None = None
    format: str | None = None
    host_specific: bool = False
    exclude: tuple[str, ...] = ()
    severity: dict[str, Severity] = field(default_factory=dict)

    def excluded(self, path: str) -> bool:
        """True when ``path`` matches an exclude pattern (relative to the settings file)."""
        if not self.exclude or self.path is None:
            return False
        base = os.path.dirname(os.path.abspath(self.path))
        rel = os.path.relpath(os.path.abspath(path), base).replace(os.sep, "/")
        return any(fnmatch.fnmatch(rel, pattern) for pattern in self.exclude)


def find_pyproject(start: str | None = None) -> str | None:
    """The nearest pyproject.toml at or above ``start`` that has [tool.ocitool.lint]."""
    directory = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(candidate) and _section(_read(candidate), candidate) is not None:
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _read(path: str) -> dict[str, Any]:
    from ocitool.inputs import read_input

    raw = read_input(path, "lint settings")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(message=f"{path}: invalid TOML: {exc}", code="OCI012", path=path) from None
    except UnicodeDecodeError as exc:
        raise UsageError(
            message=f"{path}: invalid TOML: not UTF-8 (byte {exc.start})", code="OCI012", path=path
        ) from None


def _section(data: dict[str, Any], path: str) -> dict[str, Any] | None:
    section: Any = data
    for key in ("tool", "ocitool", "lint"):
        if not isinstance(section, dict):
            return None  # e.g. tool = 5: no [tool.ocitool.lint] table, so not ours
        section = section.get(key)
    if section is None:
        return None
    if not isinstance(section, dict):
        raise _bad(path, "[tool.ocitool.lint] must be a table")
    return section


def _bad(path: str, message: str) -> UsageError:
    return UsageError(
        message=f"{path}: {message}",
        code="OCI012",
        path=path,
        hint="see docs/lint.md, section 'Configuration'",
    )


def _strings(section: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
    value = section.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(path, f"tool.ocitool.lint.{key} must be a list of strings")
    return tuple(value)


def load_settings(path: str) -> LintSettings:
    """Parse and check the [tool.ocitool.lint] section of ``path``."""
    section = _section(_read(path), path) or {}
    unknown = set(section) - _KEYS
    if unknown:
        raise _bad(path, f"unknown key(s) in [tool.ocitool.lint]: {', '.join(sorted(unknown))}")
    fail_on = section.get("fail-on")
    if fail_on is not None and fail_on not in ("warning", "error"):
        raise _bad(path, f"fail-on must be 'warning' or 'error', not {fail_on!r}")
    fmt = section.get("format")
    if fmt is not None and fmt not in ("text", "json", "sarif", "github"):
        raise _bad(path, f"format must be text, json, sarif or github, not {fmt!r}")
    host_specific = section.get("host-specific", False)
    if not isinstance(host_specific, bool):
        raise _bad(path, "host-specific must be true or false")
    severity_table = section.get("severity", {})
    if not isinstance(severity_table, dict):
        raise _bad(path, "[tool.ocitool.lint.severity] must be a table of CODE = severity")
    severity: dict[str, Severity] = {}
    for code, level in severity_table.items():
        rule = get_rule(code)
        if rule is None:
            raise _bad(path, f"severity: unknown rule {code!r}")
        if level not in SEVERITIES:
            raise _bad(path, f"severity.{code} must be error, warning or info, not {level!r}")
        severity[rule.code] = cast(Severity, level)
    return LintSettings(
        path=path,
        select=_strings(section, "select", path),
        ignore=_strings(section, "ignore", path),
        fail_on=fail_on,
        format=fmt,
        host_specific=host_specific,
        exclude=_strings(section, "exclude", path),
        severity=severity,
    )


def discover_settings(start: str | None = None) -> LintSettings:
    """Settings from the nearest pyproject.toml with [tool.ocitool.lint], or defaults."""
    path = find_pyproject(start)
    return load_settings(path) if path else LintSettings()
