#!/usr/bin/env python3
"""Benchmark: two ocitool trees (before/after a change) and runc, interleaved, on one bundle.

On a shared machine the figures of two separate bench_exec.py runs drift by more
than a change costs; here the rows alternate (rotating order, 100 ms idle before
each run), so both trees see the same load. Each tree is used from its own
directory through PYTHONPATH, with ``python3 -S`` as the launchers start it, and
its own state root (so neither evicts the other's plan cache). Byte-compile both
trees first (``python3 -m compileall -q TREE/ocitool``): with
PYTHONDONTWRITEBYTECODE=1 an uncompiled tree pays for compiling on every run.

    sudo python3 bench/bench_ab.py --before OLD_TREE [--after NEW_TREE] [--mode exec|run] [-n 40]

``exec`` times ``ocitool exec``; ``run`` times ``ocitool-runc run`` (cwd = bundle);
``kill`` times ``ocitool-runc kill CONT 0`` (and ``runc kill``) on a running
container each runtime started once (``run -d`` of ``sleep``).
``--launcher`` starts each tree through the installed ``ocitool``/``ocitool-runc``
launcher instead (as an editable install runs; ``PYTHONPATH`` selects the tree).
Each tree's plan cache entries must be the same files, unchanged, after the
warm-up round and after the last run: a row that lowered from scratch (a cache
miss rewrites its entry) is reported and fails the bench.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_exec import (  # noqa: E402 - the same timer, one directory
    installed_launcher,
    run_once,
    site_packages,
)

from tests.helpers_exec.bundle import make_bundle  # noqa: E402

ENTRY = {
    "exec": "from ocitool.cli.exec import fast_main; fast_main()",
    "run": "import sys; from ocitool.cli.runc import main; sys.exit(main())",
    "kill": "import sys; from ocitool.cli.runc import main; sys.exit(main())",
}


LAUNCHER = {"exec": "ocitool", "run": "ocitool-runc", "kill": "ocitool-runc"}
KILLED = "ab-kill-target"  # the container kill mode signals (signal 0: it keeps running)


def argv_for(
    name: str,
    tree: Path | None,
    mode: str,
    work: Path,
    bundle: Path,
    i: int,
    launcher: bool = False,
) -> list[str]:
    cid = f"ab-{name}-{i}"
    if tree is None:
        if mode == "kill":
            return ["runc", "--root", str(work / "runc"), "kill", KILLED, "0"]
        return ["runc", "--root", str(work / "runc"), "run", cid]
    if launcher:
        path = installed_launcher(LAUNCHER[mode])
        if path is None:
            raise SystemExit(f"no installed {LAUNCHER[mode]} launcher")
        head = [path, *(["exec"] if mode == "exec" else []), "--root", str(work / name)]
    else:
        head = [sys.executable, "-S", "-c", ENTRY[mode], "--root", str(work / name)]
    if mode == "kill":
        return [*head, "kill", KILLED, "0"]
    return [*head, "--id", cid, str(bundle)] if mode == "exec" else [*head, "run", cid]


def _start_targets(
    trees: dict[str, Path | None], work: Path, env: dict[str, dict[str, str]]
) -> None:
    """kill mode: one running container per runtime, in that runtime's state root."""
    bundle = make_bundle(work / "sleeper", ["/bin/sleep", "1000"])
    for name, tree in trees.items():
        if tree is None:
            argv = ["runc", "--root", str(work / "runc"), "run", "-d", KILLED]
        else:
            argv = [sys.executable, "-S", "-c", ENTRY["run"], "--root", str(work / name)]
            argv += ["run", "-d", KILLED]
        subprocess.run(
            argv, cwd=bundle, env=env.get(name), check=True, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip


def _stop_targets(
    trees: dict[str, Path | None], work: Path, env: dict[str, dict[str, str]]
) -> None:
    for name, tree in trees.items():
        if tree is None:
            argv = ["runc", "--root", str(work / "runc"), "delete", "--force", KILLED]
        else:
            argv = [sys.executable, "-S", "-c", ENTRY["run"], "--root", str(work / name)]
            argv += ["delete", "--force", KILLED]
        subprocess.run(argv, env=env.get(name), check=False, capture_output=True)


def _plan_entries(root: Path) -> list[tuple[str, int]]:
    """(name, mtime) of each entry of a state root's plan cache: a miss rewrites one."""
    plans = root / ".plans"
    if not plans.is_dir():
        return []
    return sorted((p.name, p.stat().st_mtime_ns) for p in plans.iterdir())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the tree before the change")
    parser.add_argument(
        "--after", type=Path, default=REPO, help="the tree after (default: this one)"
    )
    parser.add_argument("--mode", choices=sorted(ENTRY), default="exec")
    parser.add_argument("-n", "--runs", type=int, default=40)
    parser.add_argument(
        "--launcher", action="store_true", help="start through the installed shell launcher"
    )
    args = parser.parse_args()
    trees: dict[str, Path | None] = {"before": args.before, "after": args.after}
    if shutil.which("runc"):
        trees["runc"] = None
    work = Path(tempfile.mkdtemp(prefix="ocitool-bench-ab-"))
    try:
        bundle = make_bundle(work / "bundle", ["/bin/true"])
        env = {
            name: {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": f"{t}:{site_packages()}"}
            for name, t in trees.items()
            if t is not None
        }
        names = list(trees)
        if args.mode == "kill":
            _start_targets(trees, work, env)
        walls: dict[str, list[float]] = {n: [] for n in names}
        cpus: dict[str, list[float]] = {n: [] for n in names}
        stored: dict[str, list[tuple[str, int]]] = {}
        for i in range(args.runs + 1):  # round 0 warms up (and stores the plans)
            for n in names[i % len(names) :] + names[: i % len(names)]:
                time.sleep(0.1)
                argv = argv_for(n, trees[n], args.mode, work, bundle, i, args.launcher)
                wall, cpu, _, code = run_once(argv, env.get(n), bundle, work / "rss.txt")
                if code != 0:
                    return 1
                if i:
                    walls[n].append(wall * 1000)
                    cpus[n].append(cpu * 1000)
            if i == 0:
                stored = {n: _plan_entries(work / n) for n in names if trees[n] is not None}
        if args.mode == "kill":
            stored = {}  # kill lowers nothing: no plan cache to check
        misses = [n for n in stored if not stored[n] or _plan_entries(work / n) != stored[n]]
        if misses:
            print(f"plan cache misses (lowered from scratch) in: {', '.join(misses)}")
            return 1
        ref = statistics.median(walls["runc"]) if "runc" in walls else None
        print(f"{args.mode}: median of {args.runs} interleaved runs, busybox /bin/true\n")
        print("| tree | wall ms | CPU ms | vs runc |")
        print("|---|---:|---:|---:|")
        for n in names:
            w, c = statistics.median(walls[n]), statistics.median(cpus[n])
            print(f"| {n} | {w:.1f} | {c:.1f} | {f'{w / ref:.2f}x' if ref else '-'} |")
    finally:
        if args.mode == "kill":
            _stop_targets(trees, work, env)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
