"""Compiler semantics: actions, arches (x32!), args, precedence, limits, outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocitool.errors import SeccompError
from ocitool.seccomp import bpf as B
from ocitool.seccomp.actions import (
    SECCOMP_RET_ALLOW,
    SECCOMP_RET_ERRNO,
    SECCOMP_RET_KILL_PROCESS,
    SECCOMP_RET_KILL_THREAD,
    SECCOMP_RET_LOG,
    SECCOMP_RET_TRACE,
    SECCOMP_RET_TRAP,
    SECCOMP_RET_USER_NOTIF,
)
from ocitool.seccomp.compiler import compile_seccomp
from ocitool.seccomp.disasm import accumulator_conflicts
from ocitool.seccomp.emulator import emulate
from ocitool.seccomp.tables import syscall_number, syscalls

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "seccomp"
EPERM, ENOSYS = 1, 38


def prof(*rules: dict[str, Any], default: str = "SCMP_ACT_ERRNO", **kw: Any) -> dict[str, Any]:
    return {"defaultAction": default, "syscalls": list(rules), **kw}


def ret(f: Any, arch: str, name_or_nr: str | int, args: tuple[int, ...] = (0,) * 6) -> int:
    nr = syscall_number(arch, name_or_nr) if isinstance(name_or_nr, str) else name_or_nr
    assert nr is not None
    return emulate(f, arch, nr, args).ret


@pytest.mark.parametrize(
    ("action", "errno_ret", "expected"),
    [
        ("SCMP_ACT_ALLOW", None, SECCOMP_RET_ALLOW),
        ("SCMP_ACT_ERRNO", None, SECCOMP_RET_ERRNO | EPERM),
        ("SCMP_ACT_ERRNO", ENOSYS, SECCOMP_RET_ERRNO | ENOSYS),
        ("SCMP_ACT_KILL", None, SECCOMP_RET_KILL_THREAD),
        ("SCMP_ACT_KILL_THREAD", None, SECCOMP_RET_KILL_THREAD),
        ("SCMP_ACT_KILL_PROCESS", None, SECCOMP_RET_KILL_PROCESS),
        ("SCMP_ACT_TRAP", None, SECCOMP_RET_TRAP),
        ("SCMP_ACT_TRACE", None, SECCOMP_RET_TRACE | EPERM),
        ("SCMP_ACT_TRACE", 7, SECCOMP_RET_TRACE | 7),
        ("SCMP_ACT_LOG", None, SECCOMP_RET_LOG),
        ("SCMP_ACT_NOTIFY", None, SECCOMP_RET_USER_NOTIF),
    ],
)
def test_every_action_returns_its_seccomp_ret(
    action: str, errno_ret: int | None, expected: int
) -> None:
    rule: dict[str, Any] = {"names": ["getpid"], "action": action}
    if errno_ret is not None:
        rule["errnoRet"] = errno_ret
    default = "SCMP_ACT_ALLOW" if action != "SCMP_ACT_ALLOW" else "SCMP_ACT_KILL_PROCESS"
    f = compile_seccomp(prof(rule, default=default, listenerPath="/run/agent.sock"), "x86_64")
    assert ret(f, "x86_64", "getpid") == expected
    assert ret(f, "x86_64", "getppid") != expected


def test_default_errno_ret_and_default_errno() -> None:
    f = compile_seccomp(prof(defaultErrnoRet=ENOSYS), "x86_64")
    assert ret(f, "x86_64", "read") == SECCOMP_RET_ERRNO | ENOSYS
    f = compile_seccomp(prof(), "x86_64")
    assert ret(f, "x86_64", "read") == SECCOMP_RET_ERRNO | EPERM


def test_wrong_arch_gets_libseccomp_bad_arch_action() -> None:
    f = compile_seccomp(prof({"names": ["read"], "action": "SCMP_ACT_ALLOW"}), "x86_64")
    assert ret(f, "aarch64", 63) == SECCOMP_RET_KILL_THREAD
    assert ret(f, "x86", 3) == SECCOMP_RET_KILL_THREAD


def test_x32_numbers_are_bad_arch_unless_x32_is_listed() -> None:
    allow_read = {"names": ["read"], "action": "SCMP_ACT_ALLOW"}
    only64 = compile_seccomp(prof(allow_read), "x86_64")
    x32_read = syscall_number("x32", "read")
    assert x32_read == 0x40000000
    # a 64-bit task can set bit 30 to reach x32 entry points: libseccomp kills that
    assert ret(only64, "x32", x32_read) == SECCOMP_RET_KILL_THREAD
    assert ret(only64, "x86_64", 0x7FFFFFFF) == SECCOMP_RET_KILL_THREAD
    # nr -1 (e.g. ptrace-skipped syscalls) is not treated as x32 by libseccomp
    assert ret(only64, "x86_64", 0xFFFFFFFF) == SECCOMP_RET_ERRNO | EPERM
    both = compile_seccomp(prof(allow_read, architectures=["SCMP_ARCH_X32"]), "x86_64")
    assert ret(both, "x32", x32_read) == SECCOMP_RET_ALLOW
    assert ret(both, "x86_64", "read") == SECCOMP_RET_ALLOW
    assert ret(both, "x32", x32_read + 1) == SECCOMP_RET_ERRNO | EPERM
    only32 = compile_seccomp(prof(allow_read), "x32")
    assert ret(only32, "x32", x32_read) == SECCOMP_RET_ALLOW
    assert ret(only32, "x86_64", 0) == SECCOMP_RET_KILL_THREAD


def test_x32_args_compare_32_bits_in_the_shared_section() -> None:
    rule = {
        "names": ["personality"],
        "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}],
    }
    f = compile_seccomp(prof(rule, architectures=["SCMP_ARCH_X32"]), "x86_64")
    high = (1 << 32) | 8
    assert ret(f, "x86_64", "personality", (high,)) == SECCOMP_RET_ERRNO | EPERM
    assert ret(f, "x32", syscall_number("x32", "personality") or 0, (high,)) == SECCOMP_RET_ALLOW


@pytest.mark.parametrize(
    ("op", "value", "value_two", "true_for", "false_for"),
    [
        ("SCMP_CMP_EQ", 1 << 32, 0, [1 << 32], [0, 1, (1 << 32) + 1]),
        ("SCMP_CMP_NE", 5, 0, [4, 6, (1 << 32) | 5], [5]),
        ("SCMP_CMP_LT", (1 << 32) + 2, 0, [0, 0xFFFFFFFF, (1 << 32) + 1], [(1 << 32) + 2, 2 << 32]),
        ("SCMP_CMP_LE", (1 << 32) + 2, 0, [(1 << 32) + 2, 3], [(1 << 32) + 3, 3 << 32]),
        ("SCMP_CMP_GT", 0xFFFFFFFF, 0, [1 << 32, 2**64 - 1], [0xFFFFFFFF, 0]),
        ("SCMP_CMP_GE", (3 << 32) | 7, 0, [(3 << 32) | 7, 4 << 32], [(3 << 32) | 6, 7]),
        (
            "SCMP_CMP_MASKED_EQ",
            0xFF00000000FF,
            0x1200000034,
            [0x34, 0x1200000034, 0x00FFFFFFFF34],
            [0x35, 0x010000000034, 0xAB1200CDEF34],
        ),
        # libseccomp masks the datum too: (arg & 0xff) == (0x1234 & 0xff)
        ("SCMP_CMP_MASKED_EQ", 0xFF, 0x1234, [0x34, 0xFF34], [0x1234 + 1]),
    ],
)
def test_64_bit_comparisons(
    op: str, value: int, value_two: int, true_for: list[int], false_for: list[int]
) -> None:
    rule = {
        "names": ["ioctl"],
        "action": "SCMP_ACT_ALLOW",
        "args": [{"index": 1, "value": value, "valueTwo": value_two, "op": op}],
    }
    f = compile_seccomp(prof(rule), "x86_64")
    for v in true_for:
        assert ret(f, "x86_64", "ioctl", (0, v)) == SECCOMP_RET_ALLOW, hex(v)
    for v in false_for:
        assert ret(f, "x86_64", "ioctl", (0, v)) == SECCOMP_RET_ERRNO | EPERM, hex(v)
    assert accumulator_conflicts(f.instructions) == []


def test_args_in_one_rule_are_anded_and_same_arg_tests_are_ored_like_runc() -> None:
    anded = {
        "names": ["ioctl"],
        "action": "SCMP_ACT_ALLOW",
        "args": [
            {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
            {"index": 2, "value": 3, "op": "SCMP_CMP_EQ"},
        ],
    }
    f = compile_seccomp(prof(anded), "x86_64")
    assert ret(f, "x86_64", "ioctl", (1, 0, 3)) == SECCOMP_RET_ALLOW
    assert ret(f, "x86_64", "ioctl", (1, 0, 4)) == SECCOMP_RET_ERRNO | EPERM
    ored = {
        "names": ["ioctl"],
        "action": "SCMP_ACT_ALLOW",
        "args": [
            {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
            {"index": 0, "value": 7, "op": "SCMP_CMP_EQ"},
        ],
    }
    f = compile_seccomp(prof(ored), "x86_64")
    assert ret(f, "x86_64", "ioctl", (1,)) == SECCOMP_RET_ALLOW
    assert ret(f, "x86_64", "ioctl", (7,)) == SECCOMP_RET_ALLOW
    assert ret(f, "x86_64", "ioctl", (2,)) == SECCOMP_RET_ERRNO | EPERM


def _eq(i: int, v: int, op: str = "SCMP_CMP_EQ") -> dict[str, Any]:
    return {"index": i, "value": v, "op": op}


@pytest.mark.parametrize(
    ("rules", "args", "winner"),
    [
        # an unconditional rule beats conditional ones, in either order
        ([("ALLOW", []), ("ERRNO", [_eq(0, 1)])], (1,), "ALLOW"),
        ([("ERRNO", [_eq(0, 1)]), ("ALLOW", [])], (1,), "ALLOW"),
        # the higher argument index is tested first
        ([("ALLOW", [_eq(0, 1)]), ("ERRNO", [_eq(1, 2)])], (1, 2), "ERRNO"),
        ([("ERRNO", [_eq(1, 2)]), ("ALLOW", [_eq(0, 1)])], (1, 2), "ERRNO"),
        # one argument: larger values first for GT ...
        (
            [("ERRNO", [_eq(0, 3, "SCMP_CMP_GT")]), ("ALLOW", [_eq(0, 5, "SCMP_CMP_GT")])],
            (6,),
            "ALLOW",
        ),
        # ... EQ/NE before LT before GT
        (
            [("ALLOW", [_eq(0, 1, "SCMP_CMP_NE")]), ("ERRNO", [_eq(0, 2, "SCMP_CMP_LT")])],
            (0,),
            "ALLOW",
        ),
        (
            [("ERRNO", [_eq(0, 9, "SCMP_CMP_GT")]), ("ALLOW", [_eq(0, 20, "SCMP_CMP_LT")])],
            (10,),
            "ALLOW",
        ),
        # a shorter rule that is a prefix of a longer one wins
        ([("ERRNO", [_eq(0, 1)]), ("ALLOW", [_eq(0, 1), _eq(1, 2)])], (1, 2), "ERRNO"),
    ],
)
def test_overlapping_rules_follow_libseccomp_order(
    rules: list[tuple[str, list[dict[str, Any]]]], args: tuple[int, ...], winner: str
) -> None:
    acts = {"ALLOW": "SCMP_ACT_ALLOW", "ERRNO": "SCMP_ACT_ERRNO"}
    body = [
        {
            "names": ["ioctl"],
            "action": acts[a],
            **({"errnoRet": 5} if a == "ERRNO" else {}),
            "args": x,
        }
        for a, x in rules
    ]
    p = prof(*body, default="SCMP_ACT_KILL")
    f = compile_seccomp(p, "x86_64")
    want = SECCOMP_RET_ALLOW if winner == "ALLOW" else SECCOMP_RET_ERRNO | 5
    assert ret(f, "x86_64", "ioctl", args) == want
    pyseccomp = pytest.importorskip("pyseccomp")
    assert pyseccomp
    from ocitool.seccomp.libseccomp import build

    lib = build(p, "x86_64")
    assert not lib.rejected
    assert emulate(lib.raw, "x86_64", syscall_number("x86_64", "ioctl") or 0, args).ret == want


def test_rules_with_the_default_action_are_dropped_like_runc() -> None:
    p = prof(
        {"names": ["ioctl"], "action": "SCMP_ACT_ERRNO"},
        {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW", "args": [_eq(0, 1)]},
    )
    f = compile_seccomp(p, "x86_64")
    assert ret(f, "x86_64", "ioctl", (1,)) == SECCOMP_RET_ALLOW


def test_flags_and_listener_travel_with_the_filter() -> None:
    p = prof(
        {"names": ["mount"], "action": "SCMP_ACT_NOTIFY"},
        flags=["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
        listenerPath="/run/agent.sock",
        listenerMetadata="x",
    )
    f = compile_seccomp(p, "x86_64")
    assert f.flags == ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]
    assert f.listener_path == "/run/agent.sock" and f.listener_metadata == "x"
    assert f.warnings == []
    with pytest.raises(SeccompError) as exc:
        compile_seccomp(prof(flags=["SECCOMP_FILTER_FLAG_BOGUS"]), "x86_64")
    assert exc.value.pointer == "/linux/seccomp/flags/0"


def test_notify_without_listener_path_warns() -> None:
    f = compile_seccomp(prof({"names": ["mount"], "action": "SCMP_ACT_NOTIFY"}), "x86_64")
    assert [w.code for w in f.warnings] == ["OCI406"]


def test_unknown_syscalls_warn_or_fail_in_strict_mode() -> None:
    p = prof({"names": ["read", "frobnicate"], "action": "SCMP_ACT_ALLOW"})
    f = compile_seccomp(p, "x86_64")
    assert [(w.code, w.pointer, w.severity) for w in f.warnings] == [
        ("OCI400", "/linux/seccomp/syscalls/0/names", "warning")
    ]
    assert "frobnicate" in f.warnings[0].message
    with pytest.raises(SeccompError) as exc:
        compile_seccomp(p, "x86_64", strict=True)
    assert exc.value.code == "OCI400"
    # known on some arch of the filter: no warning (open exists on x86 but not aarch64)
    g = compile_seccomp(prof({"names": ["open"], "action": "SCMP_ACT_ALLOW"}), "aarch64")
    assert [w.code for w in g.warnings] == ["OCI400"]
    h = compile_seccomp(
        prof({"names": ["open"], "action": "SCMP_ACT_ALLOW"}, architectures=["SCMP_ARCH_ARM"]),
        "aarch64",
    )
    assert h.warnings == []


@pytest.mark.parametrize(
    ("bad", "pointer"),
    [
        ({"syscalls": []}, "/linux/seccomp"),
        ({"defaultAction": "SCMP_ACT_BOGUS"}, "/linux/seccomp/defaultAction"),
        (
            {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "X"}]},
            "/linux/seccomp/syscalls/0/action",
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [
                    {
                        "names": ["read"],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 6, "op": "SCMP_CMP_EQ"}],
                    }
                ],
            },
            "/linux/seccomp/syscalls/0/args/0/index",
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [
                    {
                        "names": ["read"],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 0, "op": "LT"}],
                    }
                ],
            },
            "/linux/seccomp/syscalls/0/args/0/op",
        ),
        (
            {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 70000},
            "/linux/seccomp/defaultErrnoRet",
        ),
    ],
)
def test_bad_profiles_give_located_errors(bad: dict[str, Any], pointer: str) -> None:
    with pytest.raises(SeccompError) as exc:
        compile_seccomp(bad, "x86_64")
    assert exc.value.pointer == pointer


def test_too_large_profile_is_a_clear_error() -> None:
    names = list(syscalls("x86_64"))[:300]
    rules = [
        {
            "names": [n],
            "action": "SCMP_ACT_ALLOW",
            "args": [_eq(0, i + 1), _eq(1, i + 2), _eq(2, i + 3)],
        }
        for i, n in enumerate(names)
    ] * 1
    rules += [
        {"names": [n], "action": "SCMP_ACT_LOG", "args": [_eq(3, 9), _eq(4, 9)]} for n in names
    ]
    with pytest.raises(SeccompError) as exc:
        compile_seccomp(prof(*rules), "x86_64")
    assert exc.value.code == "OCI410" and "4096" in exc.value.message


def test_far_jumps_get_trampolines_and_stay_correct() -> None:
    names = list(syscalls("x86_64"))[:120]
    rules = [
        {"names": [n], "action": "SCMP_ACT_ALLOW", "args": [_eq(0, i), _eq(1, i)]}
        for i, n in enumerate(names)
    ]
    f = compile_seccomp(prof(*rules), "x86_64")
    assert len(f.instructions) > 600
    assert any(i.code == B.JA for i in f.instructions)
    assert all(i.jt <= 255 and i.jf <= 255 for i in f.instructions)
    for i, n in enumerate(names):
        assert ret(f, "x86_64", n, (i, i)) == SECCOMP_RET_ALLOW
        assert ret(f, "x86_64", n, (i, i + 1)) == SECCOMP_RET_ERRNO | EPERM


def test_consecutive_syscalls_collapse_into_ranges() -> None:
    names = [n for n, nr in syscalls("x86_64").items() if nr < 200]
    f = compile_seccomp(prof({"names": names, "action": "SCMP_ACT_ALLOW"}), "x86_64")
    # one ALLOW range [0, 199], the default above it, bad-arch for x32 numbers, default for -1
    assert len(f.instructions) <= 12
    assert ret(f, "x86_64", 199) == SECCOMP_RET_ALLOW
    assert ret(f, "x86_64", 200) == SECCOMP_RET_ERRNO | EPERM


def test_gap_numbers_keep_the_default_action() -> None:
    # 335..423 is a hole in the x86_64 table: allowing both sides must not allow the hole
    f = compile_seccomp(
        prof({"names": ["pkey_free", "pidfd_send_signal"], "action": "SCMP_ACT_ALLOW"}), "x86_64"
    )
    assert ret(f, "x86_64", "pkey_free") == SECCOMP_RET_ALLOW
    assert ret(f, "x86_64", "pidfd_send_signal") == SECCOMP_RET_ALLOW
    assert ret(f, "x86_64", 400) == SECCOMP_RET_ERRNO | EPERM


def _docker(arch: str) -> dict[str, Any]:
    from ocitool.seccomp.docker import DOCKER_DEFAULT_CAPS, docker_to_oci

    raw = json.loads((DATA / "moby-default.json").read_text())
    return docker_to_oci(raw, list(DOCKER_DEFAULT_CAPS), arch)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64", "s390x", "ppc64le", "riscv64", "mips64"])
def test_kernel_action_cache_property(arch: str) -> None:
    """Arg-independent syscalls reach their verdict loading only arch and nr."""
    f = compile_seccomp(_docker(arch), arch)
    assert f.profile is not None
    checked = 0
    for sec in f.profile.sections:
        for member in sec.members:
            for name, nr in syscalls(member).items():
                em = emulate(f, member, nr, (0x7E020000,) * 6)
                v = sec.verdicts.get(nr)
                if v is None or isinstance(v, int):
                    assert set(em.loads) <= {B.OFF_NR, B.OFF_ARCH}, (member, name, em.loads)
                    assert em.loads == [B.OFF_ARCH, B.OFF_NR]
                    checked += 1
                else:
                    assert any(off >= B.OFF_ARGS for off in em.loads), (member, name)
    assert checked > 250


def test_docker_default_profile_is_small_and_fast() -> None:
    f = compile_seccomp(_docker("x86_64"), "x86_64")
    assert len(f.instructions) <= 500
    names = {n for r in _docker("x86_64")["syscalls"] for n in r["names"]}
    counts = [
        emulate(f, "x86_64", syscall_number("x86_64", n) or 0).executed
        for n in names
        if syscall_number("x86_64", n) is not None
    ]
    assert sum(counts) / len(counts) <= 11


def test_outputs_raw_json_disasm() -> None:
    f = compile_seccomp(
        prof({"names": ["execve"], "action": "SCMP_ACT_KILL_PROCESS"}, default="SCMP_ACT_ALLOW"),
        "x86_64",
    )
    raw = f.raw()
    assert len(raw) == 8 * len(f.instructions)
    assert B.unpack_program(raw) == f.instructions
    be = compile_seccomp(prof(), "s390x").raw()
    assert be[:2] == bytes([0, B.LD_ABS]) and be[4:8] == (4).to_bytes(4, "big")
    doc = json.loads(f.json())
    assert doc["length"] == len(f.instructions) and doc["arches"] == ["x86_64"]
    assert doc["instructions"][0] == {"code": B.LD_ABS, "jt": 0, "jf": 0, "k": B.OFF_ARCH}
    text = f.disasm()
    assert "execve" in text and "KILL_PROCESS" in text and "x86_64" in text


def test_compiler_hot_path_imports_no_heavy_modules() -> None:
    code = (
        "import sys; from ocitool.seccomp.compiler import compile_seccomp;"
        "f = compile_seccomp({'defaultAction': 'SCMP_ACT_ALLOW'}, 'x86_64'); f.raw();"
        "bad = [m for m in ('lark', 'rich', 'jsonschema', 'pyseccomp') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.parametrize("arch", ["x86", "s390x", "ppc64le", "mipsel"])
def test_socket_and_ipc_rules_also_cover_the_multiplexers(arch: str) -> None:
    p = prof(
        {"names": ["connect"], "action": "SCMP_ACT_ALLOW", "args": [_eq(0, 7), _eq(2, 9)]},
        {"names": ["shmget"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
        default="SCMP_ACT_KILL_PROCESS",
    )
    f = compile_seccomp(p, arch)
    assert ret(f, arch, "socketcall", (3, 0, 9)) == SECCOMP_RET_ALLOW  # SYS_CONNECT, a0 test gone
    assert ret(f, arch, "socketcall", (3, 0, 8)) == SECCOMP_RET_KILL_PROCESS
    assert ret(f, arch, "socketcall", (1, 0, 9)) == SECCOMP_RET_KILL_PROCESS  # SYS_SOCKET
    assert ret(f, arch, "ipc", (23,)) == SECCOMP_RET_ERRNO | 5  # SHMGET
    assert ret(f, arch, "ipc", (1,)) == SECCOMP_RET_KILL_PROCESS
    assert ret(f, arch, "connect", (7, 0, 9)) == SECCOMP_RET_ALLOW
    assert ret(f, arch, "connect", (6, 0, 9)) == SECCOMP_RET_KILL_PROCESS
    # an unconditional socketcall rule overrides the twins
    g = compile_seccomp(
        prof({"names": ["socketcall"], "action": "SCMP_ACT_ALLOW"}, *p["syscalls"]), arch
    )
    assert ret(g, arch, "socketcall", (1,)) == SECCOMP_RET_ALLOW


def test_mask_zero_tests_are_dropped_like_libseccomp() -> None:
    # the first rule has only an always-true test, so it is unconditional and wins
    p = prof(
        {
            "names": ["kill"],
            "action": "SCMP_ACT_LOG",
            "args": [{"index": 3, "value": 0, "valueTwo": 5, "op": "SCMP_CMP_MASKED_EQ"}],
        },
        {"names": ["kill"], "action": "SCMP_ACT_ALLOW"},
    )
    f = compile_seccomp(p, "x86_64")
    assert ret(f, "x86_64", "kill", (0, 0, 0, 1)) == SECCOMP_RET_LOG
    assert not any(i.code & 0x07 == B.BPF_ALU for i in f.instructions)
    # on 32-bit ABIs the mask is truncated first
    q = prof(
        {
            "names": ["kill"],
            "action": "SCMP_ACT_LOG",
            "args": [{"index": 3, "value": 0xFFFF_FFFF_0000_0000, "op": "SCMP_CMP_MASKED_EQ"}],
        }
    )
    assert ret(compile_seccomp(q, "x86"), "x86", "kill", (0, 0, 0, 1)) == SECCOMP_RET_LOG
    assert (
        ret(compile_seccomp(q, "x86_64"), "x86_64", "kill", (0, 0, 0, 1 << 32))
        == SECCOMP_RET_ERRNO | EPERM
    )


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 2**65) | st.sampled_from(
        ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_CMP_EQ", "SCMP_CMP_MASKED_EQ", "read",
         "SCMP_ARCH_X86", "SCMP_ARCH_BOGUS", "SECCOMP_FILTER_FLAG_LOG", ""]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["names", "action", "args", "index", "value", "valueTwo", "op",
                         "errnoRet", "defaultAction", "architectures", "flags", "syscalls"]),
        inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries(
        {"defaultAction": st.sampled_from(["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", 3])},
        optional={
            "syscalls": _json,
            "architectures": _json,
            "flags": _json,
            "defaultErrnoRet": _json,
        },
    )
)
def test_malformed_profiles_raise_seccomp_errors_only(doc: dict[str, Any]) -> None:
    try:
        f = compile_seccomp(doc, "x86_64")
    except SeccompError as exc:
        assert exc.code.startswith("OCI4")
    else:
        assert len(f.instructions) >= 3


@pytest.mark.parametrize(
    ("extra", "pointer"),
    [
        ({"syscalls": 5}, "/linux/seccomp/syscalls"),
        ({"architectures": "SCMP_ARCH_X86"}, "/linux/seccomp/architectures"),
        ({"flags": 5}, "/linux/seccomp/flags"),
        ({"listenerPath": 5}, "/linux/seccomp/listenerPath"),
        (
            {"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "args": 5}]},
            "/linux/seccomp/syscalls/0/args",
        ),
        (
            {"syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]},
            "/linux/seccomp/syscalls/0/names",
        ),
    ],
)
def test_wrongly_typed_fields_are_located_errors(extra: dict[str, Any], pointer: str) -> None:
    with pytest.raises(SeccompError) as exc:
        compile_seccomp({"defaultAction": "SCMP_ACT_ERRNO", **extra}, "x86_64")
    assert exc.value.pointer == pointer
