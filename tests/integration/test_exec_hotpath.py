"""The hot path stays light (DESIGN.md rule 6), checked with ``python -X importtime``.

A repeated ``ocitool exec`` of the same bundle runs its stored plan: neither
the runtime nor the container's init may import the heavy modules.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import REPO

pytestmark = pytest.mark.integration

HEAVY = (
    "jsonschema",
    "rich",
    "lark",
    "json",
    "re",
    "enum",
    "dataclasses",
    "typing",
    "argparse",
    "jeepney",  # the systemd driver's D-Bus client
    "ocitool.errors",
    "ocitool.spec.model",
    "ocitool.lower",
)


def test_cached_plan_run_imports_nothing_heavy(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    import cffi

    bundle = bundle_factory(["true"])
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{REPO}:{Path(cffi.__file__).resolve().parents[1]}",
    }
    cmd = [
        sys.executable,
        "-S",
        "-X",
        "importtime",
        "-c",
        "from ocitool.cli.exec import fast_main; fast_main()",
        "--root",
        str(state_root),
        str(bundle),
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert first.returncode == 0, first.stderr
    assert " ocitool.lower" in first.stderr  # the first run lowers (and stores) the plan
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert second.returncode == 0, second.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in second.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "ocitool.exec.process" in imported
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
