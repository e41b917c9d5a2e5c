"""``ocitool demo``: a real container on the embedded hardened profile, nothing downloaded.

It builds a bundle under a temporary directory, prints a short summary of the
plan, runs the container through ``ocitool exec`` (the same path users run)
and shows what the container saw from inside next to what the plan promised.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ocitool.cli.common import ArgumentParser
from ocitool.demo.bundle import DEMO_HOSTNAME, ROOTFS_KINDS, open_path_to, prepare_rootfs
from ocitool.demo.probe import parse_probe, probe_script
from ocitool.demo.report import Row, compare, masked_paths
from ocitool.errors import UsageError

NOT_ROOT_HINT = (
    "the demo mounts filesystems and creates cgroups, which needs root: run 'sudo ocitool demo'. "
    "Without root, 'ocitool spec --profile hardened -o - | ocitool plan -' shows what it would do"
)


def build_config(bundle: Path, *, userns: bool, rootfs: str = "auto") -> tuple[dict[str, Any], str]:
    """The demo's config.json (hardened profile) and the rootfs kind used."""
    from ocitool.spec.profiles import ProfileParams, build_profile, shipped_policy

    kind, extra_mounts = prepare_rootfs(bundle, rootfs)
    params = ProfileParams(uid=0, gid=0, userns=userns, seccomp=shipped_policy())
    config = build_profile("hardened", params)
    config["hostname"] = DEMO_HOSTNAME
    config["mounts"].extend(extra_mounts)
    probe_cfg = _lower(config, bundle)  # first pass: learn the masked paths to probe
    config["process"]["args"] = ["/bin/sh", "-c", probe_script(masked_paths(probe_cfg))]
    return config, kind


def _lower(config: dict[str, Any], bundle: Path) -> dict[str, Any]:
    from ocitool.lower import lower
    from ocitool.lower.host import HostInfo
    from ocitool.spec.build import build_spec
    from ocitool.spec.load import parse_text

    doc = parse_text(json.dumps(config), str(bundle / "config.json"))
    plan = lower(
        build_spec(doc), HostInfo.detect(), container_id="ocitool-demo", bundle=str(bundle)
    )
    return plan.to_json()


def summarize(plan_json: dict[str, Any]) -> list[str]:
    phases: dict[str, int] = {}
    for op in plan_json["ops"]:
        phases[op["phase"]] = phases.get(op["phase"], 0) + 1
    lines = [
        f"{len(plan_json['ops'])} operations: " + ", ".join(f"{n} {p}" for p, n in phases.items())
    ]
    for op in plan_json["ops"]:
        if op["op"] in ("unshare", "seccomp_load", "capabilities", "sethostname", "pivot_root"):
            lines.append(f"  {op['text'][:110]}")
    return lines


def render(rows: list[Row], rootfs_kind: str, out: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out)
    table = Table(title=f"what the container saw (rootfs: {rootfs_kind})")
    table.add_column("fact")
    table.add_column("plan promised")
    table.add_column("seen inside")
    table.add_column("")
    for row in rows:
        table.add_row(
            row.what, row.promised, row.seen, "[green]ok[/]" if row.ok else "[red]DIFFERS[/]"
        )
    console.print(table)


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="ocitool demo", description=__doc__)
    parser.add_argument("--keep", action="store_true", help="keep the demo bundle directory")
    parser.add_argument("--no-userns", action="store_true", help="run without a user namespace")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")
    parser.add_argument(
        "--rootfs",
        choices=ROOTFS_KINDS,
        default="auto",
        help="busybox: the host's static busybox; host-binds: read-only binds of the host's "
        "/usr, /bin, /lib*; auto (default): busybox when there is one",
    )
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise UsageError(message="ocitool demo needs root", code="OCI060", hint=NOT_ROOT_HINT)

    workdir = Path(tempfile.mkdtemp(prefix="ocitool-demo-"))
    try:
        bundle = workdir / "bundle"
        bundle.mkdir()
        open_path_to(bundle)
        config, kind = build_config(bundle, userns=not args.no_userns, rootfs=args.rootfs)
        (bundle / "config.json").write_text(json.dumps(config, indent="\t") + "\n")
        plan_json = _lower(config, bundle)
        if not args.json:
            print(f"demo bundle: {bundle} (hardened profile)")
            print("\n".join(summarize(plan_json)))
            print("running it with 'ocitool exec' ...", flush=True)
        # -P: the working directory must not shadow modules (a stray bisect.py, say)
        cmd = [
            sys.executable,
            "-P",
            "-m",
            "ocitool.cli.main",
            "exec",
            "--id",
            f"demo-{os.getpid()}",
            str(bundle),
        ]
        result = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
        rows = compare(plan_json, parse_probe(result.stdout))
        if args.json:
            print(json.dumps({"exit": result.returncode, "rootfs": kind,
                              "rows": [r.__dict__ | {"ok": r.ok} for r in rows]}, indent=2))  # fmt: skip
        else:
            render(rows, kind, sys.stdout)
        if result.returncode != 0:
            print(
                f"ocitool demo: the container exited with status {result.returncode}",
                file=sys.stderr,
            )
            return 1
        return 0 if all(r.ok for r in rows) else 1
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
