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


JUMP_REACH = 255  # jt/jf are u8: a conditional jump skips at most this many instructions


def _reaches(op: int, target: int | None) -> bool:
    """Can a conditional jump at ``op`` reach ``target`` (both counted from the end)?"""
    return target is not None and op - target - 1 <= JUMP_REACH


def _tramp_key(label: str, landing: Insn | None) -> tuple[str, object]:
    """What a trampoline for a jump to ``label`` does: return a value, or jump on."""
    if landing is not None and landing.code == RET_K:
        return ("ret", landing.k)
    return ("ja", label)


def assemble(items: Sequence[Item]) -> list[Insn]:
    """Resolve labels; give conditional jumps beyond :data:`JUMP_REACH` a trampoline.

    Every jump goes forward, so the program is laid out back to front in one pass: when an
    op is placed, everything it can jump to is already placed and its distance is exact.
    A far target is reached through the nearest instruction ahead that does the same
    thing, a ``ret`` with the same value or a ``ja`` to the same label, when one is within
    reach; otherwise a new one (a copy of the ``ret``, else a ``ja``) goes right after the
    jump, where the jumps still to be placed can share it. The op's fall-through then
    becomes an explicit jump over it, so nothing else can run into a trampoline.
    """
    names: set[str] = set()
    for it in items:
        if isinstance(it, Label):
            if it.name in names:
                raise SeccompError(f"duplicate BPF label {it.name!r}", code="OCI499")
            names.add(it.name)
    # rev[e] is the e-th instruction counted from the end; offsets are resolved as we go
    rev: list[Insn] = []
    at: dict[str, int] = {}  # label -> index from the end of the op after it (-1: none)
    # what a far jump may land on instead of its label: ("ret", value) -> the nearest such
    # ret ahead, ("ja", label) -> the nearest "ja label" trampoline ahead (index from end)
    near: dict[tuple[str, object], int] = {}

    def index_of(tgt: str) -> int:
        if tgt in at:
            return at[tgt]
        if tgt in names:
            raise SeccompError(f"backward jump to {tgt!r}", code="OCI499")
        raise SeccompError(f"undefined BPF label {tgt!r}", code="OCI499")

    def landing(tgt: str) -> Insn | None:
        e = at[tgt]
        return rev[e] if e >= 0 else None

    def emit(insn: Insn) -> int:
        rev.append(insn)
        if insn.code == RET_K:
            near[("ret", insn.k)] = len(rev) - 1
        return len(rev) - 1

    for it in reversed(items):
        if isinstance(it, Label):
            at[it.name] = len(rev) - 1
            continue
        if it.code & 0x07 != BPF_JMP:
            emit(Insn(it.code, 0, 0, it.k))
            continue
        if it.code == JA:
            assert it.jt is not None, "ja needs a target"
            emit(Insn(JA, 0, 0, len(rev) - 1 - index_of(it.jt)))
            continue
        nxt = len(rev) - 1  # where a fall-through lands
        sides = [(w, t) for w, t in (("jt", it.jt), ("jf", it.jf)) if t is not None]
        dest = {w: index_of(t) for w, t in sides}
        key = {w: _tramp_key(t, landing(t)) for w, t in sides}
        # sides that need a new trampoline; each one pushes the op one further away
        fresh: dict[str, tuple[str, object]] = {}
        while True:
            here = len(rev) + len(set(fresh.values()))
            more = {
                w: key[w]
                for w, _ in sides
                if w not in fresh
                and not _reaches(here, dest[w])
                and not _reaches(here, near.get(key[w]))
            }
            if not more:
                break
            fresh.update(more)
        made: dict[tuple[str, object], int] = {}
        for w, t in sides:
            k = key[w]
            if w in fresh and k not in made:
                land = landing(t)
                tramp = land if k[0] == "ret" and land else Insn(JA, 0, 0, len(rev) - 1 - dest[w])
                made[k] = emit(tramp)
                near[k] = made[k]
        here = len(rev)
        off = {"jt": 0, "jf": 0}
        for w in ("jt", "jf"):
            if w in fresh:
                e = made[fresh[w]]
            elif w in dest:
                e = dest[w] if _reaches(here, dest[w]) else near[key[w]]
            else:
                e = nxt
            off[w] = here - e - 1
        emit(Insn(it.code, off["jt"], off["jf"], it.k))
    return rev[::-1]
