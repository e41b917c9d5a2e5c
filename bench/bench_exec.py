#!/usr/bin/env python3
"""Benchmark: start a busybox container running /bin/true with ocitool, runc and crun.

Measured *isolated*, as issue 5 asks: 100 ms of idle before every run and the
runtimes alternate (rotating order), because back-to-back runs distort the
kernel's RCU-bound cgroup and mount work. For each runtime: median wall time,
median CPU (user+sys of the runtime and the processes it waited for) and
peak RSS (ru_maxrss from wait4). crun refuses this machine's hybrid cgroup
layout, so it runs as ``unshare -m sh -c 'umount /sys/fs/cgroup/unified &&
exec crun ...'`` (that wrapper's cost is included).

    sudo python3 bench/bench_exec.py [-n RUNS] [--json FILE]

Needs root, /bin/busybox, runc and crun (those missing are skipped).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.helpers_exec.bundle import make_bundle  # noqa: E402


def site_packages() -> str:
    import cffi

    return str(Path(cffi.__file__).resolve().parents[1])


def installed_launcher(name: str) -> str | None:
    """The real installed script (sysconfig's scripts dir), not a pyenv shim from PATH
    (a shim is a bash script that alone costs ~40 ms)."""
    import sysconfig

    path = os.path.join(sysconfig.get_path("scripts"), name)
    try:
        with open(path, "rb") as f:
            return path if f.read(9) == b"#!/bin/sh" else None
    except OSError:
        return None


def checkout(ref: str, dest: Path) -> Path:
    """This repository's tree at ``ref`` (``git archive``), for a before/after row."""
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    subprocess.run(  # bytecode, as for this tree (main() compiles it)
        [sys.executable, "-m", "compileall", "-q", str(dest / "ocitool")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return dest


def commands(
    bundle: Path, work: Path, before: str | None = None
) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    py = os.path.realpath(sys.executable)
    env_nosite = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{REPO}:{site_packages()}",
    }
    state = ["--root", str(work / "oci"), "--id", "{id}", str(bundle)]
    out: dict[str, tuple[list[str], dict[str, str] | None]] = {}
    launcher = installed_launcher("ocitool")
    if launcher:
        # what a user types: the installed launcher (bin/ocitool: python -S, no .pth hooks)
        out["ocitool"] = ([launcher, "exec", *state], None)
    out |= {
        # a Python-level start with site (what pip's console script did before bin/ocitool)
        "python -m ocitool": (
            [
                py,
                "-m",
                "ocitool.cli.main",
                "exec",
                "--root",
                str(work / "oci"),
                "--id",
                "{id}",
                str(bundle),
            ],
            None,
        ),
        # the same command without site and without the launcher: the floor. Not
        # "-S -m ocitool.cli.exec": -m imports runpy, and runpy imports os & co.
        "ocitool -S": (
            [
                py,
                "-S",
                "-c",
                "from ocitool.cli.exec import fast_main; fast_main()",
                "--root",
                str(work / "oci"),
                "--id",
                "{id}",
                str(bundle),
            ],
            env_nosite,
        ),
    }
    if before:
        # the same command with the code at another commit (e.g. before a change)
        tree = checkout(before, work / "before")
        argv, env = out["ocitool -S"]
        out[f"ocitool -S @{before}"] = (
            # its own --root: the plan cache entry (named after the bundle) records the
            # code it was made by, so two trees sharing one would evict each other
            [str(work / "oci-before") if a == str(work / "oci") else a for a in argv],
            {**(env or {}), "PYTHONPATH": f"{tree}:{site_packages()}"},
        )
    if shutil.which("runc"):
        out["runc"] = (["runc", "--root", str(work / "runc"), "run", "{id}"], None)
    if shutil.which("crun"):
        out["crun"] = (
            [
                "unshare",
                "-m",
                "sh",
                "-c",
                f"umount /sys/fs/cgroup/unified && exec crun --root {work / 'crun'} run {{id}}",
            ],
            None,
        )
    return out


TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def _plan_entries(work: Path) -> list[tuple[str, int]]:
    """(path, mtime) of every plan cache entry under ``work``'s ocitool state roots."""
    return sorted((str(p), p.stat().st_mtime_ns) for p in work.glob("oci*/.plans/*") if p.is_file())


def run_once(
    argv: list[str], env: dict[str, str] | None, cwd: Path, rss_file: Path | None = None
) -> tuple[float, float, int, int]:
    """(wall s, CPU s, peak RSS KiB, exit status) of one run (bench_runc.py uses it too).

    Peak RSS comes from GNU time (a small process) when it is installed: ru_maxrss
    of a child forked from this Python starts at this Python's own size. ``rss_file``
    is where time writes it (default: ``rss.txt`` beside ``cwd``).
    """
    rss_file = rss_file or cwd.parent / "rss.txt"
    full = [TIME, "-f", "%M", "-o", str(rss_file), *argv] if TIME else argv
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        full,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(f"{argv[:3]}... exited {code}: {err[-500:]}\n")
    rss = int(rss_file.read_text().split()[-1]) if TIME else usage.ru_maxrss
    return wall, usage.ru_utime + usage.ru_stime, rss, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=40)
    parser.add_argument("--idle", type=float, default=0.1, help="seconds of idle before a run")
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument(
        "--before", metavar="REF", help="add an 'ocitool -S' row running the code at REF"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_exec.py needs root", file=sys.stderr)
        return 2
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "ocitool")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with tempfile.TemporaryDirectory(prefix="bench-exec-") as tmp:
        work = Path(tmp)
        bundle = make_bundle(work / "bundle", ["/bin/true"])
        cmds = commands(bundle, work, args.before)
        names = list(cmds)
        results: dict[str, list[tuple[float, float, int]]] = {n: [] for n in names}
        failures = {n: 0 for n in names}
        # one untimed run each: fills ocitool's plan cache, page cache, dentries
        for name in names:
            argv, env = cmds[name]
            run_once([a.replace("{id}", f"warm{len(name)}") for a in argv], env, bundle)
        stored = _plan_entries(work)
        for i in range(args.runs):
            order = names[i % len(names) :] + names[: i % len(names)]
            for name in order:
                argv, env = cmds[name]
                time.sleep(args.idle)
                wall, cpu, rss, code = run_once(
                    [a.replace("{id}", f"b{i}{name[:2]}") for a in argv], env, bundle
                )
                if code != 0:
                    failures[name] += 1
                    continue
                results[name].append((wall, cpu, rss))
        if _plan_entries(work) != stored:  # a miss rewrites its entry
            print("an ocitool row lowered from scratch (plan cache miss)", file=sys.stderr)
            return 1
    rows = {}
    for name in names:
        got = results[name]
        if not got:
            continue
        rows[name] = {
            "runs": len(got),
            "failures": failures[name],
            "wall_ms": statistics.median(w for w, _, _ in got) * 1000,
            "cpu_ms": statistics.median(c for _, c, _ in got) * 1000,
            "rss_mib": statistics.median(r for _, _, r in got) / 1024,
            "rss_max_mib": max(r for _, _, r in got) / 1024,
        }
    print(
        f"median of {args.runs} isolated runs ({args.idle * 1000:.0f} ms idle before each, "
        "alternating runtimes), busybox /bin/true\n"
    )
    print("| runtime | wall ms | CPU ms | peak RSS MiB | vs runc | vs crun |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        vs = []
        for ref in ("runc", "crun"):
            vs.append(f"{r['wall_ms'] / rows[ref]['wall_ms']:.2f}x" if ref in rows else "-")
        print(
            f"| {name} | {r['wall_ms']:.1f} | {r['cpu_ms']:.1f} | {r['rss_mib']:.1f} | "
            f"{vs[0]} | {vs[1]} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0 if not any(failures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
