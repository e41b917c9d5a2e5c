"""Optimizer pieces: verdict ranges, search trees, peephole, accumulator check."""

from __future__ import annotations

import random

import pytest

from ocitool.seccomp import bpf as B
from ocitool.seccomp.disasm import accumulator_conflicts, disassemble
from ocitool.seccomp.emulator import emulate
from ocitool.seccomp.optimizer import (
    EPSILON,
    balanced_tree,
    build_ranges,
    optimal_tree,
    peephole,
)

M32 = 0xFFFFFFFF


def test_ranges_merge_runs_and_keep_gaps_default() -> None:
    verdicts = {0: "A", 1: "A", 2: "A", 5: "A", 6: "B"}
    r = build_ranges(verdicts, "D", {0: 1, 1: 1, 2: 1, 5: 1, 6: 1})
    assert [(x.lo, x.hi, x.verdict) for x in r] == [
        (0, 2, "A"),
        (3, 4, "D"),  # the gap keeps the default even though both sides are A
        (5, 5, "A"),
        (6, 6, "B"),
        (7, M32, "D"),
    ]
    assert [x.weight for x in r] == pytest.approx(
        [3 + EPSILON, EPSILON, 1 + EPSILON, 1 + EPSILON, EPSILON]
    )


def test_ranges_merge_default_verdicts_across_gaps_and_apply_overrides() -> None:
    r = build_ranges({1: "D", 3: "A"}, "D", {}, [(0x40000000, M32 - 1, "BAD")])
    assert [(x.lo, x.hi, x.verdict) for x in r] == [
        (0, 2, "D"),
        (3, 3, "A"),
        (4, 0x3FFFFFFF, "D"),
        (0x40000000, M32 - 1, "BAD"),
        (M32, M32, "D"),
    ]


def _cost(weights: list[float], root: object) -> float:
    def get(i: int, j: int) -> int:
        return root[(i, j)] if isinstance(root, dict) else root[i][j]  # type: ignore[index]

    total = 0.0
    stack = [(0, len(weights) - 1, 0)]
    leaves = []
    while stack:
        i, j, d = stack.pop()
        if i == j:
            total += weights[i] * d
            leaves.append(i)
            continue
        k = get(i, j)
        assert i < k <= j
        stack += [(i, k - 1, d + 1), (k, j, d + 1)]
    assert sorted(leaves) == list(range(len(weights)))
    return total / sum(weights)


@pytest.mark.parametrize("seed", range(5))
def test_balanced_tree_is_close_to_the_optimum(seed: int) -> None:
    rnd = random.Random(seed)
    weights = [rnd.choice([EPSILON, 1, 1, 2, 5, 30]) for _ in range(rnd.randint(2, 150))]
    best = _cost(weights, optimal_tree(weights))
    ours = _cost(weights, balanced_tree(weights))
    assert best <= ours + 1e-9
    assert ours <= best + 0.5


def test_uniform_weights_give_a_balanced_tree() -> None:
    depth = _cost([1.0] * 64, balanced_tree([1.0] * 64))
    assert depth == pytest.approx(6.0)


def test_peephole_threads_jumps_and_drops_dead_code() -> None:
    items: list[B.Item] = [
        B.Op(B.LD_ABS, B.OFF_NR),
        B.Op(B.JEQ_K, 1, "hop", None),
        B.Op(B.JA, jt="hop2"),  # fall-through into ja: the branch can go there directly
        B.Label("hop"),
        B.Op(B.JA, jt="hop2"),
        B.Op(B.RET_K, 99),  # unreachable
        B.Label("hop2"),
        B.Op(B.JA, jt="allow"),
        B.Label("allow"),
        B.Op(B.RET_K, 0x7FFF0000),
    ]
    out = peephole(items)
    prog = B.assemble(out)
    assert 99 not in [i.k for i in prog if i.code == B.RET_K]
    assert B.JA not in [i.code for i in prog]
    assert len(prog) <= 3
    for nr in (1, 2):
        assert emulate(prog, "x86_64", nr).ret == 0x7FFF0000


def test_peephole_turns_ja_to_ret_into_ret() -> None:
    items: list[B.Item] = [
        B.Op(B.LD_ABS, B.OFF_NR),
        B.Op(B.JEQ_K, 1, None, "no"),
        B.Op(B.JA, jt="yes"),
        B.Label("no"),
        B.Op(B.RET_K, 5),
        B.Label("yes"),
        B.Op(B.RET_K, 6),
    ]
    prog = B.assemble(peephole(items))
    assert [emulate(prog, "x86_64", n).ret for n in (1, 2)] == [6, 5]
    assert max(emulate(prog, "x86_64", n).executed for n in (1, 2)) == 3


def test_accumulator_conflict_detection() -> None:
    conflict = [
        B.Insn(B.LD_ABS, k=B.arg_offset(0, False)),
        B.Insn(B.JEQ_K, 0, 1, 5),
        B.Insn(B.LD_ABS, k=B.arg_offset(1, False)),
        B.Insn(B.JEQ_K, 0, 1, 7),  # A is args[0] or args[1] here
        B.Insn(B.RET_K, k=1),
        B.Insn(B.RET_K, k=2),
    ]
    assert accumulator_conflicts(conflict) == [3]
    clean = [
        B.Insn(B.LD_ABS, k=B.OFF_NR),
        B.Insn(B.JEQ_K, 0, 1, 5),
        B.Insn(B.JEQ_K, 0, 0, 6),  # A is still nr on both paths
        B.Insn(B.RET_K, k=1),
    ]
    assert accumulator_conflicts(clean) == []


def test_libseccomp_programs_disassemble_and_its_known_bug_is_flagged() -> None:
    pytest.importorskip("pyseccomp")
    from ocitool.seccomp.libseccomp import build

    prof = {
        "defaultAction": "SCMP_ACT_ERRNO",
        "syscalls": [
            {
                "names": ["write"],
                "action": "SCMP_ACT_ALLOW",
                "args": [
                    {"index": 0, "op": "SCMP_CMP_NE", "value": 0},
                    {"index": 1, "op": "SCMP_CMP_NE", "value": 0},
                    {"index": 2, "op": "SCMP_CMP_NE", "value": 0},
                ],
            },
            {
                "names": ["write"],
                "action": "SCMP_ACT_ALLOW",
                "args": [{"index": 0, "op": "SCMP_CMP_LT", "value": 1}],
            },
        ],
    }
    raw = build(prof, "x86").raw
    text = disassemble(raw, "x86")
    assert "write" in text and "ERRNO(EPERM)" in text and "ld   args[1].lo" in text
    insns = B.unpack_program(raw)
    assert accumulator_conflicts(insns) != []
    # the consequence: libseccomp's filter allows write(1, 0, 0), which no rule allows
    assert emulate(insns, "x86", 4, (1, 0, 0)).ret == 0x7FFF0000
