"""A small TAP reader for the runtime-tools validation programs.

Why our own: the programs print TAP 13 with YAML diagnostics that embed the
inner runtimetest's own TAP text; only the top-level, unindented result lines
count, and a program that printed no result at all must not read as a pass.

One exception, upstream's own convention: the hook and ``*_fail`` programs
(prestart, poststart_fail, process_rlimits_fail, ...) test nothing with
``ok`` lines; they print a YAML ``error`` diagnostic when the runtime got it
wrong and then ``1..0``. An explicit empty plan with no diagnostic at all is
their pass; anything else (no plan, a diagnostic) is a failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_RESULT = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*)$")
_DIRECTIVE = re.compile(r"#\s*(SKIP|TODO)\b\s*(.*)$", re.IGNORECASE)
_PLAN = re.compile(r"^1\.\.(\d+)")


@dataclass(frozen=True)
class TapResult:
    """One top-level ``ok``/``not ok`` line, with the YAML block after it."""

    ok: bool
    number: int | None
    description: str
    directive: str = ""  # "SKIP", "TODO" or ""
    diagnostic: str = ""

    @property
    def passed(self) -> bool:
        return self.ok or self.directive == "TODO"


@dataclass
class TapReport:
    """Everything one validation program said."""

    results: list[TapResult] = field(default_factory=list)
    plan: int | None = None
    orphans: list[str] = field(default_factory=list)  # YAML blocks before any result

    @property
    def failures(self) -> list[TapResult]:
        return [r for r in self.results if not r.passed]

    @property
    def passed(self) -> bool:
        """True only if something was tested and nothing failed, or the program's plan
        is explicitly empty and it printed no diagnostic (see the module doc)."""
        counted = [r for r in self.results if r.directive != "SKIP"]
        if not self.results:
            return self.plan == 0 and not self.orphans
        return bool(counted) and not self.failures


def parse(text: str) -> TapReport:
    """Parse TAP output; indented lines (YAML blocks) attach to the previous result."""
    report = TapReport()
    pending: list[str] = []

    def flush() -> None:
        if report.results and pending:
            last = report.results[-1]
            report.results[-1] = TapResult(
                last.ok, last.number, last.description, last.directive, "\n".join(pending)
            )
        elif pending:
            report.orphans.append("\n".join(pending))
        pending.clear()

    for line in text.splitlines():
        if line[:1] in (" ", "\t"):
            pending.append(line.strip())
            continue
        plan = _PLAN.match(line)
        if plan:
            flush()
            report.plan = int(plan.group(1))
            continue
        match = _RESULT.match(line)
        if not match:
            continue
        flush()
        desc = match.group(3).strip()
        directive = ""
        found = _DIRECTIVE.search(desc)
        if found:
            directive = found.group(1).upper()
            desc = (desc[: found.start()].strip() or found.group(2)).strip()
        number = int(match.group(2)) if match.group(2) else None
        report.results.append(TapResult(match.group(1) == "ok", number, desc, directive))
    flush()
    return report
