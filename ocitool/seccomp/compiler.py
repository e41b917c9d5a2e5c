"""OCI seccomp object -> classic BPF, our own code generator (libseccomp is only the oracle).

Layout of a program::

    ld arch; jeq AUDIT_ARCH_1 -> S1; jeq AUDIT_ARCH_2 -> S2; ...; ret BAD_ARCH
    S1: ld nr; <balanced jge tree over verdict ranges>; shared ret per verdict;
        arg-check sub-programs (one per distinct decision list)
    S2: ...

Every path to an arg-independent verdict loads only ``arch`` and ``nr``, so the kernel's
seccomp action cache can pre-compute it. Hot path: imports neither lark, rich nor jsonschema.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ocitool.errors import Diagnostic, SeccompError
from ocitool.seccomp import bpf as B
from ocitool.seccomp.actions import action_text
from ocitool.seccomp.arch import arch_info
from ocitool.seccomp.optimizer import Range, balanced_tree, build_ranges, peephole
from ocitool.seccomp.rules import M32, ArchPolicy, Cmp, CondVerdict, Profile, build_profile


@dataclass
class CompiledFilter:
    """A finished filter plus what the executor needs to load it."""

    instructions: list[B.Insn]
    flags: list[str] = field(default_factory=list)
    listener_path: str | None = None
    listener_metadata: str | None = None
    warnings: list[Diagnostic] = field(default_factory=list)
    arches: list[str] = field(default_factory=list)
    default_ret: int = 0
    profile: Profile | None = field(default=None, repr=False)

    def raw(self, byteorder: str | None = None) -> bytes:
        """Exactly what ``seccomp_export_bpf`` writes: the sock_filter array in the byte order
        of the target arch (the host's for a native filter), nothing else."""
        if byteorder is None:
            big = arch_info(self.arches[0]).big_endian if self.arches else sys.byteorder == "big"
            byteorder = "big" if big else "little"
        return B.pack_program(self.instructions, byteorder)

    def disasm(self) -> str:
        from ocitool.seccomp.disasm import disassemble_insns

        head = (
            f"; ocitool seccomp filter: {len(self.instructions)} instructions, "
            f"arches {', '.join(self.arches)}, default {action_text(self.default_ret)}\n"
        )
        return head + disassemble_insns(self.instructions, self.arches[0] if self.arches else None)

    def to_json(self) -> dict[str, Any]:
        return {
            "arches": self.arches,
            "defaultAction": action_text(self.default_ret),
            "flags": self.flags,
            "listenerPath": self.listener_path,
            "listenerMetadata": self.listener_metadata,
            "length": len(self.instructions),
            "instructions": [
                {"code": i.code, "jt": i.jt, "jf": i.jf, "k": i.k} for i in self.instructions
            ],
            "warnings": [w.to_json() for w in self.warnings],
        }

    def json(self) -> str:
        import json  # only the json output format needs it

        return json.dumps(self.to_json(), indent=2)

    def __len__(self) -> int:
        return len(self.instructions)


class _Emitter:
    """Collects symbolic code and tracks which seccomp_data word A holds (to skip reloads)."""

    def __init__(self) -> None:
        self.items: list[B.Item] = []
        self.n = 0
        self.acc: int | None = None  # offset loaded in A, None = unknown
        self._incoming: dict[str, set[int | None]] = {}

    def label(self, name: str, fallthrough: bool = True) -> None:
        states = set(self._incoming.pop(name, set()))
        if fallthrough:
            states.add(self.acc)
        self.acc = states.pop() if len(states) == 1 else None
        self.items.append(B.Label(name))

    def fresh(self, stem: str) -> str:
        self.n += 1
        return f"{stem}{self.n}"

    def load(self, off: int) -> None:
        if self.acc != off:
            self.items.append(B.Op(B.LD_ABS, off))
            self.acc = off

    def op(self, code: int, k: int = 0, jt: str | None = None, jf: str | None = None) -> None:
        for t in (jt, jf):
            if t is not None:
                self._incoming.setdefault(t, set()).add(self.acc)
        self.items.append(B.Op(code, k, jt, jf))
        if code & 0x07 == B.BPF_ALU:
            self.acc = None

    def ret(self, k: int) -> None:
        self.items.append(B.Op(B.RET_K, k & M32))
        self.acc = None

    def jump(self, target: str) -> None:
        self.op(B.JA, jt=target)


def _emit_cmp(e: _Emitter, c: Cmp, bits: int, big: bool, fail: str) -> None:
    """Fall through when ``c`` holds, jump to ``fail`` otherwise (64-bit from two halves)."""
    ok = e.fresh(".ok")
    lo_off = B.arg_offset(c.index, False, big)
    hi_off = B.arg_offset(c.index, True, big)
    v, v2 = c.value, c.value_two
    vh, vl = v >> 32, v & M32
    op = c.op
    if op == "SCMP_CMP_MASKED_EQ":
        v2 &= v  # libseccomp compares (arg & mask) == (datum & mask)
        halves = [(lo_off, vl, v2 & M32)]
        if bits == 64:
            halves.insert(0, (hi_off, vh, v2 >> 32))
        for off, mask, want in halves:
            if mask == 0:  # (x & 0) == 0: always true, test nothing
                continue
            e.load(off)
            if mask != M32:
                e.op(B.ALU_AND_K, mask)
            e.op(B.JEQ_K, want, None, fail)
        return
    if bits == 32:
        e.load(lo_off)
        table = {
            "SCMP_CMP_EQ": (B.JEQ_K, None, fail),
            "SCMP_CMP_NE": (B.JEQ_K, fail, None),
            "SCMP_CMP_GT": (B.JGT_K, None, fail),
            "SCMP_CMP_GE": (B.JGE_K, None, fail),
            "SCMP_CMP_LT": (B.JGE_K, fail, None),
            "SCMP_CMP_LE": (B.JGT_K, fail, None),
        }
        code, jt, jf = table[op]
        e.op(code, v & M32, jt, jf)
        return
    e.load(hi_off)
    if op == "SCMP_CMP_EQ":
        e.op(B.JEQ_K, vh, None, fail)
        e.load(lo_off)
        e.op(B.JEQ_K, vl, None, fail)
        return
    if op == "SCMP_CMP_NE":
        e.op(B.JEQ_K, vh, None, ok)
        e.load(lo_off)
        e.op(B.JEQ_K, vl, fail, ok)
    elif op in ("SCMP_CMP_GT", "SCMP_CMP_GE"):
        e.op(B.JGT_K, vh, ok, None)
        e.op(B.JEQ_K, vh, None, fail)
        e.load(lo_off)
        e.op(B.JGT_K if op == "SCMP_CMP_GT" else B.JGE_K, vl, ok, fail)
    else:  # LT / LE
        e.op(B.JGT_K, vh, fail, None)
        e.op(B.JEQ_K, vh, None, ok)
        e.load(lo_off)
        e.op(B.JGE_K if op == "SCMP_CMP_LT" else B.JGT_K, vl, fail, ok)
    e.label(ok, fallthrough=False)


RunKey = tuple[str, int, int]  # ("hi", arg, high word) or ("eq", arg, value)


def _run_keys(rule: Any, bits: int) -> list[RunKey]:
    """What ``rule`` can share with its neighbours: each ``argN == v`` test it makes, and
    for 64-bit arguments the high word that test compares."""
    keys: list[RunKey] = []
    for c in rule.conds:
        if c.op == "SCMP_CMP_EQ":
            keys.append(("eq", c.index, c.value))
            if bits == 64:
                keys.append(("hi", c.index, c.value >> 32))
    return keys


def _run(rules: list[Any], i: int, bits: int) -> tuple[RunKey | None, int]:
    """The longest run of rules from ``i`` sharing one key, and where it ends."""
    best: tuple[RunKey | None, int] = (None, i + 1)
    for key in _run_keys(rules[i], bits):
        j = i + 1
        while j < len(rules) and key in _run_keys(rules[j], bits):
            j += 1
        if j > best[1]:
            best = (key, j)
    return best


def _emit_cond(
    e: _Emitter, cv: CondVerdict, bits: int, big: bool, ret_label: dict[int, str]
) -> None:
    rules = list(cv.rules)
    i = 0
    while i < len(rules):
        key, j = _run(rules, i, bits)
        if key is not None:
            # rules that all make one test, or test one argument for equality with values
            # sharing a high word: that test once, then the rest of each rule (a jeq
            # chain for lone "argN == v" rules). A rule's tests are ANDed, so testing the
            # shared one first keeps its meaning, and the run keeps the first-match order.
            kind, index, value = key
            after = e.fresh(".next")
            if kind == "eq":
                _emit_cmp(e, Cmp(index, "SCMP_CMP_EQ", value), bits, big, after)
            else:
                e.load(B.arg_offset(index, True, big))
                e.op(B.JEQ_K, value, None, after)
            for rule in rules[i:j]:
                eq = next(c for c in rule.conds if c.op == "SCMP_CMP_EQ" and c.index == index)
                rest = [c for c in rule.conds if c is not eq]
                if kind == "hi":
                    e.load(B.arg_offset(index, False, big))
                    if not rest:
                        e.op(B.JEQ_K, eq.value & M32, ret_label[rule.ret], None)
                        continue
                fail = e.fresh(".next")
                if kind == "hi":
                    e.op(B.JEQ_K, eq.value & M32, None, fail)
                for c in rest:
                    _emit_cmp(e, c, bits, big, fail)
                e.jump(ret_label[rule.ret])
                e.label(fail, fallthrough=False)
            e.jump(after)
            e.label(after, fallthrough=False)
            i = j
            continue
        rule = rules[i]
        fail = e.fresh(".next")
        for c in rule.conds:
            _emit_cmp(e, c, bits, big, fail)
        e.jump(ret_label[rule.ret])
        e.label(fail, fallthrough=False)
        i += 1
    e.jump(ret_label[cv.fallback])


def _ret_labels(e: _Emitter, values: set[int], prefix: str) -> dict[int, str]:
    return {v: f"{prefix}.ret{v:08x}" for v in values}


def _emit_section(e: _Emitter, sec: ArchPolicy, profile: Profile, start: str) -> None:
    big = arch_info(sec.arch).big_endian
    overrides = [(lo, hi, profile.bad_arch_ret) for lo, hi in sec.bad_ranges]
    ranges: list[Range] = build_ranges(
        sec.verdicts, profile.default_ret, {n: float(w) for n, w in sec.hot.items()}, overrides
    )
    e.label(start, fallthrough=False)
    e.load(B.OFF_NR)
    prefix = f".{sec.arch}"
    rets: set[int] = {profile.default_ret}
    # one sub-program per distinct (decision list, comparison width)
    conds: dict[tuple[CondVerdict, int], str] = {}
    for r in ranges:
        if isinstance(r.verdict, int):
            rets.add(r.verdict)
        else:
            assert isinstance(r.verdict, CondVerdict)
            rets.update(x.ret for x in r.verdict.rules)
            conds.setdefault((r.verdict, sec.bits(r.lo)), f"{prefix}.args{len(conds)}")
    ret_label = _ret_labels(e, rets, prefix)

    def leaf(r: Range) -> str:
        if isinstance(r.verdict, int):
            return ret_label[r.verdict]
        return conds[(r.verdict, sec.bits(r.lo))]  # type: ignore[index]

    if len(ranges) > 1:
        root = balanced_tree([r.weight for r in ranges])
        stack: list[tuple[int, int, str | None]] = [(0, len(ranges) - 1, None)]
        while stack:
            i, j, name = stack.pop()
            if name is not None:
                e.label(name, fallthrough=False)
            e.acc = B.OFF_NR
            k = root[(i, j)]
            right = leaf(ranges[k]) if k == j else e.fresh(f"{prefix}.n")
            left = leaf(ranges[k - 1]) if k - 1 == i else e.fresh(f"{prefix}.n")
            e.op(B.JGE_K, ranges[k].lo, right, left)
            if k != j:
                stack.append((k, j, right))
            if k - 1 != i:
                stack.append((i, k - 1, left))
    else:
        e.jump(leaf(ranges[0]))
    for (cv, bits), name in conds.items():
        e.label(name, fallthrough=False)
        e.acc = B.OFF_NR
        _emit_cond(e, cv, bits, big, ret_label)
    for v, name in sorted(ret_label.items(), key=lambda kv: kv[1]):
        e.label(name, fallthrough=False)
        e.ret(v)


def generate(profile: Profile) -> list[B.Insn]:
    """The program for ``profile``; SeccompError OCI410 when the kernel would refuse it."""
    insns = generate_unchecked(profile)
    if len(insns) > B.BPF_MAXINSNS:
        raise SeccompError(
            f"the seccomp filter needs {len(insns)} instructions; the kernel allows "
            f"{B.BPF_MAXINSNS}",
            code="OCI410",
            pointer="/linux/seccomp/syscalls",
            hint="merge rules, use ranges of allowed syscalls, or drop architectures",
        )
    return insns


def generate_unchecked(profile: Profile) -> list[B.Insn]:
    """The program for ``profile`` whatever its length (what the bench and tests measure)."""
    e = _Emitter()
    e.load(B.OFF_ARCH)
    starts = []
    for idx, sec in enumerate(profile.sections):
        name = f".sec{idx}"
        starts.append(name)
        e.op(B.JEQ_K, sec.audit_arch, name, None)
    e.ret(profile.bad_arch_ret)
    for sec, name in zip(profile.sections, starts, strict=True):
        _emit_section(e, sec, profile, name)
    return B.assemble(peephole(e.items))


def compile_seccomp(
    seccomp: Mapping[str, Any],
    arch: str | None = None,
    *,
    strict: bool = False,
    base_pointer: str = "/linux/seccomp",
) -> CompiledFilter:
    """Compile an OCI ``linux.seccomp`` object for ``arch`` (default: host) + its arches."""
    profile = build_profile(seccomp, arch, strict=strict, base_pointer=base_pointer)
    insns = generate(profile)
    return CompiledFilter(
        instructions=insns,
        flags=profile.flags,
        listener_path=profile.listener_path,
        listener_metadata=profile.listener_metadata,
        warnings=profile.warnings,
        arches=profile.arches,
        default_ret=profile.default_ret,
        profile=profile,
    )
