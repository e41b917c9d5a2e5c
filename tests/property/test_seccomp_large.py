"""Large argument-rule profiles: our program vs libseccomp's vs a plain first-match oracle.

The profiles (tests/helpers/seccomp_profiles.py) have hundreds of argument rules, so the
programs are long enough for far jumps and shared trampolines, and the rule lists hold
repeated and shadowed rules the compiler leaves out. Every syscall a rule names is run
through the emulator with argument vectors built from its rules' values (and their
neighbours). The oracle orders *all* the rules (none left out) and takes the first match,
so it checks the dropping of dead rules as well as the code.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ocitool.seccomp import bpf as B  # noqa: E402
from ocitool.seccomp.compiler import compile_seccomp  # noqa: E402
from ocitool.seccomp.disasm import accumulator_conflicts  # noqa: E402
from ocitool.seccomp.emulator import emulate  # noqa: E402
from ocitool.seccomp.libseccomp import build as libseccomp_build  # noqa: E402
from ocitool.seccomp.rules import M32, M64, ArchPolicy, Profile, Rule, _rule_order  # noqa: E402
from tests.helpers.seccomp_profiles import argument_rules  # noqa: E402

pytest.importorskip("pyseccomp")

TARGET = "x86_64"
ARCH_SETS = {(): ["x86_64"], ("SCMP_ARCH_X86", "SCMP_ARCH_X32"): ["x86_64", "x86", "x32"]}


def reference(profile: Profile, sec: ArchPolicy, nr: int) -> Callable[[Sequence[int]], int]:
    """First match over every rule that names ``nr``, in libseccomp's order."""
    rules = [r for r in sec.rules_by_nr.get(nr, []) if r.ret != profile.default_ret]
    uncond = [r for r in rules if not r.conds]
    ordered = sorted(rules, key=functools.cmp_to_key(_rule_order))
    mask = M32 if sec.bits(nr) == 32 else M64

    def verdict(args: Sequence[int]) -> int:
        if uncond:
            return uncond[0].ret
        a = [x & mask for x in args]
        return next((r.ret for r in ordered if r.matches(a)), profile.default_ret)

    return verdict


def vectors(rules: Sequence[Rule]) -> list[tuple[int, ...]]:
    """Each rule's values at their arguments, and each value moved by one either way."""
    out = {(0,) * 6, (M64,) * 6}
    for r in rules:
        base = [0] * 6
        for c in r.conds:
            base[c.index] = c.value_two & c.value if c.op == "SCMP_CMP_MASKED_EQ" else c.value
        out.add(tuple(base))
        for c in r.conds:
            for d in (-1, 1, 1 << 32):
                v = list(base)
                v[c.index] = (v[c.index] + d) & M64
                out.add(tuple(v))
    return sorted(out)


def libseccomp_agrees(profile: Profile, sec: ArchPolicy, nr: int, args: Any, theirs: int) -> bool:
    """libseccomp's pick is only fixed when at most one action matches (OCI409)."""
    mask = M32 if sec.bits(nr) == 32 else M64
    a = [x & mask for x in args]
    rules = [r for r in sec.rules_by_nr.get(nr, []) if r.ret != profile.default_ret]
    hits = {r.ret for r in rules if r.matches(a)}
    return theirs in hits if hits else theirs == profile.default_ret


def mismatches(oci: dict[str, Any], members: list[str], lib_raw: bytes | None) -> list[str]:
    ours = compile_seccomp(oci, TARGET)
    assert ours.profile is not None
    assert len(ours.instructions) <= B.BPF_MAXINSNS
    assert accumulator_conflicts(ours.instructions) == []
    lib = B.unpack_program(lib_raw, "little") if lib_raw is not None else None
    if lib is not None and accumulator_conflicts(lib):
        lib = None  # libseccomp 2.5.4's known wrong-argument bug: only the oracle counts
    bad = []
    for arch in members:
        sec = next(s for s in ours.profile.sections if arch in s.members)
        for nr, rules in sec.rules_by_nr.items():
            if (nr & 0x40000000) != (0x40000000 if arch == "x32" else 0):
                continue  # the other half of the shared x86_64/x32 section
            oracle = reference(ours.profile, sec, nr)
            for args in vectors(rules):
                mine = emulate(ours.instructions, arch, nr, args).ret
                want = oracle(args)
                if mine != want:
                    bad.append(f"{arch} nr={nr:#x} {args}: ours {mine:#x}, oracle {want:#x}")
                if lib is not None:
                    theirs = emulate(lib, arch, nr, args).ret
                    if theirs != mine and not libseccomp_agrees(
                        ours.profile, sec, nr, args, theirs
                    ):
                        bad.append(f"{arch} nr={nr:#x} {args}: libseccomp {theirs:#x}")
    return bad


@settings(
    max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.sampled_from(["traced", "distinct"]),
    st.integers(0, 2**16),
    st.sampled_from([150, 300]),
    st.sampled_from(sorted(ARCH_SETS)),
)
def test_large_argument_profiles_match_the_oracle_and_libseccomp(
    shape: str, seed: int, count: int, arches: tuple[str, ...]
) -> None:
    oci = argument_rules(count, shape, seed, arches)
    lib = libseccomp_build(oci, TARGET)
    if lib.rejected:  # libseccomp refuses some overlapping rules (EEXIST); runc would fail
        names = {(i, n) for i, n, _ in lib.rejected}
        for i, rule in enumerate(oci["syscalls"]):
            rule["names"] = [n for n in rule["names"] if (i, n) not in names]
        oci["syscalls"] = [r for r in oci["syscalls"] if r["names"]]
        lib = libseccomp_build(oci, TARGET)
        assume(not lib.rejected)
    bad = mismatches(oci, ARCH_SETS[arches], lib.raw)
    assert not bad, "\n".join(bad[:10])


@pytest.mark.parametrize("shape", ["traced", "distinct"])
def test_eight_thousand_rules_match_the_oracle(shape: str) -> None:
    # the bench's size, one arch (distinct: 1,000 rules, what fits the kernel's limit)
    oci = argument_rules(8000 if shape == "traced" else 1000, shape, seed=7, arches=())
    bad = mismatches(oci, ["x86_64"], None)
    assert not bad, "\n".join(bad[:10])
