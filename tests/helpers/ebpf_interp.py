"""A small eBPF interpreter for checking cgroup device programs without a kernel.

It decodes raw ``struct bpf_insn`` bytes (so it checks the encoder too) and
runs them against a ``bpf_cgroup_dev_ctx``. It implements the ALU/ALU64,
JMP/JMP32 and LDX classes with kernel semantics (32-bit ALU ops zero the
upper half, K operands are sign-extended), and enforces the rules the kernel
verifier would: no reading an uninitialised register, loads only from the
12-byte context, no backward jumps, a reachable exit with r0 set.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1
CTX = "ctx"  # r1's initial value is a pointer to the context


class BpfFault(Exception):
    """The program did something the verifier or the VM would refuse."""


@dataclass(frozen=True)
class RawInsn:
    code: int
    dst: int
    src: int
    off: int
    imm: int


def decode(program: bytes, big_endian: bool = False) -> list[RawInsn]:
    if len(program) % 8:
        raise BpfFault("program length is not a multiple of 8")
    out = []
    for i in range(0, len(program), 8):
        if big_endian:
            code, regs, off, imm = struct.unpack(">BBhi", program[i : i + 8])
            dst, src = regs >> 4, regs & 0xF
        else:
            code, regs, off, imm = struct.unpack("<BBhi", program[i : i + 8])
            dst, src = regs & 0xF, regs >> 4
        out.append(RawInsn(code, dst, src, off, imm))
    return out


def dev_ctx(dev_type: int, access: int, major: int, minor: int) -> bytes:
    """struct bpf_cgroup_dev_ctx: access_type = access << 16 | type, then major, minor."""
    return struct.pack("<III", (access << 16) | dev_type, major, minor)


def _s64(v: int) -> int:
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


def _s32(v: int) -> int:
    v &= MASK32
    return v - (1 << 32) if v >> 31 else v


def _alu(op: int, a: int, b: int, width: int) -> int:
    mask = MASK64 if width == 64 else MASK32
    a &= mask
    b &= mask
    if op == 0x00:
        r = a + b
    elif op == 0x10:
        r = a - b
    elif op == 0x20:
        r = a * b
    elif op == 0x30:
        r = a // b if b else 0
    elif op == 0x40:
        r = a | b
    elif op == 0x50:
        r = a & b
    elif op == 0x60:
        r = a << (b & (width - 1))
    elif op == 0x70:
        r = a >> (b & (width - 1))
    elif op == 0x80:
        r = -a
    elif op == 0x90:
        r = a % b if b else a
    elif op == 0xA0:
        r = a ^ b
    elif op == 0xB0:
        r = b
    elif op == 0xC0:
        sa = _s64(a) if width == 64 else _s32(a)
        r = sa >> (b & (width - 1))
    else:
        raise BpfFault(f"unsupported ALU op {op:#x}")
    return r & mask


def _cond(op: int, a: int, b: int, width: int) -> bool:
    mask = MASK64 if width == 64 else MASK32
    a &= mask
    b &= mask
    sa, sb = (_s64(a), _s64(b)) if width == 64 else (_s32(a), _s32(b))
    table = {
        0x10: a == b,
        0x20: a > b,
        0x30: a >= b,
        0x40: bool(a & b),
        0x50: a != b,
        0x60: sa > sb,
        0x70: sa >= sb,
        0xA0: a < b,
        0xB0: a <= b,
        0xC0: sa < sb,
        0xD0: sa <= sb,
    }
    if op not in table:
        raise BpfFault(f"unsupported JMP op {op:#x}")
    return table[op]


def run(program: bytes | list[RawInsn], ctx: bytes, *, max_steps: int = 4096) -> int:
    """Execute and return r0 (32-bit). Raises BpfFault on anything a verifier would reject."""
    insns = decode(program) if isinstance(program, bytes | bytearray) else program
    if not insns:
        raise BpfFault("empty program")
    regs: list[int | str | None] = [None] * 11
    regs[1] = CTX
    regs[10] = "stack"
    pc = 0
    for _ in range(max_steps):
        if not 0 <= pc < len(insns):
            raise BpfFault(f"fell off the program at {pc}")
        ins = insns[pc]
        cls, op, src_x = ins.code & 0x07, ins.code & 0xF0, ins.code & 0x08
        if ins.dst > 10 or ins.src > 10:
            raise BpfFault(f"bad register at {pc}")

        def value(reg: int, pc: int = pc) -> int:
            v = regs[reg]
            if v is None:
                raise BpfFault(f"read of uninitialised r{reg} at {pc}")
            if isinstance(v, str):
                raise BpfFault(f"pointer arithmetic on r{reg} at {pc}")
            return v

        if cls in (0x04, 0x07):  # ALU (32) / ALU64
            width = 64 if cls == 0x07 else 32
            if ins.dst == 10:
                raise BpfFault("write to frame pointer r10")
            b = value(ins.src) if src_x else ins.imm & MASK64
            a = 0 if op == 0xB0 else value(ins.dst)
            regs[ins.dst] = _alu(op, a, b, width)
            pc += 1
        elif cls == 0x01:  # LDX
            mode, size = ins.code & 0xE0, ins.code & 0x18
            if mode != 0x60:
                raise BpfFault(f"unsupported LDX mode at {pc}")
            if regs[ins.src] != CTX:
                raise BpfFault(f"load through non-context pointer r{ins.src} at {pc}")
            width = {0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8}[size]
            if ins.off < 0 or ins.off + width > len(ctx):
                raise BpfFault(f"context access out of bounds at {pc}")
            regs[ins.dst] = int.from_bytes(ctx[ins.off : ins.off + width], "little")
            pc += 1
        elif cls in (0x05, 0x06):  # JMP / JMP32
            width = 64 if cls == 0x05 else 32
            if op == 0x90:  # EXIT
                r0 = regs[0]
                if not isinstance(r0, int):
                    raise BpfFault("exit with r0 not set")
                return r0 & MASK32
            if op == 0x00:  # JA
                taken = True
            else:
                b = value(ins.src) if src_x else ins.imm & MASK64
                taken = _cond(op, value(ins.dst), b, width)
            if taken:
                if ins.off < 0:
                    raise BpfFault(f"backward jump at {pc}")
                pc += 1 + ins.off
            else:
                pc += 1
        else:
            raise BpfFault(f"unsupported instruction class {cls:#x} at {pc}")
    raise BpfFault("step limit exceeded")


def check_device(
    program: bytes, dev_type: str, major: int, minor: int, access: str, big_endian: bool = False
) -> bool:
    """True when the program allows ``access`` (letters from "rwm") to the device."""
    type_bits = {"b": 1, "c": 2}[dev_type]
    acc = 0
    for letter in access:
        acc |= {"m": 1, "r": 2, "w": 4}[letter]
    insns = decode(program, big_endian)
    return run(insns, dev_ctx(type_bits, acc, major, minor)) == 1
