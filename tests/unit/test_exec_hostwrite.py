"""ocitool/exec/hostwrite.py: which host files a rootless runtime's containers can write."""

from __future__ import annotations

import pytest

from ocitool.exec import hostwrite

INITIAL = hostwrite.id_ranges("         0          0 4294967295\n")
PODMAN = hostwrite.id_ranges("0 1000 1\n1 100000 65536\n")  # 65534 inside is mapped
SMALL = hostwrite.id_ranges("0 1000 1\n1 100000 1000\n")


@pytest.mark.parametrize(
    ("uid", "mode", "uid_map", "subuids", "expected"),
    [
        (0, 0o100755, INITIAL, [], False),  # root's /usr/bin/python3
        (1000, 0o100755, INITIAL, [], True),  # the user's own venv
        (0, 0o100775, INITIAL, [], True),  # group-writable: a subordinate gid may be it
        (0, 0o100757, INITIAL, [], True),  # anyone may write
        (100005, 0o100755, INITIAL, [(100000, 65536)], True),  # a subordinate uid's file
        (165536, 0o100755, INITIAL, [(100000, 65536)], False),
        (0, 0o100755, PODMAN, [], True),  # in a user namespace: uid 0 there is mapped
        (65534, 0o100755, SMALL, [], False),  # unmapped (host root): shows as overflow
        (65534, 0o100755, PODMAN, [], True),  # overflow is also a mapped id: cannot tell
    ],
)
def test_what_a_rootless_container_may_write(
    uid: int,
    mode: int,
    uid_map: list[tuple[int, int, int]],
    subuids: list[tuple[int, int]],
    expected: bool,
) -> None:
    assert hostwrite.may_write(uid, mode, 1000, uid_map, subuids, 65534) is expected


def test_subordinate_ranges_match_the_name_or_the_uid() -> None:
    text = "alice:100000:65536\n1000:200000:10\nbob:300000:5\nbroken\n"
    assert hostwrite.subordinate(text, ("1000", "alice")) == [(100000, 65536), (200000, 10)]


def test_the_initial_user_namespace_is_recognised() -> None:
    assert hostwrite.is_initial(INITIAL)
    assert not hostwrite.is_initial(PODMAN)


def test_this_process_privilege_matches_its_user() -> None:
    """The test suite runs as root (CI) or as a plain user: the answer follows."""
    import os

    with open("/proc/self/uid_map") as f:
        in_initial = hostwrite.is_initial(hostwrite.id_ranges(f.read()))
    if in_initial and os.geteuid() == 0:
        assert hostwrite.privileged_over_host()
    if not in_initial:
        assert not hostwrite.privileged_over_host()
