"""v1 -> v2 conversions: shares -> weight (both formulas), blkio -> io weight, memory+swap."""

from __future__ import annotations

import json

import pytest

from ocitool.lower.cgroups.convert import (
    SwapError,
    blkio_weight_to_io_weight,
    memory_swap_to_v2,
    shares_to_weight,
    shares_to_weight_linear,
    v2_limit,
)
from ocitool.spec.load import parse_text


@pytest.mark.parametrize(
    ("shares", "weight"),
    [
        (0, 0),  # unset stays unset
        (1, 1),
        (2, 1),  # kernel minimum -> v2 minimum
        (3, 2),
        (64, 12),
        (128, 21),
        (256, 35),
        (512, 59),
        (1024, 100),  # the defaults map onto each other
        (2048, 174),
        (4096, 303),
        (262143, 10000),
        (262144, 10000),  # kernel maximum -> v2 maximum
        (10**6, 10000),
    ],
)
def test_shares_to_weight_quadratic(shares: int, weight: int) -> None:
    assert shares_to_weight(shares) == weight


@pytest.mark.parametrize(
    ("shares", "weight"),
    [(0, 0), (2, 1), (512, 20), (1024, 39), (2048, 79), (262144, 10000)],
)
def test_shares_to_weight_linear_old_formula(shares: int, weight: int) -> None:
    assert shares_to_weight_linear(shares) == weight


def test_new_formula_is_monotonic_and_in_range() -> None:
    prev = 0
    for shares in range(2, 262145, 97):
        w = shares_to_weight(shares)
        assert 1 <= w <= 10000
        assert w >= prev
        prev = w


@pytest.mark.parametrize(
    ("blkio", "io"),
    [(0, 0), (10, 1), (100, 910), (500, 4950), (1000, 10000), (5, 1), (2000, 10000)],
)
def test_blkio_weight_to_io_weight(blkio: int, io: int) -> None:
    assert blkio_weight_to_io_weight(blkio) == io


@pytest.mark.parametrize(
    ("swap", "limit", "expected"),
    [
        (None, None, None),
        (0, 100, None),
        (None, -1, -1),  # unlimited memory, swap unset: unlimited swap too
        (-1, 100, -1),
        (300, 100, 200),  # memory+swap 300 with memory 100: 200 of swap
        (100, 100, 0),  # equal: no swap at all
        (500, -1, 500),  # nothing to subtract from
    ],
)
def test_memory_swap_to_v2(swap: int | None, limit: int | None, expected: int | None) -> None:
    assert memory_swap_to_v2(swap, limit) == expected


@pytest.mark.parametrize(("swap", "limit"), [(100, None), (100, 200), (100, -5)])
def test_memory_swap_to_v2_errors(swap: int, limit: int | None) -> None:
    with pytest.raises(SwapError):
        memory_swap_to_v2(swap, limit)


def test_v2_limit() -> None:
    assert v2_limit(-1) == "max"
    assert v2_limit(0) == "0"
    assert v2_limit(4096) == "4096"


# --------------------------------------------------------------------------- the swap rule

SWAP_CASES = [
    (1000, 2000, True),  # swap below the limit
    (2000, 2000, False),  # equal: no swap at all, fine
    (3000, 2000, False),
    (-1, 2000, False),  # unlimited swap
    (0, 2000, False),  # unset
    (1000, -1, False),  # unlimited memory
]


@pytest.mark.parametrize(("swap", "limit", "refused"), SWAP_CASES)
def test_lint_v1_and_v2_apply_the_same_swap_rule(swap: int, limit: int, refused: bool) -> None:
    """One rule (convert.swap_below_limit) for lint OCR105 and both cgroup drivers."""
    from ocitool.errors import LoweringError
    from ocitool.lint.engine import LintOptions, run_rules
    from ocitool.lint.selection import Selection
    from ocitool.lower import lower
    from ocitool.lower.cgroups.convert import swap_below_limit
    from ocitool.lower.host import HostInfo
    from ocitool.spec.build import build_spec
    from tests.unit.plan_helpers import config

    data = config(linux={"resources": {"memory": {"limit": limit, "swap": swap}}})
    text = json.dumps(data, indent=2)
    assert (swap_below_limit(swap, limit) is not None) is refused
    options = LintOptions(selection=Selection(select=("OCR105",)))
    hits = run_rules(parse_text(text, "config.json"), options)
    assert [h.code for h in hits] == (["OCR105"] if refused else [])
    for mode in ("v1", "v2"):
        spec = build_spec(parse_text(text, "config.json"))
        host = HostInfo.preset(mode)
        if refused:
            with pytest.raises(LoweringError) as err:
                lower(spec, host, container_id="c1", bundle="/b")
            assert (
                err.value.code == "OCI323" and err.value.pointer == "/linux/resources/memory/swap"
            )
        else:
            lower(spec, host, container_id="c1", bundle="/b")
