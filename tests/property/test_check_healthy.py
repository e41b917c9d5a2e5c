"""No false alarms: a healthy bundle from ``ocitool spec`` checks clean and really runs.

Hypothesis draws a profile and flags for ``ocitool spec`` (memory and pids
limits, dropped capabilities, read-only root, user namespace, cwd, env);
the bundle gets a busybox rootfs the config can use (owned by the mapped
root when there is a user namespace, below a 0755 directory). ``ocitool
check`` must report no error, and ``ocitool exec`` must then run the
container to a zero exit. The example count is kept small: every example
starts a real container.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers_exec.bundle import make_rootfs, open_dir
from tests.integration.conftest import REPO, needs_root, ocitool_exec

FLAGS = st.fixed_dictionaries(
    {
        "profile": st.sampled_from(["default", "hardened", "rootless"]),
        "memory": st.sampled_from([None, "16m", "64m", "1g"]),
        "pids": st.sampled_from([None, "32", "1024"]),
        "drop": st.lists(st.sampled_from(["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"]), max_size=2),
        "readonly": st.sampled_from([None, "--readonly", "--no-readonly"]),
        "userns": st.sampled_from(["auto", "yes", "no"]),
        "cwd": st.sampled_from(["/", "/tmp", "/etc"]),
        "env": st.lists(st.sampled_from(["A=1", "HOME=/root", "LANG=C"]), max_size=2),
    }
)


def _spec_argv(flags: dict[str, object], bundle: Path) -> list[str]:
    argv = [sys.executable, "-m", "ocitool.cli.main", "spec", "--bundle", str(bundle)]
    argv += ["--profile", str(flags["profile"]), "--args", "true", "--cwd", str(flags["cwd"])]
    argv += ["--userns", str(flags["userns"])]
    if flags["memory"]:
        argv += ["--memory", str(flags["memory"])]
    if flags["pids"]:
        argv += ["--pids-limit", str(flags["pids"])]
    for cap in flags["drop"]:  # type: ignore[attr-defined]
        argv += ["--cap-drop", cap]
    if flags["readonly"]:
        argv.append(str(flags["readonly"]))
    for item in flags["env"]:  # type: ignore[attr-defined]
        argv += ["--env", item]
    return argv


@pytest.fixture(scope="module")
def rootfs_src() -> object:
    needs_root()
    with open_dir("ocitool-check-prop-src-") as top:
        make_rootfs(top / "rootfs")
        yield top / "rootfs"


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(flags=FLAGS)
def test_healthy_spec_bundles_check_clean_and_run(
    rootfs_src: Path, flags: dict[str, object]
) -> None:
    with open_dir("ocitool-check-prop-") as top:
        bundle = top / "b"
        bundle.mkdir()
        subprocess.run(["cp", "-a", str(rootfs_src), str(bundle / "rootfs")], check=True)
        subprocess.run(_spec_argv(flags, bundle), check=True, cwd=REPO, capture_output=True)
        config = json.loads((bundle / "config.json").read_text())
        maps = config.get("linux", {}).get("uidMappings") or []
        if maps and any(ns.get("type") == "user" for ns in config["linux"]["namespaces"]):
            host = maps[0]["hostID"]
            subprocess.run(
                ["chown", "-R", "-h", f"{host}:{host}", str(bundle / "rootfs")], check=True
            )
        check = subprocess.run(
            [sys.executable, "-m", "ocitool.cli.main", "check", "--format", "json", str(bundle)],
            cwd=REPO, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        errors = [f for f in json.loads(check.stdout)["findings"] if f["severity"] == "error"]
        assert errors == [], (flags, errors)
        run = ocitool_exec(bundle, top / "state", timeout=120)
        assert run.returncode == 0, (flags, run.stderr)
