"""The rule registry: every rule has a stable code, a name, a severity, a why and a fix.

Rules register themselves with the :func:`rule` decorator when their family
module is imported (``ocitool.lint.rules``). The check function's docstring is
the rationale: its first line is the one-line summary, the rest explains why
the finding matters. Codes never change meaning once published.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from ocitool.errors import Severity

if TYPE_CHECKING:
    from ocitool.lint.context import LintContext

# code prefix -> family name
FAMILIES: dict[str, str] = {"OCR": "correctness", "OCS": "security", "OCP": "portability"}
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
_CODE_RE = re.compile(r"^(OCR1|OCS2|OCP3)\d\d$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Hit(NamedTuple):
    """What a check yields: where (JSON pointer) and what is wrong there."""

    pointer: str
    message: str


Check = Callable[["LintContext"], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """One lint rule; ``check`` yields a :class:`Hit` per finding."""

    code: str
    name: str
    severity: Severity
    check: Check
    summary: str
    rationale: str
    fix: str
    host_specific: bool = False

    @property
    def family(self) -> str:
        return FAMILIES[self.code[:3]]

    def explain(self) -> str:
        """Plain-text explanation for ``ocitool lint --explain``."""
        scope = " (host-specific: runs only with --host-specific)" if self.host_specific else ""
        return (
            f"{self.code} {self.name} [{self.family}, default severity {self.severity}]{scope}\n\n"
            f"{self.summary}\n\n{self.rationale}\n\nFix: {self.fix}\n"
        )


RULES: dict[str, Rule] = {}
_NAMES: dict[str, str] = {}


def rule(
    code: str, name: str, severity: Severity, *, fix: str, host_specific: bool = False
) -> Callable[[Check], Check]:
    """Register the decorated check under ``code``; its docstring is the rationale."""
    if not _CODE_RE.match(code):
        raise ValueError(f"bad lint rule code {code!r}")
    if not _NAME_RE.match(name):
        raise ValueError(f"bad lint rule name {name!r}")
    if severity not in SEVERITIES:
        raise ValueError(f"bad severity {severity!r}")

    def register(fn: Check) -> Check:
        doc = inspect.getdoc(fn) or ""
        summary, _, rest = doc.partition("\n")
        if not summary or not rest.strip():
            raise ValueError(f"rule {code} needs a docstring: summary line + rationale")
        if code in RULES or name in _NAMES:
            raise ValueError(f"duplicate lint rule {code} / {name}")
        RULES[code] = Rule(
            code=code,
            name=name,
            severity=severity,
            check=fn,
            summary=summary.strip(),
            rationale=" ".join(rest.split()),
            fix=fix,
            host_specific=host_specific,
        )
        _NAMES[name] = code
        return fn

    return register


def _load() -> None:
    import ocitool.lint.rules  # noqa: F401 - importing registers every rule


def all_rules() -> list[Rule]:
    """Every registered rule: correctness, security, then portability, each by code."""
    _load()
    order = list(FAMILIES)
    return [RULES[c] for c in sorted(RULES, key=lambda c: (order.index(c[:3]), c))]


def get_rule(code_or_name: str) -> Rule | None:
    """A rule by code (any case) or by name."""
    _load()
    key = code_or_name.strip()
    return RULES.get(key.upper()) or RULES.get(_NAMES.get(key.lower(), ""))
