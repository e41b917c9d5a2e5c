"""Classic BPF as the kernel's seccomp filter sees it: opcodes, instructions, an assembler.

The compiler emits symbolic code (labels instead of offsets); :func:`assemble` turns it into
real instructions. Conditional jumps only reach 255 instructions forward, so a far target
gets a ``ja`` trampoline (32-bit offset) placed right after the jump, or a copy of the
target when that is a ``ret``.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ocitool.errors import SeccompError

# instruction classes
BPF_LD = 0x00
BPF_LDX = 0x01
BPF_ST = 0x02
BPF_STX = 0x03
BPF_ALU = 0x04
BPF_JMP = 0x05
BPF_RET = 0x06
BPF_MISC = 0x07
# ld/ldx sizes and modes
BPF_W = 0x00
BPF_H = 0x08
BPF_B = 0x10
BPF_IMM = 0x00
BPF_ABS = 0x20
BPF_IND = 0x40
BPF_MEM = 0x60
BPF_LEN = 0x80
BPF_MSH = 0xA0
# alu / jmp operations
BPF_ADD = 0x00
BPF_SUB = 0x10
BPF_MUL = 0x20
BPF_DIV = 0x30
BPF_OR = 0x40
BPF_AND = 0x50
BPF_LSH = 0x60
BPF_RSH = 0x70
BPF_NEG = 0x80
BPF_MOD = 0x90
BPF_XOR = 0xA0
BPF_JA = 0x00
BPF_JEQ = 0x10
BPF_JGT = 0x20
BPF_JGE = 0x30
BPF_JSET = 0x40
# sources
BPF_K = 0x00
BPF_X = 0x08
BPF_A = 0x10
# misc
BPF_TAX = 0x00
BPF_TXA = 0x80

BPF_MAXINSNS = 4096
BPF_MEMWORDS = 16

# struct seccomp_data offsets (args are u64; which half is "low" depends on endianness)
OFF_NR = 0
OFF_ARCH = 4
OFF_IP = 8
OFF_ARGS = 16
SECCOMP_DATA_SIZE = 64

LD_ABS = BPF_LD | BPF_W | BPF_ABS
JEQ_K = BPF_JMP | BPF_JEQ | BPF_K
JGT_K = BPF_JMP | BPF_JGT | BPF_K
JGE_K = BPF_JMP | BPF_JGE | BPF_K
JSET_K = BPF_JMP | BPF_JSET | BPF_K
JA = BPF_JMP | BPF_JA
RET_K = BPF_RET | BPF_K
ALU_AND_K = BPF_ALU | BPF_AND | BPF_K

_FMT = "=HBBI"  # native byte order, no padding: exactly struct sock_filter
INSN_SIZE = struct.calcsize(_FMT)


@dataclass(frozen=True, slots=True)
class Insn:
    """One ``struct sock_filter``."""

    code: int
    jt: int = 0
    jf: int = 0
    k: int = 0

    def pack(self, byteorder: str = sys.byteorder) -> bytes:
        fmt = ("<" if byteorder == "little" else ">") + "HBBI"
        return struct.pack(fmt, self.code, self.jt, self.jf, self.k & 0xFFFFFFFF)

    @property
    def is_cond_jump(self) -> bool:
        return self.code & 0x07 == BPF_JMP and self.code & 0xF0 != BPF_JA


def arg_offset(index: int, high: bool, big_endian: bool = False) -> int:
    """Offset of the low or high 32-bit half of ``args[index]`` in struct seccomp_data."""
    base = OFF_ARGS + 8 * index
    return base + (4 if high != big_endian else 0)


def pack_program(insns: Iterable[Insn], byteorder: str = sys.byteorder) -> bytes:
    """The raw form ``seccomp_export_bpf`` writes: the sock_filter array, nothing else."""
    return b"".join(i.pack(byteorder) for i in insns)


def unpack_program(raw: bytes, byteorder: str = sys.byteorder) -> list[Insn]:
    if len(raw) % INSN_SIZE:
        raise SeccompError(
            f"raw BPF program is {len(raw)} bytes, not a multiple of {INSN_SIZE}",
            code="OCI420",
            hint="a raw program is an array of 8-byte struct sock_filter records",
        )
    fmt = ("<" if byteorder == "little" else ">") + "HBBI"
    return [Insn(*struct.unpack_from(fmt, raw, off)) for off in range(0, len(raw), INSN_SIZE)]


# --- symbolic code -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Label:
    name: str


@dataclass(frozen=True, slots=True)
class Op:
    """A symbolic instruction; ``jt``/``jf`` name labels (``None`` = next instruction)."""

    code: int
    k: int = 0
    jt: str | None = None
    jf: str | None = None


Item = Label | Op


def _layout(items: Sequence[Item]) -> tuple[dict[str, int], list[int]]:
    labels: dict[str, int] = {}
    index: list[int] = []
    pc = 0
    for it in items:
        if isinstance(it, Label):
            if it.name in labels:
                raise SeccompError(f"duplicate BPF label {it.name!r}", code="OCI499")
            labels[it.name] = pc
            index.append(-1)
        else:
            index.append(pc)
            pc += 1
    return labels, index


def _op_at(items: Sequence[Item], label: str) -> Op | None:
    """The first op after ``label``."""
    found = False
    for it in items:
        if isinstance(it, Label):
            found = found or it.name == label
        elif found:
            return it
    return None


def assemble(items: Sequence[Item]) -> list[Insn]:
    """Resolve labels; insert ``ja`` trampolines for conditional jumps beyond 255."""
    work = list(items)
    tramp = 0
    while True:
        labels, index = _layout(work)
        far_at = -1
        for pos, it in enumerate(work):
            if not isinstance(it, Op):
                continue
            pc = index[pos]
            for tgt in (it.jt, it.jf):
                if tgt is None:
                    continue
                if tgt not in labels:
                    raise SeccompError(f"undefined BPF label {tgt!r}", code="OCI499")
                off = labels[tgt] - pc - 1
                if off < 0:
                    raise SeccompError(f"backward jump to {tgt!r}", code="OCI499")
                if off > 255 and it.code != JA:
                    far_at = pos
            if far_at >= 0:
                break
        if far_at < 0:
            break
        op = work[far_at]
        assert isinstance(op, Op)
        new_jt, new_jf = op.jt, op.jf
        extra: list[Item] = []
        for which in ("jt", "jf"):
            tgt = getattr(op, which)
            if tgt is None or labels[tgt] - index[far_at] - 1 <= 255:
                continue
            name = f".tramp{tramp}"
            tramp += 1
            landing = _op_at(work, tgt)
            if landing is not None and landing.code == RET_K:
                extra += [Label(name), landing]  # a copy of the ret beats a hop to it
            else:
                extra += [Label(name), Op(JA, jt=tgt)]
            if which == "jt":
                new_jt = name
            else:
                new_jf = name
        # fall-through targets must skip the trampolines just inserted
        after = f".after{tramp}"
        tramp += 1
        new_jt = new_jt or after
        new_jf = new_jf or after
        work[far_at : far_at + 1] = [Op(op.code, op.k, new_jt, new_jf), *extra, Label(after)]
    labels, index = _layout(work)
    out: list[Insn] = []
    for pos, it in enumerate(work):
        if not isinstance(it, Op):
            continue
        pc = index[pos]

        def rel(tgt: str | None, pc: int = pc) -> int:
            return 0 if tgt is None else labels[tgt] - pc - 1

        if it.code == JA:
            out.append(Insn(JA, 0, 0, rel(it.jt)))
        elif it.code & 0x07 == BPF_JMP:
            out.append(Insn(it.code, rel(it.jt), rel(it.jf), it.k))
        else:
            out.append(Insn(it.code, 0, 0, it.k))
    return out
