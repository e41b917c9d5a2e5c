"""Readable listings of seccomp BPF: any program (ours or libseccomp's), with syscall names.

Names come from a light data-flow guess: after ``ld [0]`` (nr), constants in jumps are
syscall numbers of the arch the preceding ``jeq arch`` selected.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ocitool.seccomp import bpf as B
from ocitool.seccomp.actions import action_text
from ocitool.seccomp.arch import X32_SYSCALL_BIT, arch_info
from ocitool.seccomp.tables import AUDIT_ARCH, syscall_name

_AUDIT_NAMES = {v: k for k, v in AUDIT_ARCH.items() if k != "x32"}
_JMP_NAMES = {B.BPF_JEQ: "jeq", B.BPF_JGT: "jgt", B.BPF_JGE: "jge", B.BPF_JSET: "jset"}
_ALU_NAMES = {
    B.BPF_ADD: "add",
    B.BPF_SUB: "sub",
    B.BPF_MUL: "mul",
    B.BPF_DIV: "div",
    B.BPF_OR: "or",
    B.BPF_AND: "and",
    B.BPF_LSH: "lsh",
    B.BPF_RSH: "rsh",
    B.BPF_NEG: "neg",
    B.BPF_MOD: "mod",
    B.BPF_XOR: "xor",
}


def _field(k: int, big_endian: bool) -> str:
    if k == B.OFF_NR:
        return "nr"
    if k == B.OFF_ARCH:
        return "arch"
    if k in (B.OFF_IP, B.OFF_IP + 4):
        hi = (k == B.OFF_IP + 4) != big_endian
        return "ip." + ("hi" if hi else "lo")
    if B.OFF_ARGS <= k < B.SECCOMP_DATA_SIZE:
        idx, rem = divmod(k - B.OFF_ARGS, 8)
        hi = (rem == 4) != big_endian
        return f"args[{idx}].{'hi' if hi else 'lo'}"
    return f"[{k}]"


def _nr_name(arch: str | None, nr: int) -> str | None:
    if arch is None:
        return None
    if arch == "x86_64" and nr & X32_SYSCALL_BIT:
        return syscall_name("x32", nr)
    return syscall_name(arch, nr)


def _flow(insns: Sequence[B.Insn], default: str | None) -> list[tuple[str | None, str | None]]:
    """For each instruction: what A holds ("nr", "arch" or None) and which arch the code
    runs under (the taken side of ``jeq AUDIT_ARCH_x`` fixes it), following the jumps.
    Paths that disagree give None (for the arch: ``default``)."""
    n = len(insns)
    seen: list[set[tuple[str | None, str | None]] | None] = [None] * n
    if n:
        seen[0] = {(None, None)}
    for pc, ins in enumerate(insns):
        here = seen[pc] or {(None, None)}
        cls = ins.code & 0x07
        after = here
        if cls == B.BPF_LD:
            kind = None
            if ins.code & 0xE0 == B.BPF_ABS and ins.k in (B.OFF_NR, B.OFF_ARCH):
                kind = "nr" if ins.k == B.OFF_NR else "arch"
            after = {(kind, a) for _, a in here}
        elif cls in (B.BPF_ALU, B.BPF_MISC):
            after = {(None, a) for _, a in here}
        succ: list[tuple[int, set[tuple[str | None, str | None]]]] = []
        if cls == B.BPF_JMP and ins.code & 0xF0 == B.BPF_JA:
            succ = [(pc + 1 + ins.k, after)]
        elif cls == B.BPF_JMP:
            taken = after
            if ins.code & 0xF0 == B.BPF_JEQ and ins.k in _AUDIT_NAMES:
                taken = {(c, _AUDIT_NAMES[ins.k]) if c == "arch" else (c, a) for c, a in after}
            succ = [(pc + 1 + ins.jt, taken), (pc + 1 + ins.jf, after)]
        elif cls != B.BPF_RET:
            succ = [(pc + 1, after)]
        for tgt, st in succ:
            if tgt < n:
                cur = seen[tgt]
                seen[tgt] = set(st) if cur is None else cur | st
    out: list[tuple[str | None, str | None]] = []
    for maybe in seen:
        states = maybe or set()
        accs = {c for c, _ in states}
        arches = {a for _, a in states}
        out.append(
            (
                accs.pop() if len(accs) == 1 else None,
                arches.pop() if len(arches) == 1 and None not in arches else default,
            )
        )
    return out


def disassemble_insns(insns: Sequence[B.Insn], arch: str | None = None) -> str:
    """One line per instruction: index, mnemonic, operands, targets, and a comment."""
    big = arch_info(arch).big_endian if arch else sys.byteorder == "big"
    lines = []
    flow = _flow(insns, arch)  # per instruction: what A holds, which arch
    width = len(str(max(len(insns) - 1, 0)))
    for pc, ins in enumerate(insns):
        code, k = ins.code, ins.k
        cls = code & 0x07
        comment = ""
        acc = flow[pc][0]
        if cls == B.BPF_LD and code & 0xE0 == B.BPF_ABS:
            text = f"ld   {_field(k, big)}"
        elif cls == B.BPF_LD and code & 0xE0 == B.BPF_IMM:
            text = f"ld   #{k:#x}"
        elif cls == B.BPF_LD and code & 0xE0 == B.BPF_MEM:
            text = f"ld   M[{k}]"
        elif cls == B.BPF_LD and code & 0xE0 == B.BPF_LEN:
            text = "ld   #len"
        elif cls == B.BPF_LDX:
            text = f"ldx  {'#len' if code & 0xE0 == B.BPF_LEN else f'#{k:#x}'}"
        elif cls == B.BPF_ST:
            text = f"st   M[{k}]"
        elif cls == B.BPF_STX:
            text = f"stx  M[{k}]"
        elif cls == B.BPF_ALU:
            op = _ALU_NAMES.get(code & 0xF0, f"alu{code:#x}")
            text = f"{op:<4} {'x' if code & B.BPF_X else f'#{k:#x}'}"
        elif cls == B.BPF_JMP and code & 0xF0 == B.BPF_JA:
            text = f"ja   {pc + 1 + k}"
        elif cls == B.BPF_JMP:
            op = _JMP_NAMES.get(code & 0xF0, f"j{code:#x}")
            src = "x" if code & B.BPF_X else f"#{k:#x}"
            text = f"{op:<4} {src:<12} jt {pc + 1 + ins.jt:<{width}}  jf {pc + 1 + ins.jf}"
            if acc == "arch" and not code & B.BPF_X and k in _AUDIT_NAMES:
                comment = _AUDIT_NAMES[k]
            elif acc == "nr" and not code & B.BPF_X and op in ("jeq", "jge", "jgt"):
                name = _nr_name(flow[pc][1], k)
                if k == X32_SYSCALL_BIT and op != "jeq":
                    comment = "X32_SYSCALL_BIT"
                elif k == 0xFFFFFFFF:
                    comment = "nr -1"
                elif name:
                    comment = name
        elif cls == B.BPF_RET:
            text = "ret  A" if code & 0x18 == B.BPF_A else f"ret  #{k:#010x}"
            if not code & 0x18:
                comment = action_text(k)
        elif cls == B.BPF_MISC:
            text = "tax" if code & 0xF8 == B.BPF_TAX else "txa"
        else:
            text = f".word {code:#06x} {ins.jt} {ins.jf} {k:#x}"
        line = f"{pc:>{width}}: {text}"
        if comment:
            line = f"{line:<44} ; {comment}"
        lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")


def disassemble(raw: bytes, arch: str | None = None) -> str:
    """Disassemble a raw program (``seccomp_export_bpf`` format).

    libseccomp writes the sock_filter array in the byte order of the filter's arch (native
    for a native filter), so ``arch`` also picks the byte order; None means this host's.
    """
    order = sys.byteorder
    if arch is not None:
        order = "big" if arch_info(arch).big_endian else "little"
    return disassemble_insns(B.unpack_program(raw, order), arch)


def accumulator_conflicts(insns: Sequence[B.Insn]) -> list[int]:
    """Conditional jumps whose A can hold different values depending on the path taken.

    A correct filter compares a definite word at every branch; a program where a jump can
    see A loaded from two different places (say args[0] on one path, args[1] on another)
    tests the wrong argument on one of them. libseccomp 2.5.4 emits such programs for
    some multi-argument rules (it reuses a load across a fall-through); ours must never.
    """
    n = len(insns)
    state_in: list[set[object] | None] = [None] * n
    state_in[0] = {"initial"}
    bad: list[int] = []
    for pc, ins in enumerate(insns):
        st = state_in[pc]
        if st is None:
            continue  # unreachable
        cls = ins.code & 0x07
        if cls == B.BPF_LD:
            out: set[object] = {("ld", ins.code, ins.k)}
        elif cls == B.BPF_ALU:
            out = {("alu", ins.code, ins.k, frozenset(st))}
        elif cls == B.BPF_MISC and ins.code & 0xF8 == B.BPF_TXA:
            out = {("x", pc)}
        else:
            out = st
        succ: list[int] = []
        if cls == B.BPF_RET:
            succ = []
        elif cls == B.BPF_JMP and ins.code & 0xF0 == B.BPF_JA:
            succ = [pc + 1 + ins.k]
        elif cls == B.BPF_JMP:
            if len(st) > 1:
                bad.append(pc)
            succ = [pc + 1 + ins.jt, pc + 1 + ins.jf]
        else:
            succ = [pc + 1]
        for s in succ:
            if s < n:
                cur = state_in[s]
                state_in[s] = set(out) if cur is None else cur | out
    return bad
