"""The check registry: every preflight check has a stable code, a name, a why and a fix.

Checks register themselves with :func:`check` when their family module is
imported (``ocitool.check.rules``), as lint rules do; the function's
docstring is the rationale (first line: the summary). A check yields a
:class:`Finding` per precondition the host does not meet, naming the op of
the plan that would fail. Codes never change meaning once published.

Families (by code prefix): ``OCH1`` paths the runtime and the init must
reach, ``OCH2`` the user process (executable, user, cwd), ``OCH3`` kernel
features and capabilities, ``OCH4`` seccomp, ``OCH5`` resource values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, NamedTuple

from ocitool.errors import Severity
from ocitool.records import Record

if TYPE_CHECKING:
    from ocitool.check.context import CheckContext

FAMILIES: dict[str, str] = {
    "OCH1": "paths",
    "OCH2": "process",
    "OCH3": "kernel",
    "OCH4": "seccomp",
    "OCH5": "resources",
}
_CODE_RE = re.compile(r"^OCH[1-5]\d\d$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Finding(NamedTuple):
    """Where (JSON pointer), what the host lacks, and which op would fail (plan index)."""

    pointer: str
    message: str
    op_index: int | None = None


CheckFn = Callable[["CheckContext"], Iterable[Finding]]


class CheckRule(Record):
    """One preflight check; same descriptive fields as a lint rule, so reporters show both."""

    code: str
    name: str
    severity: Severity
    check: CheckFn
    summary: str
    rationale: str
    fix: str
    host_specific: bool = True  # for lint's --select/--ignore: checks read the machine

    @property
    def family(self) -> str:
        return FAMILIES[self.code[:4]]

    def explain(self) -> str:
        return (
            f"{self.code} {self.name} [check: {self.family}, severity {self.severity}]\n\n"
            f"{self.summary}\n\n{self.rationale}\n\nFix: {self.fix}\n"
        )


CHECKS: dict[str, CheckRule] = {}
_NAMES: dict[str, str] = {}


def check(code: str, name: str, severity: Severity, *, fix: str) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function under ``code``; its docstring is the rationale."""
    if not _CODE_RE.match(code) or not _NAME_RE.match(name):
        raise ValueError(f"bad check code/name {code!r} {name!r}")

    def register(fn: CheckFn) -> CheckFn:
        # the docstring as inspect.getdoc gives it, without importing inspect (the
        # rationale is re-flowed onto one line anyway)
        summary, _, rest = (fn.__doc__ or "").strip().partition("\n")
        if not summary or not rest.strip():
            raise ValueError(f"check {code} needs a docstring: summary line + rationale")
        if code in CHECKS or name in _NAMES:
            raise ValueError(f"duplicate check {code} / {name}")
        CHECKS[code] = CheckRule(
            code=code,
            name=name,
            severity=severity,
            check=fn,
            summary=summary.strip(),
            rationale=" ".join(rest.split()),
            fix=fix,
        )
        _NAMES[name] = code
        return fn

    return register


def _load() -> None:
    import ocitool.check.rules  # noqa: F401 - importing registers every check


def all_checks() -> list[CheckRule]:
    """Every registered check, by code."""
    _load()
    return [CHECKS[c] for c in sorted(CHECKS)]


def get_check(code_or_name: str) -> CheckRule | None:
    _load()
    key = code_or_name.strip()
    return CHECKS.get(key.upper()) or CHECKS.get(_NAMES.get(key.lower(), ""))
