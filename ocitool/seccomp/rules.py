"""OCI seccomp object -> per-arch, per-syscall decision lists (the compiler's semantic model).

This module is the single statement of *what* a profile means; the code generator only
decides *how* to test it. :func:`evaluate` runs the model directly, which is what the
tests (and ``explain``) compare BPF programs against.

Semantics, chosen to give the verdicts runc + libseccomp 2.5 give (see
docs/seccomp-compiler.md for the experiments behind each point):

* A rule whose action equals the default action is dropped (runc skips it: libseccomp
  refuses such rules with EACCES).
* A rule that tests the same argument twice is split into one rule per test, ORed (runc).
* Args of one rule are ANDed. A MASKED_EQ test with mask 0 always holds and is dropped,
  as libseccomp drops it (a rule left with no tests becomes unconditional). On 32-bit ABIs (x86, x32, arm, mipsel) only the low 32 bits
  of arguments and values are compared, like libseccomp.
* An unconditional rule for a syscall overrides every conditional one, whatever the order
  (libseccomp collapses the tree). Two unconditional rules with different actions: the
  first wins, as in libseccomp (we add an info diagnostic).
* Conditional rules are tried in libseccomp's tree order, first match wins: higher
  argument index first; for one argument EQ/NE/MASKED_EQ before LT/LE before GT/GE; then
  larger values first (smaller first for LT/LE); a rule whose tests are a prefix of
  another's comes first; remaining ties keep profile order. When two rules with
  different actions can match the same call, libseccomp's pick is not a fixed order (it
  depends on which 32-bit half of its merged tree decides); we keep this order and warn
  (OCI409).
* On x86, s390x, ppc64le and mipsel a socket or SysV IPC rule also applies to the
  socketcall()/ipc() multiplexer with arg0 == the call number, like libseccomp.
* Names unknown on an arch are skipped for that arch; names unknown on every arch of the
  filter give a warning (runc) or, with ``strict``, an error.
"""

from __future__ import annotations

import functools
import heapq
import itertools
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ocitool.errors import Diagnostic, SeccompError
from ocitool.seccomp.actions import BAD_ARCH_RET, action_value
from ocitool.seccomp.arch import X32_SYSCALL_BIT, arch_info, host_arch, normalize_arch
from ocitool.seccomp.tables import syscalls

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
OPS = (
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
)
FLAGS = (
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
)
_OP_PRIO = {
    "SCMP_CMP_EQ": 3,
    "SCMP_CMP_NE": 3,
    "SCMP_CMP_MASKED_EQ": 3,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 2,
    "SCMP_CMP_GT": 1,
    "SCMP_CMP_GE": 1,
}


@dataclass(frozen=True)
class Cmp:
    """One argument test; for MASKED_EQ ``value`` is the mask and ``value_two`` the datum.

    MASKED_EQ holds when ``arg & mask == datum & mask`` (libseccomp masks both sides).
    """

    index: int
    op: str
    value: int
    value_two: int = 0

    def test(self, arg: int) -> bool:
        v, v2 = self.value, self.value_two
        if self.op == "SCMP_CMP_EQ":
            return arg == v
        if self.op == "SCMP_CMP_NE":
            return arg != v
        if self.op == "SCMP_CMP_LT":
            return arg < v
        if self.op == "SCMP_CMP_LE":
            return arg <= v
        if self.op == "SCMP_CMP_GT":
            return arg > v
        if self.op == "SCMP_CMP_GE":
            return arg >= v
        return arg & v == v2 & v  # libseccomp masks the datum too

    def text(self) -> str:
        sym = {
            "SCMP_CMP_EQ": "==",
            "SCMP_CMP_NE": "!=",
            "SCMP_CMP_LT": "<",
            "SCMP_CMP_LE": "<=",
            "SCMP_CMP_GT": ">",
            "SCMP_CMP_GE": ">=",
        }
        if self.op == "SCMP_CMP_MASKED_EQ":
            return f"arg{self.index} & {self.value:#x} == {self.value_two & self.value:#x}"
        return f"arg{self.index} {sym[self.op]} {self.value:#x}"


@dataclass(frozen=True)
class Rule:
    conds: tuple[Cmp, ...]
    ret: int
    pointer: str = field(default="", compare=False)
    seq: int = field(default=0, compare=False)

    def matches(self, args: Sequence[int]) -> bool:
        return all(c.test(args[c.index]) for c in self.conds)


@dataclass(frozen=True)
class CondVerdict:
    """An arg-dependent verdict: the first matching rule wins, else ``fallback``."""

    rules: tuple[Rule, ...]
    fallback: int

    def decide(self, args: Sequence[int]) -> tuple[int, Rule | None]:
        for r in self.rules:
            if r.matches(args):
                return r.ret, r
        return self.fallback, None


Verdict = int | CondVerdict


@dataclass
class ArchPolicy:
    """Verdicts of one filter section (x86_64 and x32 share one: same AUDIT_ARCH)."""

    arch: str  # the section's arch (x86_64 when x32 rides along)
    audit_arch: int
    arg_bits: int
    verdicts: dict[int, Verdict]  # explicit syscall numbers
    rules_by_nr: dict[int, list[Rule]]  # every rule that named the nr, for explain
    bad_ranges: list[tuple[int, int]]  # inclusive nr ranges answered with the bad-arch action
    hot: dict[int, int]  # nr -> weight (profile syscalls), for the search tree
    members: tuple[str, ...] = ()

    def bits(self, nr: int) -> int:
        """Comparison width for ``nr`` (x32 numbers in the x86_64 section are 32-bit)."""
        return 32 if "x32" in self.members and nr & X32_SYSCALL_BIT else self.arg_bits


@dataclass
class Profile:
    default_ret: int
    bad_arch_ret: int
    sections: list[ArchPolicy]
    flags: list[str]
    listener_path: str | None
    listener_metadata: str | None
    warnings: list[Diagnostic]
    arches: list[str]


def _err(msg: str, pointer: str, code: str = "OCI401", **kw: Any) -> SeccompError:
    return SeccompError(msg, code=code, pointer=pointer, **kw)


def _int(v: Any, pointer: str, what: str, lo: int = 0, hi: int = M64) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise _err(f"{what} must be an integer {lo}..{hi}, got {v!r}", pointer)
    return v


def _list(obj: Mapping[str, Any], key: str, bp: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _err(f"{key} must be a list", f"{bp}/{key}")
    return value


def _parse_cmp(arg: Any, ptr: str, bits: int) -> Cmp:
    if not isinstance(arg, Mapping):
        raise _err("an args entry must be an object", ptr)
    index = _int(arg.get("index"), ptr + "/index", "index", 0, 5)
    op = arg.get("op")
    if op not in OPS:
        raise _err(f"unknown comparison operator {op!r}", ptr + "/op", expected=", ".join(OPS))
    value = _int(arg.get("value", 0), ptr + "/value", "value")
    value_two = _int(arg.get("valueTwo", 0), ptr + "/valueTwo", "valueTwo")
    if bits == 32:
        value, value_two = value & M32, value_two & M32
    return Cmp(index, op, value, value_two)


def _cmp_order(a: Cmp, b: Cmp) -> int:
    """libseccomp's node order (<0: ``a`` is tried first); 0 means no order (tie)."""
    if a.index != b.index:
        return -1 if a.index > b.index else 1
    pa, pb = _OP_PRIO[a.op], _OP_PRIO[b.op]
    if pa != pb:
        return -1 if pa > pb else 1
    da = a.value_two & a.value if a.op == "SCMP_CMP_MASKED_EQ" else a.value
    db = b.value_two & b.value if b.op == "SCMP_CMP_MASKED_EQ" else b.value
    if da != db:
        first_small = a.op in ("SCMP_CMP_LT", "SCMP_CMP_LE")
        return (-1 if da < db else 1) if first_small else (-1 if da > db else 1)
    return 0


def _same_node(a: Cmp, b: Cmp) -> bool:
    cls = {"SCMP_CMP_NE": "SCMP_CMP_EQ"}
    return (
        a.index == b.index
        and cls.get(a.op, a.op) == cls.get(b.op, b.op)
        and (a.value, a.value_two & a.value) == (b.value, b.value_two & b.value)
        if a.op == "SCMP_CMP_MASKED_EQ"
        else a.index == b.index
        and cls.get(a.op, a.op) == cls.get(b.op, b.op)
        and a.value == b.value
    )


def _rule_order(a: Rule, b: Rule) -> int:
    for ca, cb in zip(a.conds, b.conds, strict=False):
        if _same_node(ca, cb):
            continue
        c = _cmp_order(ca, cb)
        return c if c else (-1 if a.seq < b.seq else 1)
    if len(a.conds) != len(b.conds):
        return -1 if len(a.conds) < len(b.conds) else 1  # the shorter (prefix) rule wins
    return -1 if a.seq < b.seq else 1


def order_rules(rules: Sequence[Rule]) -> tuple[Rule, ...]:
    """The decision list: libseccomp's order, without rules that can never decide.

    A rule whose tests include all the tests of an earlier rule never matches first
    (libseccomp merges the first into the second's tree path, or drops the longer), so it
    is left out. A rule has at most one test per argument, so its subsets are few.
    """
    seen: set[frozenset[Cmp]] = set()
    out = []
    for rule in sorted(rules, key=functools.cmp_to_key(_rule_order)):
        tests = frozenset(rule.conds)
        shadowed = any(
            frozenset(sub) in seen
            for size in range(1, len(rule.conds) + 1)
            for sub in itertools.combinations(rule.conds, size)
        )
        if not shadowed:
            seen.add(tests)
            out.append(rule)
    return tuple(out)


# libseccomp also routes socket and SysV IPC calls through the socketcall()/ipc()
# multiplexers on the arches that have them: a rule for such a name gets a twin rule on the
# multiplexer with arg0 == call number (replacing any arg0 test; the other tests are kept
# as written, which is what libseccomp 2.5 does on x86, s390x, ppc64le and mipsel)
MUX_CALLS: dict[str, tuple[str, int]] = {
    **{
        n: ("socketcall", i)
        for i, n in enumerate(
            (
                "socket", "bind", "connect", "listen", "accept", "getsockname",
                "getpeername", "socketpair", "send", "recv", "sendto", "recvfrom",
                "shutdown", "setsockopt", "getsockopt", "sendmsg", "recvmsg", "accept4",
                "recvmmsg", "sendmmsg",
            ),
            start=1,
        )
    },
    "semop": ("ipc", 1),
    "semget": ("ipc", 2),
    "semctl": ("ipc", 3),
    "semtimedop": ("ipc", 4),
    "msgsnd": ("ipc", 11),
    "msgrcv": ("ipc", 12),
    "msgget": ("ipc", 13),
    "msgctl": ("ipc", 14),
    "shmat": ("ipc", 21),
    "shmdt": ("ipc", 22),
    "shmget": ("ipc", 23),
    "shmctl": ("ipc", 24),
}  # fmt: skip


def _mux_rule(rule: Rule, call: int) -> Rule:
    conds = (Cmp(0, "SCMP_CMP_EQ", call), *(c for c in rule.conds if c.index != 0))
    return Rule(conds, rule.ret, rule.pointer, rule.seq)


def _interval(c: Cmp) -> tuple[int, int] | None:
    """The inclusive value range a range test accepts (None for other ops)."""
    v = c.value
    return {
        "SCMP_CMP_EQ": (v, v),
        "SCMP_CMP_LT": (0, v - 1),
        "SCMP_CMP_LE": (0, v),
        "SCMP_CMP_GT": (v + 1, M64),
        "SCMP_CMP_GE": (v, M64),
    }.get(c.op)


def _disjoint(a: Cmp, b: Cmp) -> bool:
    """True when no argument value satisfies both tests (same index assumed)."""
    if a.op == "SCMP_CMP_NE" or b.op == "SCMP_CMP_NE":
        other = b if a.op == "SCMP_CMP_NE" else a
        ne = a if a.op == "SCMP_CMP_NE" else b
        return other.op == "SCMP_CMP_EQ" and other.value == ne.value
    if a.op == "SCMP_CMP_MASKED_EQ" and b.op == "SCMP_CMP_MASKED_EQ":
        common = a.value & b.value
        return (a.value_two & common) != (b.value_two & common)
    if "SCMP_CMP_MASKED_EQ" in (a.op, b.op):
        m = a if a.op == "SCMP_CMP_MASKED_EQ" else b
        o = b if m is a else a
        return o.op == "SCMP_CMP_EQ" and (o.value & m.value) != (m.value_two & m.value)
    ia, ib = _interval(a), _interval(b)
    assert ia is not None and ib is not None
    return ia[0] > ia[1] or ib[0] > ib[1] or ia[1] < ib[0] or ib[1] < ia[0]


def rules_can_overlap(a: Rule, b: Rule) -> bool:
    """Conservative: False only when some argument makes the two rules exclusive."""
    for ca in a.conds:
        for cb in b.conds:
            if ca.index == cb.index and _disjoint(ca, cb):
                return False
    return True


def first_overlap(rules: Sequence[Rule]) -> tuple[str, str] | None:
    """Pointers of the first two rules with different actions that may match together.

    Comparing every pair would be quadratic in the rules of one syscall, so a rule with
    ``argN == v`` is only compared with the later rules that test argN for that same value
    or do not test argN for equality: the pairs skipped are disjoint, so the pair found
    is the one the full comparison finds first.
    """
    if len({r.ret for r in rules}) < 2:
        return None
    eqs = [{c.index: c.value for c in r.conds if c.op == "SCMP_CMP_EQ"} for r in rules]
    same: dict[tuple[int, int], list[int]] = {}  # (arg, value) -> rules testing arg == value
    free: dict[int, list[int]] = {i: [] for i in range(6)}  # arg -> rules with no == on it
    for j, eq in enumerate(eqs):
        for index in range(6):
            if index in eq:
                same.setdefault((index, eq[index]), []).append(j)
            else:
                free[index].append(j)
    for i, a in enumerate(rules):
        later: Iterable[int] = range(i + 1, len(rules))
        if eqs[i]:
            index = min(eqs[i], key=lambda x: len(same[(x, eqs[i][x])]) + len(free[x]))
            tied, other = same[(index, eqs[i][index])], free[index]
            later = heapq.merge(tied[bisect_right(tied, i) :], other[bisect_right(other, i) :])
        for j in later:
            b = rules[j]
            if a.ret != b.ret and a.pointer != b.pointer and rules_can_overlap(a, b):
                return a.pointer, b.pointer
    return None


def _always_true(c: Cmp) -> bool:
    return c.op == "SCMP_CMP_MASKED_EQ" and c.value == 0


def _split_same_arg(conds: list[Cmp]) -> list[tuple[Cmp, ...]]:
    """runc: two tests of one argument in one rule become separate (ORed) rules."""
    idx = [c.index for c in conds]
    if len(set(idx)) == len(idx):
        return [tuple(sorted(conds, key=lambda c: c.index))]
    return [(c,) for c in conds]


def _section_arches(arches: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Group arches into filter sections; x86_64 and x32 share AUDIT_ARCH_X86_64."""
    out: list[tuple[str, tuple[str, ...]]] = []
    seen: set[str] = set()
    for a in arches:
        if a in seen:
            continue
        if a in ("x86_64", "x32"):
            members = tuple(m for m in ("x86_64", "x32") if m in arches)
            seen.update(members)
            out.append(("x86_64", members))
        else:
            seen.add(a)
            out.append((a, (a,)))
    return out


def build_profile(
    seccomp: Mapping[str, Any],
    arch: str | None = None,
    *,
    strict: bool = False,
    base_pointer: str = "/linux/seccomp",
) -> Profile:
    """Check and normalise an OCI seccomp object into per-section verdict maps."""
    bp = base_pointer
    if not isinstance(seccomp, Mapping):
        raise _err("the seccomp object must be a JSON object", bp)
    if "defaultAction" not in seccomp:
        raise _err("defaultAction is required", bp, expected="an SCMP_ACT_* action")
    from ocitool.seccomp.shape import check_shape

    check_shape(dict(seccomp), bp)
    dflt_errno = seccomp.get("defaultErrnoRet")
    if dflt_errno is not None:
        _int(dflt_errno, bp + "/defaultErrnoRet", "defaultErrnoRet", 0, 0xFFFF)
    default_ret = action_value(seccomp["defaultAction"], dflt_errno, pointer=bp + "/defaultAction")
    warnings: list[Diagnostic] = []

    def warn(code: str, msg: str, ptr: str, hint: str | None = None) -> None:
        if strict:
            raise SeccompError(msg, code=code, pointer=ptr, hint=hint)
        warnings.append(Diagnostic(code, msg, ptr, "warning", hint))

    target = normalize_arch(arch) if arch else host_arch()
    arches = [target]
    for i, name in enumerate(_list(seccomp, "architectures", bp)):
        if not isinstance(name, str):
            raise _err("architectures entries must be strings", f"{bp}/architectures/{i}")
        try:
            a = normalize_arch(name)
        except SeccompError as exc:
            warn(
                "OCI408",
                f"architecture {name!r} is not supported by ocitool: skipped",
                f"{bp}/architectures/{i}",
                exc.hint,
            )
            continue
        if a not in arches:
            arches.append(a)
    flags = list(_list(seccomp, "flags", bp))
    for i, f in enumerate(flags):
        if f not in FLAGS:
            raise _err(f"unknown seccomp flag {f!r}", f"{bp}/flags/{i}", expected=", ".join(FLAGS))
    listener_path = seccomp.get("listenerPath") or None
    listener_metadata = seccomp.get("listenerMetadata") or None
    for key, val in (("listenerPath", listener_path), ("listenerMetadata", listener_metadata)):
        if val is not None and not isinstance(val, str):
            raise _err(f"{key} must be a string", f"{bp}/{key}")

    groups = _section_arches(arches)
    sections: list[ArchPolicy] = []
    known_somewhere: set[str] = set()
    rules_in: list[tuple[list[str], int, list[Any], str]] = []
    uses_notify = seccomp["defaultAction"] == "SCMP_ACT_NOTIFY"
    for i, sc in enumerate(_list(seccomp, "syscalls", bp)):
        ptr = f"{bp}/syscalls/{i}"
        if not isinstance(sc, Mapping):
            raise _err("a syscalls entry must be an object", ptr)
        names = sc.get("names")
        if names is None and isinstance(sc.get("name"), str):
            names = [sc["name"]]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _err("names must be a list of syscall names", ptr + "/names")
        act = sc.get("action")
        if not isinstance(act, str):
            raise _err("action is required", ptr + "/action", expected="an SCMP_ACT_* action")
        uses_notify |= act == "SCMP_ACT_NOTIFY"
        errno_ret = sc.get("errnoRet")
        if errno_ret is not None:
            _int(errno_ret, ptr + "/errnoRet", "errnoRet", 0, 0xFFFF)
            if act not in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
                warn(
                    "OCI405",
                    f"errnoRet is ignored for {act}",
                    ptr + "/errnoRet",
                    "errnoRet only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE",
                )
        ret = action_value(act, errno_ret, pointer=ptr + "/action")
        args = sc.get("args") or []
        if not isinstance(args, list):
            raise _err("args must be a list", ptr + "/args")
        rules_in.append((names, ret, args, ptr))
    if uses_notify and not listener_path:
        warn(
            "OCI406",
            "SCMP_ACT_NOTIFY is used but listenerPath is not set",
            bp,
            "set linux.seccomp.listenerPath to the seccomp agent's socket",
        )

    reported: set[tuple[str, str]] = set()
    for sec_arch, members in groups:
        info = arch_info(sec_arch if "x86_64" in members else members[0])
        verdict_rules: dict[int, list[Rule]] = {}
        all_rules: dict[int, list[Rule]] = {}
        hot: dict[int, int] = {}
        member_tables = [(syscalls(m), arch_info(m).arg_bits, m == "x86_64") for m in members]
        for idx, (names, ret, args, ptr) in enumerate(rules_in):
            # one Rule object per (profile rule, split group, width), shared by its names
            by_bits: dict[int, list[Rule]] = {}
            for bits in {b for _, b, _ in member_tables}:
                parsed = [_parse_cmp(a, f"{ptr}/args/{j}", bits) for j, a in enumerate(args)]
                split: list[tuple[Cmp, ...]] = _split_same_arg(parsed) if parsed else [()]
                # a MASKED_EQ with mask 0 always holds: libseccomp drops the test, which
                # can turn the rule unconditional (and so change precedence)
                split = [tuple(c for c in g if not _always_true(c)) for g in split]
                by_bits[bits] = [Rule(c, ret, ptr, idx * 8 + g) for g, c in enumerate(split)]
            keep = ret != default_ret
            for name in names:
                for table, bits, is64 in member_tables:
                    nr = table.get(name)
                    mux = MUX_CALLS.get(name)
                    if mux is not None and mux[0] in table:
                        known_somewhere.add(name)
                        mux_nr = table[mux[0]]
                        hot[mux_nr] = 1
                        twins = [_mux_rule(r, mux[1]) for r in by_bits[bits]]
                        all_rules.setdefault(mux_nr, []).extend(twins)
                        if keep:
                            verdict_rules.setdefault(mux_nr, []).extend(twins)
                    if nr is None or (is64 and nr & X32_SYSCALL_BIT):
                        continue
                    known_somewhere.add(name)
                    hot[nr] = 1
                    rules = by_bits[bits]
                    all_rules.setdefault(nr, []).extend(rules)
                    if keep:
                        verdict_rules.setdefault(nr, []).extend(rules)
        verdicts: dict[int, Verdict] = {}
        for nr, rules in verdict_rules.items():
            uncond = [r for r in rules if not r.conds]
            if uncond:
                later = [r for r in uncond[1:] if r.ret != uncond[0].ret]
                if later:
                    warnings.append(
                        Diagnostic(
                            "OCI407",
                            f"syscall {nr} on {sec_arch}: this rule has no effect, the earlier "
                            f"unconditional rule {uncond[0].pointer} decides",
                            later[0].pointer,
                            "info",
                            "libseccomp (runc, crun) also keeps the first unconditional rule",
                        )
                    )
                verdicts[nr] = uncond[0].ret
            else:
                verdicts[nr] = CondVerdict(order_rules(rules), default_ret)
                clash = first_overlap(rules)
                if clash is not None and clash not in reported:
                    reported.add(clash)
                    a, b = clash
                    warnings.append(
                        Diagnostic(
                            "OCI409",
                            f"rules {a} and {b} have different actions and can match the same "
                            f"call of syscall {nr} on {sec_arch}; ocitool picks by its documented "
                            "order, libseccomp's pick depends on its tree shape",
                            b,
                            "warning",
                            "make the conditions disjoint (see docs/seccomp-compiler.md)",
                        )
                    )
        bad: list[tuple[int, int]] = []
        if sec_arch == "x86_64" and "x32" not in members:
            bad.append((X32_SYSCALL_BIT, M32 - 1))  # x32 numbers from a 64-bit task
        if sec_arch == "x86_64" and "x86_64" not in members:
            bad.append((0, X32_SYSCALL_BIT - 1))  # x32-only filter: plain x86_64 numbers
        sections.append(
            ArchPolicy(
                sec_arch, info.audit_arch, info.arg_bits, verdicts, all_rules, bad, hot, members
            )
        )

    seen_names: set[str] = set()
    for names, _ret, _args, ptr in rules_in:
        for name in names:
            if name not in known_somewhere and name not in seen_names:
                seen_names.add(name)
                warn(
                    "OCI400",
                    f"unknown syscall {name!r} for {', '.join(arches)}: skipped",
                    ptr + "/names",
                    "runc skips names libseccomp cannot resolve; use --strict to refuse them",
                )
    return Profile(
        default_ret,
        BAD_ARCH_RET,
        sections,
        flags,
        listener_path,
        listener_metadata,
        warnings,
        arches,
    )


def section_for(profile: Profile, arch: str) -> ArchPolicy | None:
    a = normalize_arch(arch)
    for s in profile.sections:
        if a in s.members:
            return s
    return None


def evaluate(
    profile: Profile, arch: str, nr: int, args: Sequence[int] = (0,) * 6
) -> tuple[int, Rule | None]:
    """The verdict the model gives (and the deciding rule, if any)."""
    sec = section_for(profile, arch)
    if sec is None:
        return profile.bad_arch_ret, None
    nr &= M32
    for lo, hi in sec.bad_ranges:
        if lo <= nr <= hi:
            return profile.bad_arch_ret, None
    v = sec.verdicts.get(nr)
    if v is None:
        return profile.default_ret, None
    if isinstance(v, int):
        rules = [r for r in sec.rules_by_nr.get(nr, []) if not r.conds and r.ret == v]
        return v, rules[0] if rules else None
    a = [(x & M32 if sec.bits(nr) == 32 else x & M64) for x in args]
    return v.decide(a)
