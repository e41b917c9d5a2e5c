"""ocitool-runc's short commands stay light: engines run start, state, kill and delete
once per container, each as its own process, so their imports are their start-up.

Checked with ``python -S -X importtime`` (what the launcher runs) on a real container.
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

CODE = "import sys; from ocitool.cli.runc import main; sys.exit(main())"
# what none of them may import (each costs 0.3-6 ms with -S). ``os`` and ``_json`` are
# allowed: the os stand-in saved less than the 2 ms a fast path must save to stay, and
# _json is CPython's C codec behind ocitool.jsonlite (bench/README.md, "2026-12-08").
NEVER = {
    "importlib",
    "json",
    "re",
    "enum",
    "typing",
    "dataclasses",
    "fcntl",
    "argparse",
}
# the op engine and all its appliers: only create/run/exec (and hooks) need them
ENGINE = {"ocitool.exec.apply.fs", "ocitool.exec.process", "ocitool.lower", "ocitool.spec.model"}
# kill applies a live plan: the appliers of its own op, nothing for the others
APPLIERS = {"ocitool.exec.apply"}


def _runc(
    root: Path, *args: str, importtime: bool = False, detached_io: bool = False
) -> subprocess.CompletedProcess[str]:
    """One command; ``detached_io`` for create, whose container keeps its stdio open."""
    import cffi

    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{REPO}:{Path(cffi.__file__).resolve().parents[1]}",
    }
    flags = ["-S", "-X", "importtime"] if importtime else ["-S"]
    return subprocess.run(
        [sys.executable, *flags, "-c", CODE, "--root", str(root), *args],
        stdout=subprocess.DEVNULL if detached_io else subprocess.PIPE,
        stderr=subprocess.DEVNULL if detached_io else subprocess.PIPE,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def _imported(stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[-1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:")
    }


def test_start_state_kill_delete_import_nothing_heavy(
    bundle_factory: Callable[..., Path], state_root: Path
) -> None:
    bundle = bundle_factory(["sleep", "30"])
    cid = f"light{os.getpid()}"
    made = _runc(state_root, "create", "--bundle", str(bundle), cid, detached_io=True)
    assert made.returncode == 0
    try:
        for args, also_never in (
            (("state", cid), {"_cffi_backend"} | APPLIERS),
            (("start", cid), {"_cffi_backend"} | APPLIERS),
            (("state", cid), {"_cffi_backend"} | APPLIERS),
            # kill: a pidfd signal (the interpreter's wrappers, not cffi's); delete: the
            # cgroup concern's ops only, not every op class
            (("kill", cid, "KILL"), {"_cffi_backend"}),
            (
                ("delete", "--force", cid),
                APPLIERS | {"ocitool.plan.ops.fs", "ocitool.plan.ops.process"},
            ),
        ):
            proc = _runc(state_root, *args, importtime=True)
            assert proc.returncode == 0, (args, proc.stderr[-2000:])
            imported = _imported(proc.stderr)
            assert "ocitool.cli.runc" in imported, "no -X importtime output"
            bad = imported & (NEVER | ENGINE | also_never)
            assert not bad, (args, sorted(bad))
    finally:
        _runc(state_root, "delete", "--force", cid)
    gone = _runc(state_root, "state", cid)
    assert gone.returncode == 1 and "does not exist" in gone.stderr


def test_a_repeated_exec_loads_no_lowering_and_no_json(
    bundle_factory: Callable[..., Path], state_root: Path, tmp_path: Path
) -> None:
    """podman and containerd exec with --process; the same process again (a health check)
    takes its ops from the plan cache: the re-executed (sealed) stage imports neither
    the lowering nor json, re, enum, typing, copy or socket."""
    bundle = bundle_factory(["sleep", "30"])
    cid = f"lightx{os.getpid()}"
    process = tmp_path / "process.json"
    process.write_text(
        '{"args": ["true"], "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0}}'
    )
    assert (
        _runc(state_root, "create", "--bundle", str(bundle), cid, detached_io=True).returncode == 0
    )
    try:
        assert _runc(state_root, "start", cid).returncode == 0
        first = _runc(state_root, "exec", "--process", str(process), cid)
        assert first.returncode == 0, first.stderr[-2000:]
        again = _runc(state_root, "exec", "--process", str(process), cid, importtime=True)
        assert again.returncode == 0, again.stderr[-2000:]
        lines = again.stderr.splitlines()
        starts = [i for i, line in enumerate(lines) if line.rstrip().endswith("| ocitool.cli.runc")]
        assert len(starts) == 2, "expected the sealed re-execution's own -X importtime output"
        sealed_stage = _imported("\n".join(lines[starts[0] + 1 :]))
        bad = sealed_stage & {
            "json", "re", "enum", "typing", "dataclasses", "copy", "socket",
            "ocitool.lower", "ocitool.spec.model",
        }  # fmt: skip
        assert not bad, sorted(bad)
    finally:
        _runc(state_root, "delete", "--force", cid)
