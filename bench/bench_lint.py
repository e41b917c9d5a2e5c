"""Benchmark: lint 1,000 config.json files in one ``ocitool lint`` process.

Generates 1,000 different configs from the hardened test fixture, runc's
default and the repository's examples, with per-config variations that
trigger a spread of rules (capabilities added, namespaces dropped, host
binds, sysctls, v1-only resources ...). Then it times:

- ``in-process``: ``lint_file`` over every file in this process (load,
  schema validation, all rules, positions for every finding), and
- ``cli``: the real command, ``ocitool lint --format json --no-config DIR``,
  as one process (start-up, discovery and the JSON report included).

    python bench/bench_lint.py [--count 1000] [--repeat 3] [--clock wall|cpu] [--invalid-every N]

Both wall-clock and CPU time are reported (CPU time is what other load on a
shared machine does not inflate). Exit status 0 when the CLI run reaches
--target configs/s (default 1000) by --clock (default wall).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASES = [
    "tests/fixtures/hardened.json",
    "tests/fixtures/lint-runc-default.json",
    "examples/busybox/config.json",
    "examples/rootless/config.json",
]


def _mutations(doc: dict[str, Any], rng: random.Random, index: int) -> None:
    process = doc.setdefault("process", {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}})
    linux = doc.setdefault("linux", {})
    caps = process.setdefault("capabilities", {})
    choice = rng.randrange(8)
    if choice == 0:
        for s in ("bounding", "effective", "permitted"):
            caps.setdefault(s, []).extend(["CAP_SYS_ADMIN", "CAP_NET_ADMIN"])
    elif choice == 1:
        linux["namespaces"] = [n for n in linux.get("namespaces", []) if n.get("type") != "network"]
        linux["sysctl"] = {"net.ipv4.ip_forward": "1", "vm.swappiness": "10"}
    elif choice == 2:
        doc.setdefault("mounts", []).append(
            {"destination": "/var/run/docker.sock", "type": "bind",
             "source": "/var/run/docker.sock", "options": ["rbind"]}
        )  # fmt: skip
    elif choice == 3:
        linux.setdefault("resources", {}).setdefault("memory", {})["kernelTCP"] = 1 << 20
    elif choice == 4:
        process["noNewPrivileges"] = False
        process.setdefault("env", []).append("DEBUG")
        linux.setdefault("resources", {}).setdefault("cpu", {})["shares"] = 0
    doc["hostname"] = f"bench-{index}"
    process.setdefault("env", []).append(f"BENCH_INDEX={index}")
    doc.setdefault("annotations", {})[f"org.example.bench.{index}"] = str(index)


def generate(directory: Path, count: int, seed: int = 1, invalid_every: int = 0) -> list[str]:
    rng = random.Random(seed)
    bases = [json.loads((ROOT / b).read_text()) for b in BASES]
    paths = []
    for i in range(count):
        bundle = directory / f"b{i:05d}"
        bundle.mkdir()
        doc = copy.deepcopy(bases[i % len(bases)])
        _mutations(doc, rng, i)
        if invalid_every and i % invalid_every == 0:  # a schema error: rules are skipped
            doc.setdefault("process", {})["rlimits"] = [
                {"type": "RLIMIT_NOFILE", "soft": 4096, "hard": 1024}
            ]
        (bundle / "config.json").write_text(json.dumps(doc, indent=2))
        paths.append(str(bundle / "config.json"))
    return paths


def ocitool_command() -> list[str]:
    exe = shutil.which("ocitool")
    return [exe] if exe else [sys.executable, "-m", "ocitool.cli.main"]


def in_process(paths: list[str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, findings) for linting ``paths`` in this process."""
    from ocitool.lint.engine import LintOptions, lint_file

    options = LintOptions()
    wall, cpu = time.perf_counter(), time.process_time()
    findings = sum(len(lint_file(p, options).findings) for p in paths)
    return time.perf_counter() - wall, time.process_time() - cpu, findings


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli(directory: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, findings) for one ``ocitool lint`` process over ``directory``."""
    cmd = [
        *ocitool_command(),
        "lint",
        "--format",
        "json",
        "--no-config",
        "--no-progress",
        str(directory),
    ]
    wall, cpu = time.perf_counter(), _children_cpu()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - wall, _children_cpu() - cpu
    if proc.returncode not in (0, 1):
        raise SystemExit(f"ocitool lint failed ({proc.returncode}): {proc.stderr}")
    data = json.loads(proc.stdout)
    return wall, cpu, len(data["findings"])


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", type=float, default=1000.0, help="configs/s to reach")
    parser.add_argument(
        "--invalid-every",
        type=int,
        default=0,
        metavar="N",
        help="make every Nth config fail schema validation (the slower, explained path)",
    )
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="judge the CLI run by wall-clock time (default) or by its CPU time, which other "
        "load on the machine does not inflate",
    )
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="ocitool-bench-lint-") as tmp:
        paths = generate(Path(tmp), args.count, invalid_every=args.invalid_every)
        in_process(paths[:20])  # warm-up: imports, compiled schema, syscall tables
        runs_in = [in_process(paths) for _ in range(args.repeat)]
        runs_cli = [cli(Path(tmp)) for _ in range(args.repeat)]
    n = args.count
    wall_in, cpu_in = min(r[0] for r in runs_in), min(r[1] for r in runs_in)
    wall_cli, cpu_cli = min(r[0] for r in runs_cli), min(r[1] for r in runs_cli)
    print(f"configs:    {n} ({runs_in[0][2]} findings in-process, {runs_cli[0][2]} via the CLI)")
    print(f"load:       {os.getloadavg()[0]:.2f} (1-minute load average; {os.cpu_count()} CPUs)")
    print(
        f"in-process: wall {wall_in:.3f} s -> {n / wall_in:,.0f} configs/s; "
        f"CPU {cpu_in:.3f} s -> {n / cpu_in:,.0f} configs/s (best of {args.repeat})"
    )
    print(
        f"cli:        wall {wall_cli:.3f} s -> {n / wall_cli:,.0f} configs/s; "
        f"CPU {cpu_cli:.3f} s -> {n / cpu_cli:,.0f} configs/s (one process, start-up included)"
    )
    rate = n / (cpu_cli if args.clock == "cpu" else wall_cli)
    ok = rate >= args.target
    print(
        f"target:     {args.target:,.0f} configs/s ({args.clock} time, CLI): {'met' if ok else 'NOT met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
