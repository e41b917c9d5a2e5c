"""Shared fixtures for integration tests that run real containers (root needed).

Tests skip only when not root AND CI is unset: in CI a missing prerequisite
is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.helpers_exec.bundle import make_bundle, open_dir  # noqa: E402


def needs_root() -> None:
    if os.geteuid() != 0 and not os.environ.get("CI"):
        pytest.skip("needs root (runs real containers)")


@pytest.fixture
def root_required() -> None:
    needs_root()


@pytest.fixture
def bundle_factory(tmp_path: Path, root_required: None) -> Callable[..., Path]:
    """make(args, **config changes) -> a busybox bundle directory (rootfs built once per test)."""
    counter = [0]
    rootfs_src: list[Path] = []

    def make(args: list[str] | None = None, **changes: Any) -> Path:
        counter[0] += 1
        path = tmp_path / f"bundle{counter[0]}"
        if rootfs_src:
            path.mkdir()
            subprocess.run(["cp", "-a", str(rootfs_src[0]), str(path / "rootfs")], check=True)
        make_bundle(path, args, **changes)
        if not rootfs_src:
            rootfs_src.append(path / "rootfs")
        return path

    return make


@pytest.fixture
def world_top(root_required: None) -> Iterator[Path]:
    """A bundle parent every uid can traverse (the mapped root is not host root)."""
    with open_dir("ocitool-it-") as top:
        yield top


@pytest.fixture
def state_root(tmp_path: Path) -> Path:
    path = tmp_path / "state"
    path.mkdir()
    return path


def ocitool_exec_cmd(bundle: Path, state: Path, *extra: str) -> list[str]:
    """The argv of ``ocitool exec`` in a fresh interpreter (as a user would run it)."""
    return [
        sys.executable,
        "-m",
        "ocitool.cli.main",
        "exec",
        "--root",
        str(state),
        *extra,
        str(bundle),
    ]


def ocitool_exec(
    bundle: Path, state: Path, *extra: str, timeout: float = 60, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run ``ocitool exec`` to the end; output captured as text."""
    return subprocess.run(
        ocitool_exec_cmd(bundle, state, *extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        **kwargs,
    )


def runc_run(bundle: Path, cid: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runc", "run", cid],
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def rt(tmp_path: Path, root_required: None) -> Iterator[Any]:
    """ocitool-runc under a fresh ``--root`` (test_runc_lifecycle.Runtime); whatever a test
    leaves there is force-deleted afterwards."""
    from tests.integration.test_runc_lifecycle import Runtime

    logs = tmp_path / "logs"
    logs.mkdir()
    runtime = Runtime(tmp_path / "runc-root", logs)
    yield runtime
    runtime.cleanup()


@pytest.fixture(scope="session")
def rootless_user() -> Iterator[Any]:
    """The unprivileged user of the rootless tests with a fresh install of this tree
    (tests/helpers/rootless_user.py). With CI=true a missing user is a failure."""
    from tests.helpers.rootless_user import require, rootless_user

    require()
    with rootless_user() as user:
        yield user
