#!/usr/bin/env python3
"""Benchmark: ``ocitool check`` of a typical bundle, and what ``exec --check`` adds.

Three figures, best and median of N runs:

- ``cli``: ``ocitool check BUNDLE`` through the installed launcher (``bin/ocitool``,
  from sysconfig's scripts directory: what a user runs; not pyenv's bash shim on
  PATH, which alone costs more than the command), with this tree on PYTHONPATH:
  start-up, imports, load, lowering for the detected host, every check, the report.
  With ``--before REF`` the same command runs the code at REF too, alternating;
- ``in-process``: ``check_document`` on an already loaded document, modules
  imported (what ``exec --check`` and ``lint --host-specific`` pay per bundle);
- ``exec`` vs ``exec --check``: a busybox container running ``true`` (root only).

The bundles are busybox ones (tests/helpers_exec/bundle.py): runc spec's
config (``default``) and ocitool's hardened profile (user namespace, seccomp).

    sudo python3 bench/bench_check.py [-n RUNS] [--before REF] [--skip-exec]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_exec import checkout, installed_launcher  # noqa: E402 - one directory

from tests.helpers_exec.bundle import make_bundle, open_dir  # noqa: E402


def _bundles(top: Path) -> dict[str, Path]:
    default = make_bundle(top / "default", ["true"])
    hardened = top / "hardened"
    hardened.mkdir()
    shutil.copytree(default / "rootfs", hardened / "rootfs", symlinks=True)
    subprocess.run(
        [sys.executable, "-m", "ocitool.cli.main", "spec", "--profile", "hardened", "--args",
         "true", "--bundle", str(hardened)],
        check=True, cwd=REPO, capture_output=True,
    )  # fmt: skip
    subprocess.run(["chown", "-R", "-h", "100000:100000", str(hardened / "rootfs")], check=False)
    return {"default": default, "hardened": hardened}


CPU: list[float] = []  # CPU seconds (user+sys) of each run of the last _wall call


def _wall(argv: list[str], runs: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall times of ``runs`` runs; their CPU times (children's rusage) go to CPU."""
    out = []
    CPU.clear()
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, cwd=REPO, capture_output=True, stdin=subprocess.DEVNULL, env=env)
        out.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        time.sleep(0.05)
    return out


def _in_process(bundle: Path, runs: int) -> list[float]:
    from ocitool.check.engine import check_document
    from ocitool.spec.load import load

    doc = load(str(bundle))
    check_document(doc)  # imports and first-use reads
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        check_document(doc)
        out.append(time.perf_counter() - t)
    return out


def _row(name: str, times: list[float], cpu: list[float] | None = None) -> str:
    cpu_text = f"{statistics.median(cpu) * 1000:.1f} ms" if cpu else "-"
    return (
        f"| {name} | {min(times) * 1000:.1f} ms | {statistics.median(times) * 1000:.1f} ms "
        f"| {cpu_text} |"
    )


def _cpu_runs(variants: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict:
    """name -> (wall s, CPU s) of each run; the variants alternate in rotating order, so
    a change of load hits them alike. CPU is user+sys of the process (wait4)."""
    got: dict[str, list[tuple[float, float]]] = {n: [] for n in variants}
    names = list(variants)
    for i in range(runs):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            argv, env = variants[name]
            time.sleep(0.05)
            t = time.perf_counter()
            proc = subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
            _, _, usage = os.wait4(proc.pid, 0)
            got[name].append((time.perf_counter() - t, usage.ru_utime + usage.ru_stime))
    return got


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--runs", type=int, default=10)
    parser.add_argument("--before", metavar="REF", help="also time the code at REF (alternating)")
    parser.add_argument("--skip-exec", action="store_true", help="no exec / exec --check rows")
    args = parser.parse_args()
    launcher = installed_launcher("ocitool")
    if launcher is None:
        print("bench_check.py: no installed ocitool launcher", file=sys.stderr)
        return 2
    subprocess.run(  # bytecode, as an installed copy has it (checkout() compiles REF's)
        [sys.executable, "-m", "compileall", "-q", str(REPO / "ocitool")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with open_dir("ocitool-bench-check-") as top:
        bundles = _bundles(top)
        trees = {"this tree": REPO}
        if args.before:
            trees[f"@{args.before}"] = checkout(args.before, top / "before")
        print(f"load average before: {os.getloadavg()[0]:.1f}")
        print("| run | best wall | median wall | median CPU |\n| --- | --- | --- | --- |")
        base = _wall([sys.executable, "-S", "-c", "pass"], args.runs)
        print(_row("`python3 -S -c pass` (interpreter start-up)", base, list(CPU)))
        for name, bundle in bundles.items():
            variants = {
                tree: ([launcher, "check", str(bundle)], {**os.environ, "PYTHONPATH": str(path)})
                for tree, path in trees.items()
            }
            for tree, got in _cpu_runs(variants, args.runs).items():
                label = f"`ocitool check` cli, {name}" + (f" ({tree})" if args.before else "")
                print(_row(label, [w for w, _ in got], [c for _, c in got]))
            print(_row(f"check_document in-process, {name}", _in_process(bundle, args.runs)))
        if os.geteuid() == 0 and not args.skip_exec:
            py = [sys.executable, "-m", "ocitool.cli.main"]
            state = top / "state"
            for name, bundle in bundles.items():
                plain = _wall([*py, "exec", "--root", str(state), str(bundle)], args.runs)
                print(_row(f"`ocitool exec`, {name}", plain, list(CPU)))
                argv = [*py, "exec", "--check", "--root", str(state), str(bundle)]
                checked = _wall(argv, args.runs)
                print(_row(f"`ocitool exec --check`, {name}", checked, list(CPU)))
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
