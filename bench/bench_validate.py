"""Benchmark: validate 1,000 config.json files in one ``ocitool validate`` process.

Generates 1,000 slightly different valid configs (hostnames, env, limits,
mounts, namespaces vary) from examples/full and the runc/crun defaults, runs
the real CLI once over all of them, and reports configs per second.

    python bench/bench_validate.py [--count 1000] [--repeat 3] [--format text|json]
                                   [--invalid-every N]

``--invalid-every N`` puts one defect (a misspelt namespace type) into every
Nth config, to time the slow path that explains errors (exit status 1 is then
expected).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASES = [
    "examples/full/config.json",
    "examples/busybox/config.json",
    "examples/rootless/config.json",
]


def variant(base: dict, rng: random.Random, index: int) -> dict:
    """A valid config that differs from ``base`` in a handful of places."""
    doc = copy.deepcopy(base)
    doc["hostname"] = f"bench-{index}"
    process = doc.setdefault("process", {"cwd": "/", "args": ["sh"], "user": {"uid": 0, "gid": 0}})
    process.setdefault("env", []).append(f"BENCH_INDEX={index}")
    process["args"] = [*process.get("args", ["sh"]), str(rng.randint(0, 10**6))]
    if rng.random() < 0.5:
        process["oomScoreAdj"] = rng.randint(-1000, 1000)
    linux = doc.setdefault("linux", {})
    resources = linux.setdefault("resources", {})
    resources.setdefault("memory", {})["limit"] = rng.randint(1, 1 << 34)
    resources.setdefault("pids", {})["limit"] = rng.randint(-1, 100000)
    doc.setdefault("mounts", []).append(
        {"destination": f"/mnt/v{index}", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", f"size={rng.randint(1, 512)}m"]}
    )  # fmt: skip
    doc.setdefault("annotations", {})[f"org.example.bench.{index}"] = str(index)
    return doc


def generate(directory: Path, count: int, seed: int = 1, invalid_every: int = 0) -> list[str]:
    rng = random.Random(seed)
    bases = [json.loads((ROOT / b).read_text()) for b in BASES]
    paths = []
    for i in range(count):
        path = directory / f"config-{i:05d}.json"
        doc = variant(bases[i % len(bases)], rng, i)
        if invalid_every and i % invalid_every == 0:
            doc["linux"]["namespaces"] = [{"type": "pidd"}]
        path.write_text(json.dumps(doc, indent=2))
        paths.append(str(path))
    return paths


def ocitool_command() -> list[str]:
    exe = shutil.which("ocitool")
    return [exe] if exe else [sys.executable, "-m", "ocitool.cli.main"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--invalid-every", type=int, default=0, metavar="N")
    args = parser.parse_args()
    expected_status = 1 if args.invalid_every else 0
    with tempfile.TemporaryDirectory(prefix="ocitool-bench-") as tmp:
        paths = generate(Path(tmp), args.count, invalid_every=args.invalid_every)
        command = [*ocitool_command(), "validate", "--format", args.format, *paths]
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            proc = subprocess.run(command, capture_output=True)
            elapsed = time.perf_counter() - start
            if proc.returncode != expected_status:
                sys.stderr.write(proc.stdout.decode()[-2000:] + proc.stderr.decode()[-2000:])
                print(f"ocitool validate exited {proc.returncode}", file=sys.stderr)
                return 1
            best = min(best, elapsed)
        rate = args.count / best
        invalid = f", every {args.invalid_every}th invalid" if args.invalid_every else ""
        print(
            f"validated {args.count} configs ({args.format}{invalid}) in one process: "
            f"best of {args.repeat} = "
            f"{best:.3f} s -> {rate:,.0f} configs/s (cpus: {os.cpu_count()})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
