"""rootfsPropagation shared/unbindable reaches the container's own / (after pivot_root).

Before pivot_root the rootfs bind must be private (pivot_root refuses a shared
new root or parent, and the bind must not propagate to the host), so a shared
or unbindable "/" is applied once more after the old root is gone, as runc
does since opencontainers/runc#4724. Lowering is pure: no root needed.
"""

from __future__ import annotations

import pytest

from tests.unit.test_lower_mounts import config, lower


def _after_pivot(mode: str) -> list[str]:
    ops, _ = lower(config(rootfsPropagation=mode))
    names = [op.name for op in ops]
    return [op.text() for op in ops[names.index("umount2") + 1 :] if op.name == "make_propagation"]


@pytest.mark.parametrize(
    ("mode", "text"),
    [
        ("shared", 'mount(NULL, "/", NULL, MS_SHARED, NULL)'),
        ("rshared", 'mount(NULL, "/", NULL, MS_REC|MS_SHARED, NULL)'),
        ("unbindable", 'mount(NULL, "/", NULL, MS_UNBINDABLE, NULL)'),
    ],
)
def test_shared_or_unbindable_is_applied_to_the_new_root(mode: str, text: str) -> None:
    assert _after_pivot(mode) == [text]
    ops, _ = lower(config(rootfsPropagation=mode))
    last = [op for op in ops if op.name == "make_propagation"][-1]
    assert last.source == "/linux/rootfsPropagation"
    assert last.phase.value == "create.pivot"


@pytest.mark.parametrize("mode", ["private", "rprivate", "slave", "rslave", None])
def test_private_and_slave_need_nothing_after_the_pivot(mode: str | None) -> None:
    ops, _ = lower(config(rootfsPropagation=mode) if mode else config())
    names = [op.name for op in ops]
    assert "make_propagation" not in names[names.index("umount2") + 1 :]
