"""Property tests: random policies round-trip to the OCI object we expect, and the OCI
reading used by ``explain`` gives the compiled filter's verdict for random calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocitool.seccomp.constants import AF, CLONE, ERRNO, PERSONALITY
from ocitool.seccomp.explain import evaluate, explain
from ocitool.seccomp.policy import parse_policy

SYSCALLS = ["read", "write", "kill", "clone", "socket", "personality", "mmap", "ioctl", "openat"]
ACTIONS: list[tuple[str, dict[str, Any]]] = [
    ("allow", {"action": "SCMP_ACT_ALLOW"}),
    ("deny", {"action": "SCMP_ACT_ERRNO", "errnoRet": 1}),
    ("errno(ENOSYS)", {"action": "SCMP_ACT_ERRNO", "errnoRet": 38}),
    ("errno(13)", {"action": "SCMP_ACT_ERRNO", "errnoRet": 13}),
    ("kill_process", {"action": "SCMP_ACT_KILL_PROCESS"}),
    ("trap", {"action": "SCMP_ACT_TRAP"}),
    ("log", {"action": "SCMP_ACT_LOG"}),
    ("trace(3)", {"action": "SCMP_ACT_TRACE", "errnoRet": 3}),
]
OPS = {"==": "SCMP_CMP_EQ", "!=": "SCMP_CMP_NE", "<": "SCMP_CMP_LT", "<=": "SCMP_CMP_LE",
       ">": "SCMP_CMP_GT", ">=": "SCMP_CMP_GE"}  # fmt: skip
NAMED = {**{k: v for k, v in AF.items() if k != "AF_DECnet"}, **CLONE, **PERSONALITY}
NAMES = sorted(NAMED)
INTERESTING = [0, 1, 8, 38, 40, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1 << 32, (1 << 32) + 8,
               (1 << 63), (1 << 64) - 1]  # fmt: skip


@dataclass(frozen=True)
class Value:
    text: str
    number: int


@st.composite
def values(draw: st.DrawFn) -> Value:
    kind = draw(st.sampled_from(["dec", "hex", "name", "or", "edge"]))
    if kind == "name":
        name = draw(st.sampled_from(NAMES))
        return Value(name, NAMED[name])
    if kind == "or":
        a, b = draw(st.sampled_from(NAMES)), draw(st.integers(0, 0xFFFF))
        return Value(f"{a}|{b:#x}", NAMED[a] | b)
    n = (
        draw(st.sampled_from(INTERESTING))
        if kind == "edge"
        else draw(st.integers(0, (1 << 64) - 1))
    )
    return Value(hex(n) if kind != "dec" else str(n), n)


@st.composite
def alternatives(draw: st.DrawFn) -> tuple[str, list[dict[str, Any]]]:
    indices = draw(st.lists(st.integers(0, 5), min_size=1, max_size=3, unique=True))
    texts, args = [], []
    for index in indices:
        if draw(st.booleans()):
            op = draw(st.sampled_from(sorted(OPS)))
            v = draw(values())
            texts.append(f"arg{index} {op} {v.text}")
            args.append({"index": index, "value": v.number, "op": OPS[op]})
        else:
            mask = draw(values())
            want = mask.number & draw(st.sampled_from([0, (1 << 64) - 1, 0xFF, 1 << 32, 0x20000]))
            texts.append(f"arg{index} & {mask.text} == {want:#x}")
            args.append({"index": index, "value": mask.number, "valueTwo": want,
                         "op": "SCMP_CMP_MASKED_EQ"})  # fmt: skip
    return " && ".join(texts), args


@st.composite
def policies(draw: st.DrawFn, distinct: bool = False) -> tuple[str, dict[str, Any]]:
    default_text, default = draw(st.sampled_from(ACTIONS[1:]))
    lines = ["# generated", f"default {default_text}", "arch x86_64 x86"]
    expected: dict[str, Any] = {"defaultAction": default["action"]}
    if "errnoRet" in default:
        expected["defaultErrnoRet"] = default["errnoRet"]
    expected["architectures"] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]
    rules: list[dict[str, Any]] = []
    pool = list(SYSCALLS)
    for _ in range(draw(st.integers(1, 5))):
        if distinct and not pool:
            break
        names = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
        if distinct:
            pool = [n for n in pool if n not in names]
        act_text, act = draw(st.sampled_from(ACTIONS))
        alts = draw(st.lists(alternatives(), max_size=3))
        line = f"{act_text} {' '.join(names)}"
        if alts:
            sep = draw(st.sampled_from([" || ", "\n    || ", " ||\n  "]))
            line += " if " + sep.join(text for text, _ in alts)
        if draw(st.booleans()):
            line += "   # trailing comment"
        lines.append(line)
        for _, args in alts or [("", [])]:
            rule = {"names": names, **act}
            if args:
                rule["args"] = args
            rules.append(rule)
    expected["syscalls"] = rules
    return "\n".join(lines) + "\n", expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies())
def test_text_round_trips_to_the_expected_oci_object(case: tuple[str, dict[str, Any]]) -> None:
    text, expected = case
    assert parse_policy(text) == expected


def _boundaries(pol: dict[str, Any]) -> list[int]:
    """Argument values on both sides of every test in the policy (and the usual edges)."""
    m64 = (1 << 64) - 1
    out = set(INTERESTING)
    for rule in pol["syscalls"]:
        for a in rule.get("args", []):
            v = a["value"]
            out |= {v, (v - 1) & m64, (v + 1) & m64, v & 0xFFFFFFFF, (v + 1) & 0xFFFFFFFF}
            if a["op"] == "SCMP_CMP_MASKED_EQ":
                want = a["valueTwo"]
                out |= {want, want | ~v & m64, (want ^ 1) & m64}
    return sorted(out)


_M64 = (1 << 64) - 1


def _hit(a: dict[str, Any]) -> int:
    """An argument value that passes the test, right at its boundary."""
    v, op = a["value"], a["op"]
    return {
        "SCMP_CMP_EQ": v,
        "SCMP_CMP_NE": v ^ 1,
        "SCMP_CMP_LT": max(v - 1, 0),
        "SCMP_CMP_LE": v,
        "SCMP_CMP_GT": (v + 1) & _M64,
        "SCMP_CMP_GE": v,
    }.get(op, a.get("valueTwo", 0))


def _miss(a: dict[str, Any]) -> int:
    """An argument value that fails the test by one step."""
    v, op = a["value"], a["op"]
    return {
        "SCMP_CMP_EQ": (v + 1) & _M64,
        "SCMP_CMP_NE": v,
        "SCMP_CMP_LT": v,
        "SCMP_CMP_LE": (v + 1) & _M64,
        "SCMP_CMP_GT": v,
        "SCMP_CMP_GE": (v - 1) & _M64,
    }.get(op, (a.get("valueTwo", 0) ^ (v & -v if v else 1)) & _M64)


def _vectors(pol: dict[str, Any]) -> list[tuple[int, ...]]:
    """For each rule alternative: all tests passing at their boundary, then each test
    failing by one step (others still passing), plus the zero vector."""
    out: list[tuple[int, ...]] = [(0,) * 6]
    for rule in pol["syscalls"]:
        tests = rule.get("args", [])
        base = [0] * 6
        for a in tests:
            base[a["index"]] = _hit(a)
        out.append(tuple(base))
        for a in tests:
            flipped = list(base)
            flipped[a["index"]] = _miss(a)
            out.append(tuple(flipped))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(distinct=True))
def test_oci_reading_matches_the_compiled_filter(case: tuple[str, dict[str, Any]]) -> None:
    from ocitool.seccomp import compiler
    from ocitool.seccomp.actions import action_value
    from ocitool.seccomp.emulator import emulate
    from ocitool.seccomp.tables import syscall_number

    text, _ = case
    pol = parse_policy(text)
    vectors = _vectors(pol)
    for arch in ("x86_64", "x86"):
        program = compiler.compile_seccomp(pol, arch)
        for name in SYSCALLS:
            nr = syscall_number(arch, name)
            if nr is None:
                continue
            for args in vectors:
                e = evaluate(pol, name, args, arch)
                want = action_value(e.verdict.action, e.verdict.data)
                got = emulate(program, arch, nr, args).ret
                assert got == want, (arch, name, args, e.render())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.data())
def test_explain_always_ends_agreeing_with_the_filter(
    case: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    text, _ = case
    pol = parse_policy(text)
    name = data.draw(st.sampled_from(SYSCALLS))
    args = tuple(data.draw(st.lists(st.sampled_from(_boundaries(pol)), min_size=6, max_size=6)))
    e = explain(pol, name, args, "x86_64")
    assert e.agrees is True, e.render()


def test_errno_table_is_the_generic_one() -> None:
    assert ERRNO["EPERM"] == 1 and ERRNO["ENOSYS"] == 38 and ERRNO["EHWPOISON"] == 133
