"""The seccomp compiler's work and output grow linearly with the number of argument rules.

Work is counted, not timed: every line of Python the compile executes is one step (a
``sys.settrace`` line event), which is deterministic, so doubling the rules must roughly
double the steps. A quadratic pass (one that re-lays the program per trampoline, or
compares every pair of rules) quadruples them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ocitool.errors import SeccompError  # noqa: E402
from ocitool.seccomp import bpf as B  # noqa: E402
from ocitool.seccomp.actions import SECCOMP_RET_ALLOW, SECCOMP_RET_LOG  # noqa: E402
from ocitool.seccomp.compiler import compile_seccomp  # noqa: E402
from ocitool.seccomp.emulator import emulate  # noqa: E402
from ocitool.seccomp.tables import syscall_number  # noqa: E402
from tests.helpers.seccomp_profiles import argument_rules  # noqa: E402

LINEAR = 2.4  # steps(2n) / steps(n): 2 for linear work, 4 for quadratic


def steps(fn: Callable[[], Any]) -> int:
    """Lines of Python executed by ``fn()`` (after one warm-up call for lazy imports)."""
    fn()
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        return local

    old = sys.gettrace()
    sys.settrace(calls)
    try:
        fn()
    finally:
        sys.settrace(old)
    return count


def compile_or_too_large(oci: dict[str, Any]) -> None:
    """Compile; a program past the kernel's limit is fine here (all the work is done)."""
    try:
        compile_seccomp(oci, "x86_64")
    except SeccompError as exc:
        assert exc.code == "OCI410"


def test_step_counter_tells_linear_from_quadratic() -> None:
    def pairs(n: int) -> int:
        hits = 0
        for i in range(n):
            for j in range(i):
                hits += i ^ j == 1
        return hits

    def single(n: int) -> int:
        return sum(1 for i in range(n) if i % 3)

    assert steps(lambda: pairs(400)) / steps(lambda: pairs(200)) > 3.5
    assert steps(lambda: single(400)) / steps(lambda: single(200)) < 2.1


@pytest.mark.parametrize(
    ("shape", "arches"),
    [
        ("distinct", ()),  # every rule costs instructions: far jumps, trampolines
        ("distinct", ("SCMP_ARCH_X86", "SCMP_ARCH_X32")),
        ("traced", ("SCMP_ARCH_X86", "SCMP_ARCH_X32")),  # mostly repeated rules
    ],
)
def test_compile_work_is_linear_in_the_rules(shape: str, arches: tuple[str, ...]) -> None:
    small = argument_rules(500, shape, seed=3, arches=arches)
    large = argument_rules(1000, shape, seed=3, arches=arches)
    ratio = steps(lambda: compile_or_too_large(large)) / steps(lambda: compile_or_too_large(small))
    assert ratio < LINEAR, f"doubling the rules multiplied the work by {ratio:.2f}"


def test_overlap_check_on_many_disjoint_rules_is_linear() -> None:
    # 1,000+ rules of one syscall, alternating actions, pairwise disjoint: the overlap
    # warning has to rule out every pair without comparing them all
    def profile(n: int) -> dict[str, Any]:
        acts = ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG")
        return {
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                {
                    "names": ["personality"],
                    "action": acts[i % 2],
                    "args": [{"index": 0, "op": "SCMP_CMP_EQ", "value": i}],
                }
                for i in range(n)
            ],
        }

    ratio = steps(lambda: compile_seccomp(profile(2000), "x86_64")) / steps(
        lambda: compile_seccomp(profile(1000), "x86_64")
    )
    assert ratio < LINEAR


def test_a_long_jeq_chain_shares_its_trampolines() -> None:
    # 1,500 "arg0 == i" rules: one jeq each, all jumping to two shared rets far below;
    # a far jump reuses the nearest ret copy ahead instead of getting its own
    n = 1500
    acts = ("SCMP_ACT_ALLOW", "SCMP_ACT_LOG")
    oci = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {
                "names": ["personality"],
                "action": acts[(i // 7) % 2],
                "args": [{"index": 0, "op": "SCMP_CMP_EQ", "value": i}],
            }
            for i in range(n)
        ],
    }
    f = compile_seccomp(oci, "x86_64")
    rets = sum(1 for i in f.instructions if i.code == B.RET_K)
    assert len(f.instructions) <= n + 40, len(f.instructions)
    assert rets <= 2 * (n // 255 + 1) + 6, rets
    nr = syscall_number("x86_64", "personality")
    assert nr is not None
    for i in (0, 1, 6, 7, 13, 14, 700, 1234, n - 1):
        want = SECCOMP_RET_LOG if (i // 7) % 2 else SECCOMP_RET_ALLOW
        assert emulate(f.instructions, "x86_64", nr, (i, 0, 0, 0, 0, 0)).ret == want
    assert emulate(f.instructions, "x86_64", nr, (n, 0, 0, 0, 0, 0)).ret != SECCOMP_RET_ALLOW


def test_eight_thousand_traced_rules_fit_and_stop_growing() -> None:
    # a profile of 8,000 argument rules, most of them repeats: the program is as long as
    # the distinct rules need, the same as for the first 4,000 of them
    big = compile_seccomp(argument_rules(8000, "traced", seed=1), "x86_64")
    half = compile_seccomp(argument_rules(4000, "traced", seed=1), "x86_64")
    assert len(big.instructions) <= B.BPF_MAXINSNS
    assert len(big.instructions) <= len(half.instructions) + 64
    one_arch = compile_seccomp(argument_rules(8000, "traced", seed=1, arches=()), "x86_64")
    assert len(one_arch.instructions) < 2000, len(one_arch.instructions)
