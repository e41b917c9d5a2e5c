"""Search-structure optimisations: verdict ranges and a weighted binary search tree.

Syscall numbers with one verdict in a row collapse into a range. Numbers no rule names
take the default action, so a range can only run across a gap when its verdict *is* the
default; we never guess about numbers the table lacks (libseccomp gives them the default
too, and the differential tests compare every number).

The ranges are then searched with ``jge`` nodes laid out as an optimal alphabetic tree
(Knuth's O(n^2) dynamic programme), weighted by how many profile syscalls each range
holds, so the syscalls a profile names sit near the root.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

M32 = 0xFFFFFFFF
EPSILON = 1e-3  # weight of a range no profile syscall lives in
EXACT_BELOW = 24  # subtrees with fewer leaves get the exact (quadratic) optimum


@dataclass(frozen=True)
class Range:
    lo: int
    hi: int  # inclusive
    verdict: Hashable
    weight: float


def build_ranges(
    verdicts: Mapping[int, Hashable],
    default: Hashable,
    hot: Mapping[int, float],
    overrides: Sequence[tuple[int, int, Hashable]] = (),
) -> list[Range]:
    """Partition [0, 2^32) into maximal runs of equal verdict.

    ``overrides`` are inclusive spans with a fixed verdict (the bad-arch spans of the
    x86_64/x32 split); they win over explicit numbers inside them.
    """
    pieces: list[tuple[int, int, Hashable]] = [(n, n, v) for n, v in verdicts.items()]
    pieces += overrides
    pieces.sort(key=lambda p: (p[0], p[0] == p[1]))
    out: list[tuple[int, int, Hashable]] = []
    nxt = 0
    for lo, hi, v in pieces:
        if lo < nxt:
            continue
        if lo > nxt:
            out.append((nxt, lo - 1, default))
        out.append((lo, hi, v))
        nxt = hi + 1
    if nxt <= M32:
        out.append((nxt, M32, default))
    merged: list[tuple[int, int, Hashable]] = []
    for lo, hi, v in out:
        if merged and merged[-1][2] == v and merged[-1][1] == lo - 1:
            merged[-1] = (merged[-1][0], hi, v)
        else:
            merged.append((lo, hi, v))
    hot_nrs = sorted(hot)
    cum = [0.0]
    for n in hot_nrs:
        cum.append(cum[-1] + hot[n])
    ranges = []
    for lo, hi, v in merged:
        a = bisect_left(hot_nrs, lo)
        b = bisect_right(hot_nrs, hi)
        ranges.append(Range(lo, hi, v, cum[b] - cum[a] + EPSILON))
    return ranges


def balanced_tree(weights: list[float]) -> dict[tuple[int, int], int]:
    """Weight-balanced split (O(n log n)): each node splits its leaves at the weight median.

    Within a couple of levels of the optimum (Mehlhorn's bound) and far cheaper than the
    exact DP, which matters because compile time is part of container start-up.
    """
    prefix = [0.0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    root: dict[tuple[int, int], int] = {}
    stack = [(0, len(weights) - 1)]
    while stack:
        i, j = stack.pop()
        if i >= j:
            continue
        if j - i < EXACT_BELOW:  # small enough: solve this subtree exactly
            sub = optimal_tree(weights[i : j + 1])
            for a in range(j - i + 1):
                for b in range(a + 1, j - i + 1):
                    root[(i + a, i + b)] = i + sub[a][b]
            continue
        half = (prefix[i] + prefix[j + 1]) / 2
        k = bisect_left(prefix, half, i + 1, j + 1)  # first k with prefix[k] >= half
        # candidate splits k-1, k (right subtree starts at leaf k): pick the better balance
        best = min(
            (c for c in (k - 1, k, k + 1) if i + 1 <= c <= j),
            key=lambda c: abs(prefix[c] - half),
        )
        root[(i, j)] = best
        stack.append((i, best - 1))
        stack.append((best, j))
    return root


def _hot_weights(ranges: list[Range]) -> list[float]:
    return [r.weight for r in ranges]


def optimal_tree(weights: list[float]) -> list[list[int]]:
    """root[i][j]: first leaf index of the right subtree for leaves i..j (i < j).

    Cost = sum over leaves of weight * depth; Knuth's monotonicity bounds the search.
    """
    n = len(weights)
    prefix = [0.0]
    for w in weights:
        prefix.append(prefix[-1] + w)
    cost = [[0.0] * n for _ in range(n)]
    root = [[0] * n for _ in range(n)]
    for i in range(n - 1):
        root[i][i + 1] = i + 1
        cost[i][i + 1] = weights[i] + weights[i + 1]
    for length in range(3, n + 1):
        for i in range(n - length + 1):
            j = i + length - 1
            best = float("inf")
            best_k = i + 1
            lo_k = max(root[i][j - 1], i + 1)
            hi_k = min(root[i + 1][j], j)
            ci = cost[i]
            for k in range(lo_k, hi_k + 1):
                c = ci[k - 1] + cost[k][j]
                if c < best:
                    best, best_k = c, k
            cost[i][j] = best + prefix[j + 1] - prefix[i]
            root[i][j] = best_k
    return root


def tree_cost(ranges: list[Range], root: list[list[int]]) -> float:
    """Mean depth (jge count) over the weights: handy for tests and bench notes."""
    total = 0.0

    def walk(i: int, j: int, depth: int) -> None:
        nonlocal total
        if i == j:
            total += ranges[i].weight * depth
            return
        k = root[i][j]
        walk(i, k - 1, depth + 1)
        walk(k, j, depth + 1)

    walk(0, len(ranges) - 1, 0)
    return total / sum(r.weight for r in ranges)


# --- peephole on symbolic code --------------------------------------------------------------


def peephole(items: list[Any]) -> list[Any]:
    """Thread jumps through ``ja`` chains, turn ``ja ret`` into ``ret``, drop dead code.

    Works on the assembler's symbolic items (labels + ops), before offsets exist.
    """
    from ocitool.seccomp import bpf as B

    # what sits at each label: the first op after it
    at: dict[str, Any] = {}
    pending: list[str] = []
    for it in items:
        if isinstance(it, B.Label):
            pending.append(it.name)
        else:
            for name in pending:
                at[name] = it
            pending = []

    def final(label: str | None) -> str | None:
        seen = set()
        while label is not None and label not in seen:
            seen.add(label)
            op = at.get(label)
            if op is None or op.code != B.JA:
                break
            label = op.jt
        return label

    # the op a fall-through reaches (labels are transparent)
    next_op: list[Any] = [None] * len(items)
    following = None
    for pos in range(len(items) - 1, -1, -1):
        next_op[pos] = following
        if isinstance(items[pos], B.Op):
            following = items[pos]

    out: list[Any] = []
    for pos, it in enumerate(items):
        if isinstance(it, B.Op):
            if it.code & 0x07 == B.BPF_JMP and it.code != B.JA:
                # a branch that falls through into "ja X" can branch to X directly
                nxt = next_op[pos]
                if nxt is not None and nxt.code == B.JA:
                    it = B.Op(it.code, it.k, it.jt or nxt.jt, it.jf or nxt.jt)
            if it.code == B.JA:
                tgt = final(it.jt)
                op = at.get(tgt) if tgt else None
                if op is not None and op.code == B.RET_K:
                    it = B.Op(B.RET_K, op.k)
                else:
                    it = B.Op(B.JA, jt=tgt)
            elif it.code & 0x07 == B.BPF_JMP:
                it = B.Op(it.code, it.k, final(it.jt), final(it.jf))
        out.append(it)
    return _drop_unreachable(out)


def _drop_unreachable(items: list[Any]) -> list[Any]:
    """Keep only ops reachable from the entry, labels something jumps to, and no
    ``ja`` that lands on the very next op."""
    from ocitool.seccomp import bpf as B

    while True:
        pos_of: dict[str, int] = {}
        for pos, it in enumerate(items):
            if isinstance(it, B.Label):
                pos_of[it.name] = pos
        seen = [False] * len(items)
        stack = [0]
        while stack:
            pos = stack.pop()
            while pos < len(items) and not seen[pos]:
                seen[pos] = True
                it = items[pos]
                if isinstance(it, B.Op):
                    for t in (it.jt, it.jf):
                        if t is not None:
                            stack.append(pos_of[t])
                    if it.code == B.JA or it.code & 0x07 == B.BPF_RET:
                        break
                    if it.jt is not None and it.jf is not None:
                        break  # a branch with both targets never falls through
                pos += 1
        refs: set[str] = set()
        for pos, it in enumerate(items):
            if seen[pos] and isinstance(it, B.Op):
                refs.update(t for t in (it.jt, it.jf) if t is not None)
        kept = [
            it
            for pos, it in enumerate(items)
            if seen[pos] and (not isinstance(it, B.Label) or it.name in refs)
        ]
        cleaned: list[Any] = []
        for pos, it in enumerate(kept):
            if isinstance(it, B.Op) and it.code == B.JA:
                nxt = pos + 1
                names = set()
                while nxt < len(kept) and isinstance(kept[nxt], B.Label):
                    names.add(kept[nxt].name)
                    nxt += 1
                if it.jt in names:
                    continue
            cleaned.append(it)
        if len(cleaned) == len(items):
            return cleaned
        items = cleaned
