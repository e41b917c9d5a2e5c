"""Conversions from the spec's cgroup-v1-shaped resources to cgroup v2 values.

The runtime-spec's ``linux.resources`` was designed around cgroup v1 (cpu
shares, blkio weights, memory+swap). On a v2 host a runtime must translate.
Each function here states the formula and where it comes from, because the
numbers are user-visible (``cat /sys/fs/cgroup/.../cpu.weight``).
"""

from __future__ import annotations

import math

SHARES_MIN = 2  # kernel MIN_SHARES
SHARES_MAX = 262144  # kernel MAX_SHARES (1 << 18)
WEIGHT_MIN = 1
WEIGHT_MAX = 10000
BLKIO_WEIGHT_MIN = 10
BLKIO_WEIGHT_MAX = 1000


def shares_to_weight(shares: int) -> int:
    """cpu.shares [2, 262144] -> cpu.weight [1, 10000]; 0 means unset and stays 0.

    The formula runc >= 1.3.2 (opencontainers/cgroups, runc PR 4785) and
    crun >= 1.23 (crun issue 1721) use. It maps the three anchor points of the two scales
    onto each other: the minimum (2 -> 1), the maximum (262144 -> 10000) *and*
    the default (1024 -> 100). In log space it is the quadratic through
    those points::

        l = log2(shares)
        weight = ceil(10 ** ((l*l + 125*l) / 612 - 7/34))

    We use it because a container that asks for the default share must get the
    default weight; with the old linear formula (:func:`shares_to_weight_linear`)
    ``cpu.shares=1024`` became ``cpu.weight=39``, which silently gave every such
    container less than half the CPU share of a process in a sibling cgroup
    with the kernel default of 100 (kubernetes issue 131216).
    """
    if shares == 0:
        return 0
    if shares <= SHARES_MIN:
        return WEIGHT_MIN
    if shares >= SHARES_MAX:
        return WEIGHT_MAX
    exp_l = math.log2(shares)
    exponent = (exp_l * exp_l + 125 * exp_l) / 612.0 - 7.0 / 34.0
    return min(WEIGHT_MAX, max(WEIGHT_MIN, math.ceil(math.pow(10, exponent))))


def shares_to_weight_linear(shares: int) -> int:
    """The older linear mapping ``1 + (shares - 2) * 9999 / 262142`` (runc < 1.3.2, crun < 1.23).

    Kept for comparison and for ``--explain``: it maps 1024 to 39, not 100.
    """
    if shares == 0:
        return 0
    shares = min(max(shares, SHARES_MIN), SHARES_MAX)
    return 1 + ((shares - 2) * 9999) // 262142


def blkio_weight_to_io_weight(weight: int) -> int:
    """blkio.weight [10, 1000] -> io.weight [1, 10000]; 0 means unset.

    Linear, as runc's ``ConvertBlkIOToIOWeightValue`` and crun do:
    ``1 + (weight - 10) * 9999 / 990``, so 10 -> 1, 500 -> 4950, 1000 -> 10000.
    (runc first tries ``io.bfq.weight`` with the unconverted value, which has
    the v1 range; we write ``io.weight``, which every io controller has.)
    """
    if weight == 0:
        return 0
    weight = min(max(weight, BLKIO_WEIGHT_MIN), BLKIO_WEIGHT_MAX)
    return 1 + ((weight - 10) * 9999) // 990


SWAP_HINT = "set swap to limit + the swap you want, or -1 for unlimited swap"


def swap_below_limit(swap: int | None, limit: int | None) -> str | None:
    """Why ``memory.swap`` cannot be applied next to ``memory.limit``, or None if it can.

    The one statement of the rule for cgroup v1, v2 and lint: the spec's
    ``memory.swap`` is memory+swap (v1's ``memory.memsw.limit_in_bytes``), so
    a value above zero but below a set limit is refused by the kernel on v1
    and cannot be converted to v2's swap-only ``memory.swap.max``. Unset
    (None, 0) and unlimited (-1) values are fine.
    """
    if limit is not None and swap is not None and limit > 0 and 0 < swap < limit:
        return (
            f"memory.swap ({swap}) is below memory.limit ({limit}); "
            "swap is memory+swap, so it must be >= the limit"
        )
    return None


class SwapError(ValueError):
    """memory.swap cannot be expressed on cgroup v2 (message says why)."""


def memory_swap_to_v2(swap: int | None, limit: int | None) -> int | None:
    """The spec's ``memory.swap`` is memory+swap (v1 memsw); v2's ``memory.swap.max`` is swap only.

    Returns the value for ``memory.swap.max`` (-1 meaning "max"), or None when
    nothing should be written. Mirrors runc's ConvertMemorySwapToCgroupV2Value:

    * limit -1 (unlimited) and swap unset -> swap unlimited too (-1);
    * swap -1 -> -1; swap unset (None or 0) -> nothing;
    * limit unlimited -> swap as given (nothing to subtract from);
    * swap set without a limit, or swap < limit -> error;
    * otherwise swap - limit (0 when equal: swap disabled).
    """
    lim = limit or 0
    sw = swap or 0
    if lim == -1 and sw == 0:
        return -1
    if sw == -1:
        return -1
    if sw == 0:
        return None
    if lim == -1:
        return sw
    if lim == 0:
        raise SwapError("memory.swap is set but memory.limit is not; cannot compute swap only")
    if lim < 0:
        raise SwapError(f"invalid memory.limit {lim}")
    problem = swap_below_limit(sw, lim)
    if problem:
        raise SwapError(problem)
    return sw - lim


def v2_limit(value: int) -> str:
    """v2 files take ``max`` for "no limit"; the spec says -1."""
    return "max" if value < 0 else str(value)
