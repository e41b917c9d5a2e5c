"""Run the checks: lower the config for the detected host, then test every op's preconditions.

The checks read the plan, not the config: what they check is what would
run. A config that cannot be built or lowered is reported with the
lowering's own coded diagnostics (the checks need a plan to read).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from functools import cache

from ocitool.check.context import CheckContext
from ocitool.check.facts import HostFacts
from ocitool.check.registry import CheckRule, Finding, all_checks
from ocitool.errors import Diagnostic, OciToolError
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op
from ocitool.records import Record
from ocitool.spec.load import Document

CONTAINER_ID = "ocitool-check"


class Result(Record):
    """One finding of one check, with the op of the plan that would fail."""

    rule: CheckRule
    finding: Finding


def run(ctx: CheckContext, wants: Callable[[CheckRule], bool] | None = None) -> list[Result]:
    """Every finding of the selected checks (all by default), in check-code order."""
    out: list[Result] = []
    for rule in all_checks():
        if wants is not None and not wants(rule):
            continue
        try:
            found = list(rule.check(ctx))
        except OSError as exc:  # a host file vanished under us: say so, do not crash
            found = [Finding("", f"could not read the host: {exc.strerror}")]
        except Exception as exc:  # noqa: BLE001 - a check's bug must not hide the others
            if os.environ.get("OCITOOL_DEBUG"):
                raise
            found = [Finding("", f"internal error in check {rule.name}: {type(exc).__name__}")]
        out.extend(Result(rule=rule, finding=f) for f in found)
    return out


def to_diagnostic(result: Result, doc: Document | None) -> Diagnostic:
    """A located diagnostic (file:line:col of the pointer, when there is a document)."""
    pos = doc.position(result.finding.pointer) if doc is not None else None
    line, column = pos if pos else (None, None)
    return Diagnostic(
        code=result.rule.code,
        message=result.finding.message,
        pointer=result.finding.pointer,
        severity=result.rule.severity,
        hint=result.rule.fix,
        line=line,
        column=column,
        path=doc.path if doc is not None else None,
    )


@cache
def detected_host() -> tuple[HostInfo, HostFacts]:
    """This machine, read once per process (``lint --host-specific`` checks many bundles)."""
    return HostInfo.detect(), HostFacts()


def bundle_of(doc: Document) -> str:
    """The bundle directory of a loaded config (stdin: the working directory)."""
    if doc.path in ("-", "<stdin>") or not doc.path:
        return os.getcwd()
    return os.path.dirname(os.path.abspath(doc.path))


def context_for(
    doc: Document,
    *,
    host: HostInfo | None = None,
    facts: HostFacts | None = None,
    ops: Sequence[Op] | None = None,
    container_id: str = CONTAINER_ID,
) -> CheckContext:
    """Build the spec, lower it for ``host`` (default: this machine) unless ``ops`` are
    given (the ops that ran, when explaining a failure), and wrap it all up."""
    from ocitool.spec.build import build_spec

    spec = build_spec(doc)
    if host is None or facts is None:
        here, here_facts = detected_host()
        host = host if host is not None else here
        facts = facts if facts is not None else here_facts
    bundle = bundle_of(doc)
    if ops is None:
        from ocitool.lower import lower

        ops = lower(spec, host, container_id=container_id, bundle=bundle).ops
    return CheckContext(spec, ops, host, bundle, doc=doc, facts=facts)


def check_document(
    doc: Document,
    *,
    host: HostInfo | None = None,
    facts: HostFacts | None = None,
    wants: Callable[[CheckRule], bool] | None = None,
) -> list[Diagnostic]:
    """The checks' diagnostics for ``doc``, or the build/lowering error that stops them."""
    try:
        ctx = context_for(doc, host=host, facts=facts)
    except OciToolError as err:
        return [d if d.line is not None else doc.locate(d) for d in err.as_diagnostics()]
    return sort(to_diagnostic(r, doc) for r in run(ctx, wants))


def sort(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diags, key=lambda d: (d.line or 0, d.column or 0, d.code, d.message))
