"""Run the rules over documents: validate first, then every selected rule, then suppress.

A document that fails schema validation is reported with the schema's own
diagnostics and the rules are skipped for it: rules assume the shapes the
schema guarantees, and a finding on a malformed config would only add noise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ocitool.errors import Diagnostic, OciToolError, Severity, UsageError
from ocitool.lint.context import LintContext, as_dict
from ocitool.lint.host import HostFacts
from ocitool.lint.positions import Locator
from ocitool.lint.registry import Rule
from ocitool.lint.result import FileResult
from ocitool.lint.selection import Selection, split_tokens, token_matches
from ocitool.spec.load import Document, load

SUPPRESS_ANNOTATION = "dev.ocitool.lint.ignore"
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}

Validator = Callable[[Document], list[Diagnostic]]


@dataclass
class LintOptions:
    """Everything that shapes a lint run apart from the inputs."""

    selection: Selection = field(default_factory=Selection)
    severity: dict[str, Severity] = field(default_factory=dict)  # code -> override
    host: HostFacts | None = None
    validate: bool = True

    def __post_init__(self) -> None:
        self._rules: list[Rule] | None = None

    @property
    def rules(self) -> list[Rule]:
        if self._rules is None:
            self._rules = self.selection.rules()
        return self._rules


_validator_cache: list[Validator | None] = []


def schema_validator() -> Validator | None:
    """``ocitool.spec.schema.validate_config`` when it is available, else None."""
    if not _validator_cache:
        try:
            from ocitool.spec.schema import validate_config
        except ImportError:
            _validator_cache.append(None)
        else:
            _validator_cache.append(validate_config)
    return _validator_cache[0]


def _suppressed(doc: Document) -> tuple[str, ...]:
    value = as_dict(as_dict(doc.data).get("annotations")).get(SUPPRESS_ANNOTATION)
    return split_tokens([value]) if isinstance(value, str) else ()


def _shape_errors(doc: Document) -> list[Diagnostic]:
    if not isinstance(doc.data, dict):
        return [
            doc.locate(
                Diagnostic(
                    code="OCI201",
                    message=f"config must be a JSON object, not {type(doc.data).__name__}",
                    pointer="",
                    expected="object",
                )
            )
        ]
    return []


def validate(doc: Document) -> list[Diagnostic]:
    """Schema diagnostics for ``doc`` (located), or the minimal shape check without a schema."""
    diags = _shape_errors(doc)
    if diags:
        return diags
    validator = schema_validator()
    if validator is None:
        return []
    return [d if d.line is not None else doc.locate(d) for d in validator(doc)]


def run_rules(doc: Document, options: LintOptions) -> list[Diagnostic]:
    """Findings of the selected rules on ``doc`` (which must have passed validation)."""
    ctx = LintContext(doc, options.host)
    locator = Locator(doc)
    suppressed = _suppressed(doc)
    findings: list[Diagnostic] = []
    for rule in options.rules:
        if suppressed and any(token_matches(t, rule) for t in suppressed):
            continue
        severity = options.severity.get(rule.code, rule.severity)
        try:
            hits = list(rule.check(ctx))
        except Exception as exc:  # noqa: BLE001 - a rule bug must not hide other findings
            if os.environ.get("OCITOOL_DEBUG"):
                raise
            findings.append(
                Diagnostic(
                    code=rule.code,
                    message=f"internal error in rule {rule.name}: {type(exc).__name__}: {exc}",
                    severity="error",
                    hint="this is a bug in ocitool; rerun with OCITOOL_DEBUG=1",
                    path=doc.path,
                )
            )
            continue
        for pointer, message in hits:
            findings.append(locator.diagnostic(rule.code, message, pointer, severity, rule.fix))
    return findings


def _order(d: Diagnostic) -> tuple[int, int, str, str]:
    return (d.line or 0, d.column or 0, d.code, d.pointer)


def lint_document(doc: Document, options: LintOptions | None = None) -> list[Diagnostic]:
    """Validate ``doc``; if it is valid, run the rules. Findings are sorted by position."""
    options = options or LintOptions()
    errors = validate(doc) if options.validate else _shape_errors(doc)
    if any(d.severity == "error" for d in errors):
        return sorted(errors, key=_order)
    findings = errors + run_rules(doc, options)
    if options.selection.host_specific:
        findings += host_checks(doc, options)
    return sorted(findings, key=_order)


def host_checks(doc: Document, options: LintOptions) -> list[Diagnostic]:
    """With --host-specific: the preflight's checks (``ocitool check``) of this machine, so
    CI gets them in the same report (SARIF included); --select/--ignore apply by code."""
    from ocitool.check.engine import check_document

    found = check_document(doc, wants=options.selection.wants)  # type: ignore[arg-type]
    return [d.replace(severity=options.severity.get(d.code, d.severity)) for d in found]


def lint_file(path: str, options: LintOptions | None = None) -> FileResult:
    """Load and lint one config file; load errors become findings."""
    try:
        doc = load(path)
    except UsageError:
        raise
    except OciToolError as err:
        return FileResult(path, [d.with_path(d.path or path) for d in err.as_diagnostics()])
    return FileResult(path, lint_document(doc, options), doc)


_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "rootfs"})


def discover(paths: Iterable[str], exclude: Callable[[str], bool] | None = None) -> list[str]:
    """Config files named by ``paths``: files as given, bundles, and bundles found below dirs.

    A directory holding config.json is a bundle and is not searched further
    (its rootfs may contain unrelated config.json files). Hidden directories
    are skipped.
    """
    out: list[str] = []
    for path in paths:
        if path == "-":
            out.append(path)
            continue
        if not os.path.exists(path):
            raise UsageError(message=f"no such file or directory: {path}", code="OCI001", path=path)
        if not os.path.isdir(path):
            out.append(path)
            continue
        if os.path.isfile(os.path.join(path, "config.json")):
            out.append(os.path.join(path, "config.json"))
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS
            )
            if "config.json" in filenames:
                candidate = os.path.join(dirpath, "config.json")
                if exclude is None or not exclude(candidate):
                    out.append(candidate)
                dirnames[:] = []
    seen: set[str] = set()
    unique = []
    for p in out:
        key = os.path.normpath(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def fails(findings: Iterable[Diagnostic], fail_on: str) -> bool:
    """True when a finding is at or above ``fail_on`` (info never fails)."""
    threshold = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK.get(d.severity, 2) >= max(threshold, 1) for d in findings)
