"""``ocitool demo`` really runs a container and everything the plan promised is seen inside."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

if os.geteuid() != 0 and os.environ.get("CI") != "true":
    pytest.skip("needs root", allow_module_level=True)


@pytest.mark.parametrize(
    "flags",
    [[], ["--no-userns"], ["--rootfs", "host-binds"]],
    ids=["userns", "no-userns", "host-binds"],
)
def test_demo_runs_and_every_promise_holds(flags: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ocitool.cli.main", "demo", "--json", *flags],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout)
    assert report["exit"] == 0
    differing = [row for row in report["rows"] if not row["ok"]]
    assert differing == []
    seen = {row["what"] for row in report["rows"]}
    assert {"hostname", "CapEff", "NoNewPrivs", "Seccomp", "memory limit", "root writable"} <= seen
    assert any(what.startswith("masked ") for what in seen)
    assert report["rootfs"] == ("host-binds" if "host-binds" in flags else "busybox")


def test_demo_refuses_clearly_without_root() -> None:
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         sys.executable, "-m", "ocitool.cli.main", "demo"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "needs root" in result.stderr and "sudo ocitool demo" in result.stderr
    assert "Traceback" not in result.stderr
