"""Which rules run: --select / --ignore tokens by code, code prefix, family or name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ocitool.errors import UsageError
from ocitool.lint.registry import Rule, all_rules

if TYPE_CHECKING:
    from ocitool.check.registry import CheckRule


def split_tokens(values: Iterable[str]) -> tuple[str, ...]:
    """Flatten repeated, comma-separated option values into tokens."""
    out: list[str] = []
    for value in values:
        out.extend(t.strip() for t in value.split(",") if t.strip())
    return tuple(out)


def token_matches(token: str, rule: Rule | CheckRule) -> bool:
    """True when ``token`` (code, code prefix, family, name or ALL) names ``rule``."""
    upper = token.upper()
    return (
        upper == "ALL"
        or rule.code.startswith(upper)
        or token.lower() == rule.family
        or token.lower() == rule.name
    )


def check_tokens(tokens: Iterable[str], source: str) -> None:
    """Raise :class:`UsageError` for a token that names no rule (a typo would select nothing)."""
    from ocitool.check.registry import all_checks

    rules: list[Rule | CheckRule] = [*all_rules(), *all_checks()]
    for token in tokens:
        if not any(token_matches(token, r) for r in rules):
            raise UsageError(
                message=f"{source}: {token!r} matches no lint rule",
                code="OCI011",
                hint="use a code (OCS210), a prefix (OCS, OCS2), a family "
                "(correctness, security, portability) or a rule name; see --list-rules",
            )


@dataclass(frozen=True)
class Selection:
    """Rules chosen by select (empty: all) minus ignore; host-specific ones only on request."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    host_specific: bool = False

    def wants(self, rule: Rule | CheckRule) -> bool:
        if rule.host_specific and not self.host_specific:
            return False
        if self.select and not any(token_matches(t, rule) for t in self.select):
            return False
        return not any(token_matches(t, rule) for t in self.ignore)

    def rules(self) -> list[Rule]:
        return [r for r in all_rules() if self.wants(r)]
