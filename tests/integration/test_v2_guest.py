"""ocitool on a pure cgroup v2 kernel: one boot of the QEMU test host runs tests/hosts/v2.

This machine is cgroup v1 "hybrid", so the v2 path (memory.max, cpu.max, io, the eBPF
device program, cgroup.freeze, cgroup namespaces) is proven in a guest: Debian's
kernel booted on this host's own root with cgroup_no_v1=all (tests/hosts). The guest
runs the whole directory once (a boot costs seconds, Python in it is many times
slower than here); each guest test then shows up here as its own test, passed or
failed with the guest's message. With CI set, a missing QEMU is a failure, never
a skip.
"""

from __future__ import annotations

import ast
import os
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.hosts.image import GuestImage, ImageError, build_image
from tests.hosts.qemu import GUEST_OUT, V2_INIT, GuestResult, qemu_available, run_in_guest
from tests.integration.conftest import needs_root

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
GUEST_TESTS = REPO / "tests" / "hosts" / "v2"
GUEST_TIMEOUT = 900


def guest_test_names(directory: Path = GUEST_TESTS) -> list[str]:
    """The test functions of a guest test directory, read from the source (not imported here)."""
    names = []
    for path in sorted(directory.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        names += [
            f"{path.stem}::{node.name}"
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        ]
    return names


def guest_pytest_argv(directory: Path = GUEST_TESTS) -> list[str]:
    """pytest without site (its .pth hooks cost seconds under TCG) and without plugin
    autoloading; PYTHONPATH (guest_env below) gives it the repository and site-packages."""
    return [
        sys.executable,
        "-S",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--durations=15",
        f"--junitxml={GUEST_OUT}/junit.xml",
        str(directory),
    ]


def guest_env(host: str = "v2") -> dict[str, str]:
    paths = dict.fromkeys(
        [str(REPO), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    )
    return {
        "PYTHONPATH": ":".join(paths),
        "OCITOOL_TESTHOST": host,
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


@pytest.fixture(scope="module")
def guest(tmp_path_factory: pytest.TempPathFactory) -> tuple[GuestResult, dict[str, str]]:
    """(what the boot returned, {"module::test[param]": failure text or ""})."""
    return run_guest_suite(tmp_path_factory.mktemp("guest-v2"))


def guest_image() -> GuestImage:
    """The cached image; with CI set, a missing QEMU or image fails instead of skipping."""
    needs_root()
    ci = bool(os.environ.get("CI"))
    if not qemu_available():
        if ci:
            pytest.fail("qemu-system-x86_64 is missing (tools/install-test-deps.sh installs it)")
        pytest.skip("qemu-system-x86_64 is not installed")
    try:
        return build_image()
    except ImageError as exc:
        if ci:
            pytest.fail(f"cannot build the guest image: {exc}")
        pytest.skip(f"cannot build the guest image: {exc}")


def run_guest_suite(
    out: Path, directory: Path = GUEST_TESTS, host: str = "v2", init: Path = V2_INIT
) -> tuple[GuestResult, dict[str, str]]:
    """One boot with ``init`` as PID 1 that runs ``directory``'s tests with pytest."""
    image = guest_image()
    result = run_in_guest(
        guest_pytest_argv(directory),
        cwd=REPO,
        env=guest_env(host),
        out=out,
        timeout=GUEST_TIMEOUT,
        image=image,
        init=init,
    )
    junit = out / "junit.xml"
    assert junit.exists(), result.describe()
    return result, outcomes(junit)


def outcomes(junit: Path) -> dict[str, str]:
    """Each test case of the JUnit report: "" when it passed, else why not."""
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        problem = ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                problem = f"{tag}: {node.get('message', '')}\n{node.text or ''}"
        found[f"{module}::{case.get('name')}"] = problem
    return found


@pytest.mark.parametrize("name", guest_test_names())
def test_in_v2_guest(guest: tuple[GuestResult, dict[str, str]], name: str) -> None:
    """Every guest test ran (each parameter) and passed; skips count as failures."""
    assert_passed_in_guest(guest, name)


def assert_passed_in_guest(guest: tuple[GuestResult, dict[str, str]], name: str) -> None:
    result, cases = guest
    mine = {k: v for k, v in cases.items() if k == name or k.startswith(name + "[")}
    assert mine, f"{name} did not run in the guest\n{result.describe()}"
    failed = {k: v for k, v in mine.items() if v}
    assert not failed, "\n\n".join(f"{k}\n{v}" for k, v in failed.items())


def test_guest_session_ended_cleanly(guest: tuple[GuestResult, dict[str, str]]) -> None:
    result, _ = guest
    assert result.status == 0, result.describe()
