"""Run a seccomp BPF program on one syscall, the way the kernel would, and record the path.

The path (indices of executed instructions) is what the tests use to prove the kernel's
action-cache property: arg-independent syscalls must never load args or the IP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from ocitool.errors import SeccompError
from ocitool.seccomp import bpf as B
from ocitool.seccomp.actions import SECCOMP_RET_DATA, action_kind
from ocitool.seccomp.arch import arch_info

_M32 = 0xFFFFFFFF
Order = Literal["little", "big"]


def _alu(op: int, a: int, src: int) -> int:
    if op == B.BPF_ADD:
        return a + src
    if op == B.BPF_SUB:
        return a - src
    if op == B.BPF_MUL:
        return a * src
    if op == B.BPF_DIV:
        return a // src
    if op == B.BPF_MOD:
        return a % src
    if op == B.BPF_OR:
        return a | src
    if op == B.BPF_AND:
        return a & src
    if op == B.BPF_XOR:
        return a ^ src
    if op == B.BPF_LSH:
        return a << (src & 31)
    if op == B.BPF_RSH:
        return a >> (src & 31)
    raise SeccompError(f"bad ALU operation {op:#x}", code="OCI421")


@dataclass(frozen=True)
class Emulation:
    ret: int
    action: str
    errno: int | None
    path: list[int]
    loads: list[int] = field(default_factory=list)  # seccomp_data offsets read, in order

    @property
    def executed(self) -> int:
        return len(self.path)


def seccomp_data(arch: str, nr: int, args: Sequence[int] = (0,) * 6, ip: int = 0) -> bytes:
    """The 64-byte struct seccomp_data the kernel hands to the filter."""
    info = arch_info(arch)
    order: Order = "big" if info.big_endian else "little"
    a = list(args) + [0] * (6 - len(args))
    out = (nr & _M32).to_bytes(4, order) + info.audit_arch.to_bytes(4, order)
    out += (ip & 0xFFFFFFFFFFFFFFFF).to_bytes(8, order)
    for v in a[:6]:
        out += (v & 0xFFFFFFFFFFFFFFFF).to_bytes(8, order)
    return out


def _program(program: object, arch: str) -> list[B.Insn]:
    if isinstance(program, bytes | bytearray):
        # raw programs are in the filter arch's byte order, as seccomp_export_bpf writes them
        order = "big" if arch_info(arch).big_endian else "little"
        return B.unpack_program(bytes(program), order)
    insns = getattr(program, "instructions", program)
    return list(insns)  # type: ignore[call-overload]


def emulate(
    program: object,
    arch: str,
    nr: int,
    args: Sequence[int] = (0,) * 6,
    *,
    ip: int = 0,
) -> Emulation:
    """Run ``program`` (Insn list, raw bytes or a CompiledFilter) for syscall ``nr`` on ``arch``."""
    insns = _program(program, arch)
    data = seccomp_data(arch, nr, args, ip)
    order: Order = "big" if arch_info(arch).big_endian else "little"
    a = x = 0
    mem = [0] * B.BPF_MEMWORDS
    pc = 0
    path: list[int] = []
    loads: list[int] = []
    n = len(insns)
    while True:
        if not 0 <= pc < n:
            raise SeccompError(f"BPF program runs off its end at {pc}", code="OCI421")
        if len(path) > n:
            raise SeccompError("BPF program loops", code="OCI421")
        path.append(pc)
        ins = insns[pc]
        code, k = ins.code, ins.k
        cls = code & 0x07
        pc += 1
        if cls == B.BPF_RET:
            ret = (a if code & 0x18 == B.BPF_A else k) & _M32
            kind = action_kind(ret)
            return Emulation(
                ret, kind, ret & SECCOMP_RET_DATA if kind == "ERRNO" else None, path, loads
            )
        if cls in (B.BPF_LD, B.BPF_LDX):
            mode = code & 0xE0
            if mode == B.BPF_ABS and cls == B.BPF_LD and code & 0x18 == B.BPF_W:
                if k % 4 or k + 4 > B.SECCOMP_DATA_SIZE:
                    raise SeccompError(f"bad seccomp_data offset {k} at {pc - 1}", code="OCI421")
                loads.append(k)
                val = int.from_bytes(data[k : k + 4], order)
            elif mode == B.BPF_IMM:
                val = k
            elif mode == B.BPF_MEM:
                val = mem[k % B.BPF_MEMWORDS]
            elif mode == B.BPF_LEN:
                val = B.SECCOMP_DATA_SIZE
            else:
                raise SeccompError(f"instruction {code:#06x} not allowed in seccomp", code="OCI421")
            if cls == B.BPF_LD:
                a = val
            else:
                x = val
        elif cls == B.BPF_ST:
            mem[k % B.BPF_MEMWORDS] = a
        elif cls == B.BPF_STX:
            mem[k % B.BPF_MEMWORDS] = x
        elif cls == B.BPF_ALU:
            op = code & 0xF0
            src = x if code & B.BPF_X else k
            if op == B.BPF_NEG:
                a = -a
            elif op in (B.BPF_DIV, B.BPF_MOD) and src == 0:
                return Emulation(0, action_kind(0), None, path, loads)  # kernel: return 0
            else:
                a = _alu(op, a, src)
            a &= _M32
        elif cls == B.BPF_JMP:
            op = code & 0xF0
            if op == B.BPF_JA:
                pc += k
                continue
            src = x if code & B.BPF_X else k
            if op == B.BPF_JEQ:
                cond = a == src
            elif op == B.BPF_JGT:
                cond = a > src
            elif op == B.BPF_JGE:
                cond = a >= src
            elif op == B.BPF_JSET:
                cond = bool(a & src)
            else:
                raise SeccompError(f"bad jump {code:#06x} at {pc - 1}", code="OCI421")
            pc += ins.jt if cond else ins.jf
        else:  # BPF_MISC
            if code & 0xF8 == B.BPF_TAX:
                x = a
            else:
                a = x
