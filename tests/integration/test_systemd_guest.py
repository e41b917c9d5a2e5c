"""The systemd cgroup driver with a real systemd: one boot of the systemd test host.

This machine has no systemd as PID 1, so ``--systemd-cgroup`` is proven in a guest:
the cgroup v2 test host (tests/hosts) with systemd 252 as its init
(tests/hosts/init-systemd.sh), which runs tests/hosts/systemd once. Each guest
test comes back here as its own test, as in test_v2_guest.py. With CI set, a
missing QEMU is a failure, never a skip.
"""

from __future__ import annotations

import pytest

from tests.hosts.qemu import SYSTEMD_INIT, GuestResult
from tests.integration.test_v2_guest import (
    REPO,
    assert_passed_in_guest,
    guest_test_names,
    run_guest_suite,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

GUEST_TESTS = REPO / "tests" / "hosts" / "systemd"
Guest = tuple[GuestResult, dict[str, str]]


@pytest.fixture(scope="module")
def guest(tmp_path_factory: pytest.TempPathFactory) -> Guest:
    out = tmp_path_factory.mktemp("guest-systemd")
    return run_guest_suite(out, GUEST_TESTS, host="systemd", init=SYSTEMD_INIT)


@pytest.mark.parametrize("name", guest_test_names(GUEST_TESTS))
def test_in_systemd_guest(guest: Guest, name: str) -> None:
    """Every guest test ran (each parameter) and passed; skips count as failures."""
    assert_passed_in_guest(guest, name)


def test_systemd_guest_session_ended_cleanly(guest: Guest) -> None:
    result, _ = guest
    assert result.status == 0, result.describe()
