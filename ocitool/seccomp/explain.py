"""Why does a seccomp profile allow or deny this syscall? Answer with the deciding rule.

Two independent answers are computed and compared:

* the OCI reading: walk ``linux.seccomp`` the way the runtime-spec describes it
  (rules naming the syscall, their argument tests ANDed, several matching rules
  resolved as below, otherwise ``defaultAction``);
* the machine reading: compile the profile to BPF with our compiler and run it
  in the emulator.

The OCI reading gives the rule and its JSON pointer; the BPF run proves it is
what the kernel would do. If they ever disagree the explanation says so (and
the BPF verdict, which is what would be loaded, wins).

When several rules match one call, libseccomp does not simply take the first:
an unconditional rule for a syscall overrides all its argument rules (the
first unconditional one wins), and overlapping argument rules are resolved by
the layout of its decision tree, where the test on the highest argument index
is made last and so decides. The OCI reading follows that; when the matching
rules disagree, the compiled filter settles which of them decides and the
explanation lists the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ocitool.errors import SeccompError
from ocitool.seccomp.constants import ERRNO, errno_name
from ocitool.seccomp.policy import OPS as POLICY_OPS
from ocitool.seccomp.shape import check_shape

BAD_QUERY = "OCI470"

_U64 = (1 << 64) - 1
# SCMP_CMP_* -> the policy language's operator (one table: the policy front end's).
_OPS = {name: symbol for symbol, name in POLICY_OPS.items()}
# Kernel precedence (seccomp_run_filters keeps the lowest SECCOMP_RET_ACTION_FULL value).
_RANK = {
    "SCMP_ACT_KILL_PROCESS": 0,
    "SCMP_ACT_KILL_THREAD": 1,
    "SCMP_ACT_KILL": 1,
    "SCMP_ACT_TRAP": 2,
    "SCMP_ACT_ERRNO": 3,
    "SCMP_ACT_NOTIFY": 4,
    "SCMP_ACT_TRACE": 5,
    "SCMP_ACT_LOG": 6,
    "SCMP_ACT_ALLOW": 7,
}
_KIND = {
    "SCMP_ACT_KILL_PROCESS": "KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD": "KILL_THREAD",
    "SCMP_ACT_KILL": "KILL_THREAD",
    "SCMP_ACT_TRAP": "TRAP",
    "SCMP_ACT_ERRNO": "ERRNO",
    "SCMP_ACT_NOTIFY": "NOTIFY",
    "SCMP_ACT_TRACE": "TRACE",
    "SCMP_ACT_LOG": "LOG",
    "SCMP_ACT_ALLOW": "ALLOW",
}


@dataclass(frozen=True)
class Verdict:
    """An action with its data, comparable across the OCI and BPF readings."""

    action: str  # SCMP_ACT_* as written in the profile
    data: int | None  # errnoRet / trace message (None: not applicable)

    @property
    def kind(self) -> str:
        return _KIND.get(self.action, self.action)

    def text(self) -> str:
        """``ERRNO(EPERM)``, ``ALLOW``, ``TRACE(3)`` -- the emulator's spelling."""
        if self.kind == "ERRNO":
            code = self.data if self.data is not None else ERRNO["EPERM"]
            return f"ERRNO({errno_name(code) or code})"
        if self.kind == "TRACE":
            return f"TRACE({self.data if self.data is not None else ERRNO['EPERM']})"
        return self.kind

    def profile_text(self) -> str:
        """``SCMP_ACT_ERRNO (EPERM)`` -- the profile's spelling."""
        if self.kind in ("ERRNO", "TRACE"):
            code = self.data if self.data is not None else ERRNO["EPERM"]
            name = errno_name(code) if self.kind == "ERRNO" else None
            return f"{self.action} ({name or code})"
        return self.action


@dataclass(frozen=True)
class Explanation:
    """The verdict for one call, the rule that decides it, and why."""

    syscall: str
    nr: int | None
    arch: str
    args: tuple[int, ...]
    verdict: Verdict
    pointer: str  # JSON pointer of the deciding rule, or of defaultAction
    why: str
    rule: dict[str, Any] | None = None
    source: str | None = None  # e.g. "default.policy:12: allow clone if ..." for policies
    also_matching: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bpf_ret: int | None = None
    bpf_path: list[int] | None = None
    agrees: bool | None = None  # None: no BPF cross-check was possible
    # every matching rule: (index, pointer, verdict, rule, source) -- for the BPF cross-check
    candidates: list[tuple[int, str, Verdict, dict[str, Any], str | None]] = field(
        default_factory=list, repr=False
    )

    def to_json(self) -> dict[str, Any]:
        return {
            "syscall": self.syscall,
            "nr": self.nr,
            "arch": self.arch,
            "args": list(self.args),
            "verdict": self.verdict.text(),
            "action": self.verdict.action,
            "data": self.verdict.data,
            "pointer": self.pointer,
            "why": self.why,
            "rule": self.rule,
            "source": self.source,
            "also_matching": self.also_matching,
            "notes": self.notes,
            "bpf": None
            if self.bpf_ret is None
            else {"ret": self.bpf_ret, "path": self.bpf_path, "agrees": self.agrees},
        }

    def render(self) -> str:
        call = (
            f"{self.syscall}({', '.join(hex(a) for a in self.args)})" if self.args else self.syscall
        )
        nr = f" [nr {self.nr}]" if self.nr is not None else ""
        lines = [
            f"{call} on {self.arch}{nr}: {self.verdict.text()}",
            f"  decided by {self.pointer}",
        ]
        if self.source:
            lines.append(f"  source: {self.source}")
        lines.append(f"  why: {self.why}")
        for ptr in self.also_matching:
            lines.append(f"  also matches: {ptr}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        if self.bpf_ret is not None:
            status = "agrees" if self.agrees else "DISAGREES"
            steps = len(self.bpf_path or [])
            lines.append(
                f"  bpf: returns {self.bpf_ret:#010x} after {steps} instructions ({status})"
            )
        return "\n".join(lines)


def seccomp_of(doc: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(seccomp object, its JSON pointer) from a config.json or a bare seccomp object."""
    if not isinstance(doc, dict):
        raise SeccompError(message="the input is not a JSON object", code=BAD_QUERY)
    if "defaultAction" in doc:
        return doc, ""
    linux = doc.get("linux")
    if isinstance(linux, dict) and isinstance(linux.get("seccomp"), dict):
        return linux["seccomp"], "/linux/seccomp"
    if isinstance(linux, dict) and linux.get("seccomp") is not None:
        raise SeccompError(
            message="linux.seccomp is not a JSON object",
            code=BAD_QUERY,
            pointer="/linux/seccomp",
            expected="an OCI seccomp object with defaultAction",
        )
    raise SeccompError(
        message="no seccomp profile: neither linux.seccomp nor a top-level defaultAction",
        code=BAD_QUERY,
        pointer="/linux/seccomp",
        hint="pass a config.json with linux.seccomp, or an OCI seccomp object",
    )


def rule_matches(rule: dict[str, Any], args: Sequence[int], arg_bits: int = 64) -> bool:
    """Do all of a rule's argument tests hold (64-bit, or low 32 bits on 32-bit ABIs)?"""
    return all(_test(a, args, arg_bits) for a in rule.get("args") or [])


def _test(cond: dict[str, Any], args: Sequence[int], arg_bits: int) -> bool:
    mask = _U64 if arg_bits == 64 else 0xFFFFFFFF
    index = int(cond.get("index", 0))
    a = (args[index] if index < len(args) else 0) & mask
    v = int(cond.get("value", 0)) & mask
    v2 = int(cond.get("valueTwo", 0) or 0) & mask
    op = cond.get("op")
    if op == "SCMP_CMP_EQ":
        return a == v
    if op == "SCMP_CMP_NE":
        return a != v
    if op == "SCMP_CMP_LT":
        return a < v
    if op == "SCMP_CMP_LE":
        return a <= v
    if op == "SCMP_CMP_GT":
        return a > v
    if op == "SCMP_CMP_GE":
        return a >= v
    if op == "SCMP_CMP_MASKED_EQ":
        # libseccomp (and so runc, crun and our compiler) compares only the masked bits
        # of valueTwo too: bits of valueTwo outside the mask are ignored.
        return (a & v) == (v2 & v)
    raise SeccompError(message=f"unknown comparison {op!r}", code=BAD_QUERY)


def describe_test(cond: dict[str, Any]) -> str:
    """``arg0 & 0x7e020000 == 0`` / ``arg2 != 9`` -- a test as the policy language writes it."""
    index = cond.get("index", 0)
    op = cond.get("op")
    if op == "SCMP_CMP_MASKED_EQ":
        return (
            f"arg{index} & {int(cond.get('value', 0)):#x} == {int(cond.get('valueTwo', 0) or 0):#x}"
        )
    return f"arg{index} {_OPS.get(str(op), str(op))} {int(cond.get('value', 0)):#x}"


def verdict_of(rule_or_profile: dict[str, Any], *, default: bool = False) -> Verdict:
    if default:
        action = rule_or_profile.get("defaultAction", "")
        data = rule_or_profile.get("defaultErrnoRet")
    else:
        action = rule_or_profile.get("action", "")
        data = rule_or_profile.get("errnoRet")
    if action in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE") and data is None:
        data = ERRNO["EPERM"]
    if action not in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        data = None
    return Verdict(str(action), data)


def evaluate(
    seccomp: dict[str, Any],
    syscall: str,
    args: Sequence[int] = (),
    arch: str = "x86_64",
    *,
    base: str = "",
    pointers: Sequence[str] | None = None,
    sources: Sequence[Any] | None = None,
) -> Explanation:
    """The OCI reading alone (no compiler needed)."""
    check_shape(seccomp, base)
    args6 = tuple(int(a) & _U64 for a in args) + (0,) * (6 - len(args))
    arch_bits, nr, notes = _arch_facts(arch, syscall)
    rules = seccomp.get("syscalls") or []
    naming: list[int] = [
        i for i, r in enumerate(rules) if isinstance(r, dict) and syscall in (r.get("names") or [])
    ]
    shown_args = tuple(args6[: max(len(args), 0)])

    def ptr(i: int) -> str:
        return pointers[i] if pointers is not None else f"{base}/syscalls/{i}"

    def src(i: int) -> str | None:
        if sources is None or i >= len(sources):
            return None
        s = sources[i]
        return f"{s.location()}: {s.text}" if hasattr(s, "location") else str(s)

    if nr is None and notes:
        naming = []
    matching = [i for i in naming if rule_matches(rules[i], args6, arch_bits)]
    default = verdict_of(seccomp, default=True)
    default_ptr = f"{base}/defaultAction"
    if not matching:
        if not naming:
            why = f"{syscall}: no rule names it → defaultAction {default.profile_text()} at {default_ptr}"
        else:
            failed = "; ".join(
                f"{ptr(i)} needs {' && '.join(describe_test(c) for c in rules[i].get('args') or [])}"
                for i in naming
            )
            why = (
                f"{syscall}: {len(naming)} rule(s) name it but no argument test holds ({failed}) "
                f"→ defaultAction {default.profile_text()} at {default_ptr}"
            )
        return Explanation(syscall, nr, arch, shown_args, default, default_ptr, why, notes=notes)
    unconditional = [i for i in matching if not rules[i].get("args")]
    if unconditional:
        chosen = unconditional[0]
    else:
        chosen = min(matching, key=lambda i: (-_deepest(rules[i]), i))
    verdict = verdict_of(rules[chosen])
    others = [ptr(i) for i in matching if i != chosen]
    differing = [i for i in matching if verdict_of(rules[i]) != verdict]
    if differing:
        reason = (
            "an unconditional rule overrides argument rules"
            if unconditional
            else "libseccomp lets the test on the highest argument index decide"
        )
        notes.append(
            f"{len(differing)} other matching rule(s) give a different action ({reason}): "
            + ", ".join(ptr(i) for i in differing)
        )
    candidates = [(i, ptr(i), verdict_of(rules[i]), rules[i], src(i)) for i in matching]
    return Explanation(
        syscall,
        nr,
        arch,
        shown_args,
        verdict,
        ptr(chosen),
        _why(syscall, ptr(chosen), rules[chosen], verdict),
        rule=rules[chosen],
        source=src(chosen),
        also_matching=others,
        notes=notes,
        candidates=candidates,
    )


def _deepest(rule: dict[str, Any]) -> int:
    return max((int(a.get("index", 0)) for a in rule.get("args") or []), default=-1)


def _why(syscall: str, pointer: str, rule: dict[str, Any], verdict: Verdict) -> str:
    conds = rule.get("args") or []
    if conds:
        holds = " && ".join(describe_test(c) for c in conds)
        return f"{syscall}: rule {pointer} matches because {holds} holds → {verdict.profile_text()}"
    return f"{syscall}: rule {pointer} names it with no argument test → {verdict.profile_text()}"


def _arch_facts(arch: str, syscall: str) -> tuple[int, int | None, list[str]]:
    """(argument width, syscall number or None, notes) from the compiler's tables."""
    try:
        from ocitool.seccomp.arch import arch_info
        from ocitool.seccomp.tables import syscall_number
    except ImportError:  # pragma: no cover - the tables ship with ocitool
        return 64, None, []
    info = arch_info(arch)
    nr = syscall_number(info.name, syscall)
    notes: list[str] = []
    if nr is None:
        notes.append(
            f"{syscall} does not exist on {info.name}; rules naming it are skipped there "
            "and the call cannot be made"
        )
    return info.arg_bits, nr, notes


def explain(
    doc: dict[str, Any],
    syscall: str,
    args: Sequence[int] = (),
    arch: str = "x86_64",
    *,
    pointers: Sequence[str] | None = None,
    sources: Sequence[Any] | None = None,
    cross_check: bool = True,
) -> Explanation:
    """Explain ``syscall(args)`` on ``arch`` under a config.json or an OCI seccomp object.

    ``pointers`` overrides the JSON pointer of each rule (for converted Docker
    profiles); ``sources`` gives each rule's policy line. With ``cross_check``
    the profile is also compiled and run in the BPF emulator.
    """
    if len(args) > 6:
        raise SeccompError(message="a syscall has at most 6 arguments", code=BAD_QUERY)
    seccomp, base = seccomp_of(doc)
    result = evaluate(seccomp, syscall, args, arch, base=base, pointers=pointers, sources=sources)
    if not cross_check or result.nr is None:
        return result
    return _cross_check(seccomp, result)


def _cross_check(seccomp: dict[str, Any], result: Explanation) -> Explanation:
    """Compile, emulate, and let the compiler's model name the deciding rule."""
    from dataclasses import replace

    try:
        from ocitool.seccomp.actions import action_value
        from ocitool.seccomp.compiler import compile_seccomp
        from ocitool.seccomp.emulator import emulate
        from ocitool.seccomp.rules import evaluate as model_evaluate
    except ImportError:
        return replace(result, notes=[*result.notes, "BPF cross-check unavailable"])
    assert result.nr is not None
    program = compile_seccomp(seccomp, result.arch, base_pointer="")
    args6 = tuple(result.args) + (0,) * (6 - len(result.args))
    run = emulate(program, result.arch, result.nr, args6)
    deciding: int | None = None
    if program.profile is not None:
        _ret, rule = model_evaluate(program.profile, result.arch, result.nr, args6)
        if rule is not None and rule.pointer.startswith("/syscalls/"):
            deciding = int(rule.pointer.split("/")[2])
    expected = action_value(result.verdict.action, result.verdict.data)
    for index, pointer, verdict, rule_obj, source in result.candidates:
        if pointer == result.pointer:
            continue
        by_model = deciding == index
        by_ret = deciding is None and action_value(verdict.action, verdict.data) == run.ret
        if (by_model or by_ret) and run.ret != expected:
            # Overlapping rules: the compiled filter shows which matching rule decides.
            notes = [n for n in result.notes if "other matching rule" not in n]
            notes.append("overlapping rules: the compiled filter shows which one decides")
            result = replace(
                result,
                verdict=verdict,
                pointer=pointer,
                rule=rule_obj,
                source=source,
                why=_why(result.syscall, pointer, rule_obj, verdict),
                also_matching=[c[1] for c in result.candidates if c[1] != pointer],
                notes=notes,
            )
            expected = action_value(verdict.action, verdict.data)
            break
    agrees = run.ret == expected
    notes = list(result.notes)
    if not agrees:
        notes.append(
            f"the compiled filter returns {run.ret:#010x}, not {expected:#010x}: "
            "the BPF verdict is what the kernel would apply"
        )
    return replace(result, bpf_ret=run.ret, bpf_path=list(run.path), agrees=agrees, notes=notes)
