"""Assembler, packing, emulator and disassembler basics (pure, no root)."""

from __future__ import annotations

import pytest

from ocitool.errors import SeccompError
from ocitool.seccomp import bpf as B
from ocitool.seccomp.actions import SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, action_text
from ocitool.seccomp.disasm import disassemble, disassemble_insns
from ocitool.seccomp.emulator import emulate
from ocitool.seccomp.tables import AUDIT_ARCH, syscall_name, syscall_number


def test_pack_roundtrip_is_sock_filter_layout() -> None:
    insns = [B.Insn(B.LD_ABS, 0, 0, 4), B.Insn(B.JEQ_K, 1, 2, 0xC000003E), B.Insn(B.RET_K, k=7)]
    raw = B.pack_program(insns, "little")
    assert len(raw) == 8 * 3
    assert raw[:8] == bytes([0x20, 0, 0, 0, 4, 0, 0, 0])
    assert raw[8:16] == bytes([0x15, 0, 1, 2, 0x3E, 0, 0, 0xC0])
    assert B.unpack_program(raw, "little") == insns


def test_unpack_rejects_partial_record() -> None:
    with pytest.raises(SeccompError):
        B.unpack_program(b"\x00" * 7)


def test_assemble_resolves_labels_and_fallthrough() -> None:
    prog = B.assemble(
        [
            B.Op(B.LD_ABS, B.OFF_NR),
            B.Op(B.JEQ_K, 1, "yes", None),
            B.Op(B.RET_K, SECCOMP_RET_ERRNO | 1),
            B.Label("yes"),
            B.Op(B.RET_K, SECCOMP_RET_ALLOW),
        ]
    )
    assert prog[1] == B.Insn(B.JEQ_K, 1, 0, 1)
    assert emulate(prog, "x86_64", 1).ret == SECCOMP_RET_ALLOW
    assert emulate(prog, "x86_64", 2).ret == SECCOMP_RET_ERRNO | 1


def test_assemble_inserts_trampolines_for_far_jumps() -> None:
    items: list[B.Item] = [B.Op(B.LD_ABS, B.OFF_NR), B.Op(B.JEQ_K, 5, "far", "far2")]
    items += [B.Op(B.RET_K, 1)] * 300
    items += [B.Label("far"), B.Op(B.RET_K, SECCOMP_RET_ALLOW)]
    items += [B.Label("far2"), B.Op(B.RET_K, SECCOMP_RET_ERRNO | 2)]
    prog = B.assemble(items)
    assert all(i.jt <= 255 and i.jf <= 255 for i in prog)
    assert len(prog) == 2 + 300 + 2 + 2  # two trampolines
    assert emulate(prog, "x86_64", 5).ret == SECCOMP_RET_ALLOW
    assert emulate(prog, "x86_64", 6).ret == SECCOMP_RET_ERRNO | 2


def test_assemble_rejects_undefined_and_backward_labels() -> None:
    with pytest.raises(SeccompError):
        B.assemble([B.Op(B.JA, jt="nowhere")])
    with pytest.raises(SeccompError):
        B.assemble([B.Label("a"), B.Op(B.LD_ABS), B.Op(B.JA, jt="a")])


def test_emulator_reads_args_by_endianness() -> None:
    hi_le = B.arg_offset(2, high=True)
    hi_be = B.arg_offset(2, high=True, big_endian=True)
    prog_le = [B.Insn(B.LD_ABS, k=hi_le), B.Insn(B.BPF_RET | B.BPF_A)]
    prog_be = [B.Insn(B.LD_ABS, k=hi_be), B.Insn(B.BPF_RET | B.BPF_A)]
    args = (0, 0, 0x1234_5678_9ABC_DEF0, 0, 0, 0)
    assert emulate(prog_le, "x86_64", 0, args).ret == 0x12345678
    assert emulate(prog_be, "s390x", 0, args).ret == 0x12345678
    em = emulate(prog_le, "x86_64", 0, args)
    assert em.path == [0, 1] and em.loads == [hi_le]


def test_emulator_alu_and_errno_decoding() -> None:
    prog = [
        B.Insn(B.LD_ABS, k=B.OFF_NR),
        B.Insn(B.ALU_AND_K, k=0xFF),
        B.Insn(B.BPF_ALU | B.BPF_OR | B.BPF_K, k=SECCOMP_RET_ERRNO),
        B.Insn(B.BPF_RET | B.BPF_A),
    ]
    em = emulate(prog, "x86_64", 0x1234)
    assert em.ret == SECCOMP_RET_ERRNO | 0x34 and em.action == "ERRNO" and em.errno == 0x34


def test_emulator_rejects_bad_offsets_and_running_off_the_end() -> None:
    with pytest.raises(SeccompError):
        emulate([B.Insn(B.LD_ABS, k=2), B.Insn(B.RET_K)], "x86_64", 0)
    with pytest.raises(SeccompError):
        emulate([B.Insn(B.LD_ABS, k=0)], "x86_64", 0)


def test_tables_and_audit_arch() -> None:
    assert syscall_number("x86_64", "read") == 0
    assert syscall_number("x32", "read") == 0x40000000
    assert syscall_number("x86", "socket") == 359
    assert syscall_number("aarch64", "open") is None
    assert syscall_name("aarch64", 63) == "read"
    assert AUDIT_ARCH["x32"] == AUDIT_ARCH["x86_64"] == 0xC000003E
    assert AUDIT_ARCH["s390x"] == 0x80000016


def test_disassembler_names_arches_syscalls_and_actions() -> None:
    prog = [
        B.Insn(B.LD_ABS, k=B.OFF_ARCH),
        B.Insn(B.JEQ_K, 0, 3, AUDIT_ARCH["x86_64"]),
        B.Insn(B.LD_ABS, k=B.OFF_NR),
        B.Insn(B.JEQ_K, 0, 1, 59),
        B.Insn(B.RET_K, k=SECCOMP_RET_ERRNO | 1),
        B.Insn(B.RET_K, k=SECCOMP_RET_ALLOW),
    ]
    text = disassemble(B.pack_program(prog), None)
    assert "x86_64" in text and "execve" in text and "ERRNO(EPERM)" in text and "ALLOW" in text
    assert text == disassemble_insns(prog)
    assert action_text(0x7FF00005) == "TRACE(5)"


def test_disassembler_follows_arch_per_section() -> None:
    from ocitool.seccomp.compiler import compile_seccomp

    p = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "architectures": ["SCMP_ARCH_X86"],
        "syscalls": [{"names": ["execve"], "action": "SCMP_ACT_ALLOW"}],
    }
    text = compile_seccomp(p, "x86_64").disasm()
    # execve is 59 on x86_64 and 11 on x86: each section names its own numbers
    assert "#0x3b" in text and "#0xb " in text
    assert all("execve" in line for line in text.splitlines() if "#0x3b" in line or "#0xb " in line)
