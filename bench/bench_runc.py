#!/usr/bin/env python3
"""Benchmark ocitool-runc against runc (and crun) the way engines use them.

Three measurements, each *isolated* as issue 5 describes (100 ms of idle
before every run, runtimes alternating in rotating order):

1. ``run`` of a busybox bundle whose process is /bin/true: ocitool-runc (the
   installed console script, and the same code under ``python3 -S``), runc,
   crun (as ``unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec crun
   ...'``: crun refuses this machine's hybrid cgroups otherwise). Median wall,
   CPU and peak RSS.
2. ``create`` + ``start`` + wait + ``delete``, the sequence conmon and the
   containerd shim drive: this process is a child subreaper (like conmon) and
   waits for the container's init itself. Median wall of the whole sequence,
   and wall and CPU of each command (``state`` of the stopped container, and
   ``kill ID KILL`` of a running one, timed outside the sequence).
3. ``podman run --rm --network none ... true`` and ``podman exec CTR true``
   with ``--runtime`` ocitool-runc, runc and crun (crun through a wrapper that
   hides the hybrid host's cgroup2 mount), private podman storage in a temp
   dir. CPU is podman's and that of every process it leaves behind that ends
   within the grace time (conmon and what conmon waited for: the runtime, the
   container): this process is a child subreaper, so they are reaped here.

    sudo python3 bench/bench_runc.py [-n RUNS] [--podman-runs N] [--json FILE]

Needs root and /bin/busybox; runc, crun and podman are used when installed.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench_exec import checkout  # noqa: E402 - one directory
from bench_exec import run_once as timed  # noqa: E402 - the same timer, one directory

from tests.helpers_exec.bundle import make_bundle, make_rootfs  # noqa: E402

ULIMITS = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768"]
PR_SET_CHILD_SUBREAPER = 36
FAST = "import sys; from ocitool.cli.runc import main; sys.exit(main())"


def ocitool_runc() -> str:
    """The installed launcher from sysconfig's scripts dir: what engines execute. Not
    ``command -v``: under pyenv that finds a bash shim that alone costs ~40 ms."""
    import sysconfig

    script = Path(sysconfig.get_path("scripts")) / "ocitool-runc"
    found = str(script) if script.exists() else shutil.which("ocitool-runc")
    if not found:
        raise SystemExit("ocitool-runc is not installed (pip install -e .)")
    return os.path.realpath(found)


def for_podman(launcher: str, work: Path) -> str:
    """The runtime path to give podman. podman does not pass PYTHONPATH on to the runtime,
    so when the installed launcher imports another tree than this one (an editable
    install of another checkout), a two-line wrapper points it here: it adds one
    ``/bin/sh`` start (~1 ms) to each runtime call, and says so."""
    installed = subprocess.run(
        [sys.executable, "-c", "import ocitool; print(ocitool.__file__)"],
        cwd="/", env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    if installed and Path(installed).resolve().parent == REPO / "ocitool":
        return launcher
    wrapper = work / "ocitool-runc-here"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH={REPO} exec {launcher} "$@"\n')
    wrapper.chmod(0o755)
    print(f"podman runs {REPO}'s code through {wrapper} (one sh start more per call)")
    return str(wrapper)


def site_packages() -> str:
    import cffi

    return str(Path(cffi.__file__).resolve().parents[1])


def runtimes(
    work: Path, before: str | None = None
) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    """name -> (argv prefix up to and including the global flags, env)."""
    py = os.path.realpath(sys.executable)
    nosite = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": f"{REPO}:{site_packages()}",
    }
    out: dict[str, tuple[list[str], dict[str, str] | None]] = {
        # the installed launcher (bin/ocitool-runc: python -S, no .pth hooks)
        "ocitool-runc": ([ocitool_runc(), "--root", str(work / "oci")], None),
        # a Python-level start with site: what pip's console script did before the launcher
        "ocitool-runc +site": ([py, "-c", FAST, "--root", str(work / "oci")], None),
        # the same code without site (and without runpy): the interpreter's own floor
        "ocitool-runc -S": ([py, "-S", "-c", FAST, "--root", str(work / "oci")], nosite),
    }
    if before:  # the same -S command with the code at another commit
        tree = checkout(before, work / "before")
        out[f"ocitool-runc -S @{before}"] = (
            [py, "-S", "-c", FAST, "--root", str(work / "oci-before")],
            {**nosite, "PYTHONPATH": f"{tree}:{site_packages()}"},
        )
    if shutil.which("runc"):
        out["runc"] = (["runc", "--root", str(work / "runc")], None)
    return out


def crun_run(work: Path, cid: str) -> list[str]:
    """crun refuses a hybrid host's empty cgroup2 mount: hide it in a private mount
    namespace. On a pure v2 host (the QEMU test host) crun runs as it is."""
    if not os.path.ismount("/sys/fs/cgroup/unified"):
        return ["crun", "--root", str(work / "crun"), "run", cid]
    return [
        "unshare",
        "-m",
        "sh",
        "-c",
        f"umount /sys/fs/cgroup/unified && exec crun --root {work / 'crun'} run {cid}",
    ]


def _quiet(env: dict[str, str] | None, cwd: Path) -> dict[str, Any]:
    """Popen arguments of a runtime command whose output is not wanted."""
    return {
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "env": env,
        "cwd": cwd,
    }


def _command(
    prefix: list[str], argv: list[str], quiet: dict[str, Any]
) -> tuple[float, float, bool]:
    """(wall s, CPU s of the process and what it waited for, exit status 0) of one command."""
    t = time.perf_counter()
    proc = subprocess.Popen([*prefix, *argv], **quiet)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, usage.ru_utime + usage.ru_stime, status == 0


def lifecycle_once(
    prefix: list[str], env: dict[str, str] | None, bundle: Path, cid: str, work: Path
) -> tuple[float, int, dict[str, float]]:
    """create + start + wait + delete; (wall s, exit status of the container or -1, wall s
    and CPU s (``NAME_cpu``) of each command). ``state`` of the stopped container is timed
    too, outside the total."""
    pid_file = work / f"{cid}.pid"
    quiet = _quiet(env, bundle)
    steps: dict[str, float] = {}

    def step(name: str, argv: list[str]) -> bool:
        wall, cpu, ok = _command(prefix, argv, quiet)
        steps[name], steps[f"{name}_cpu"] = wall, cpu
        return ok

    t0 = time.perf_counter()
    if not step("create", ["create", "--pid-file", str(pid_file), cid]):
        return 0.0, -1, steps
    pid = int(pid_file.read_text())
    if not step("start", ["start", cid]):
        return 0.0, -1, steps
    _, status = os.waitpid(pid, 0)  # the init was re-parented to us (we are a subreaper)
    t1 = time.perf_counter()
    ok = step("state", ["state", cid])
    t2 = time.perf_counter()
    if not ok or not step("delete", ["delete", cid]):
        return 0.0, -1, steps
    return time.perf_counter() - t0 - (t2 - t1), os.waitstatus_to_exitcode(status), steps


def kill_once(
    prefix: list[str], env: dict[str, str] | None, bundle: Path, cid: str, work: Path
) -> dict[str, float]:
    """``kill ID KILL`` of a running container (what ``podman stop`` and containerd's
    ``task kill`` call): create and start untimed, then kill, reap, delete untimed."""
    pid_file = work / f"{cid}.pid"
    quiet = _quiet(env, bundle)
    if not _command(prefix, ["create", "--pid-file", str(pid_file), cid], quiet)[2]:
        return {}
    pid = int(pid_file.read_text())
    out: dict[str, float] = {}
    if _command(prefix, ["start", cid], quiet)[2]:
        wall, cpu, ok = _command(prefix, ["kill", cid, "KILL"], quiet)
        if ok:
            out = {"kill": wall, "kill_cpu": cpu}
    else:
        os.kill(pid, 9)
    os.waitpid(pid, 0)
    _command(prefix, ["delete", "--force", cid], quiet)
    return out


def isolated(names: list[str], runs: int, idle: float, once) -> dict[str, list]:  # type: ignore
    results: dict[str, list] = {n: [] for n in names}  # type: ignore[type-arg]
    for i in range(runs):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            time.sleep(idle)
            got = once(name, i)
            if got is not None:
                results[name].append(got)
    return results


def table(title: str, rows: dict[str, dict[str, float]], cols: list[str]) -> str:
    lines = [
        title,
        "",
        "| runtime | " + " | ".join(cols) + " | vs runc | vs crun |",
        "|---|" + "---:|" * (len(cols) + 2),
    ]
    for name, r in rows.items():
        vs = [
            f"{r['wall_ms'] / rows[ref]['wall_ms']:.2f}x" if ref in rows else "-"
            for ref in ("runc", "crun")
        ]
        lines.append(
            f"| {name} | " + " | ".join(f"{r[c]:.1f}" for c in cols) + " | " + " | ".join(vs) + " |"
        )
    return "\n".join(lines) + "\n"


def per_command_table(rows: dict[str, dict[str, float]], cmds: tuple[str, ...]) -> str:
    """Median CPU ms (and wall ms) of each command, with the ratio of CPU to runc's; state
    is of the stopped container, kill of a running one."""
    lines = [
        "each command, median CPU ms / wall ms (CPU ratio to runc's)",
        "",
        "| runtime | " + " | ".join(cmds) + " |",
        "|---|" + "---:|" * len(cmds),
    ]
    ref = rows.get("runc")
    for name, r in rows.items():
        cells = []
        for c in cmds:
            if c not in r:
                cells.append("-")
                continue
            ratio = f" ({r[c + '_cpu'] / ref[c + '_cpu']:.2f}x)" if ref and c in ref else ""
            cells.append(f"{r[c + '_cpu']:.1f} / {r[c]:.1f}" + ("" if name == "runc" else ratio))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def reaped(argv: list[str], cwd: Path, grace: float) -> tuple[float, float, int]:
    """(wall s, CPU s, exit status) of ``argv`` and of the processes it leaves behind that
    end within ``grace`` s (conmon and what it waited for): this process is a child
    subreaper, so they are re-parented to it, and their CPU is counted once reaped."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _, status = os.waitpid(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                time.sleep(0.005)
        except ChildProcessError:
            break
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, proc.returncode


CRUN_WRAPPER = """#!/bin/sh
# crun refuses a hybrid host's empty cgroup2 mount: hide it in a private mount namespace
exec unshare -m sh -c 'umount /sys/fs/cgroup/unified && exec crun "$@"' crun "$@"
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--runs", type=int, default=30)
    parser.add_argument("--podman-runs", type=int, default=10)
    parser.add_argument("--idle", type=float, default=0.1)
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument(
        "--ocitool-runc", help="runtime executable for podman (default: the installed launcher)"
    )
    parser.add_argument(
        "--podman-warm",
        type=int,
        default=1,
        help="untimed podman runs per runtime first (podman orders its bind "
        "mounts at random, so each order is its own plan template)",
    )
    parser.add_argument("--skip", default="", help="comma list of run,cycle,podman to skip")
    parser.add_argument(
        "--before", metavar="REF", help="add an 'ocitool-runc -S' row running the code at REF"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench_runc.py needs root", file=sys.stderr)
        return 2
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(REPO / "ocitool")],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    report: dict[str, dict[str, dict[str, float]]] = {}
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-runc-") as tmp:
        work = Path(tmp)
        bundle = make_bundle(work / "bundle", ["/bin/true"])
        rts = runtimes(work, args.before)
        skip = set(args.skip.split(","))
        rss_file = work / "rss.txt"

        # 1. run /bin/true
        if "run" not in skip:
            names = list(rts) + (["crun"] if shutil.which("crun") else [])
            rss_file = work / "rss.txt"

            def run_once(name: str, i: int) -> tuple[float, float, int] | None:
                cid = f"r{i}{name.replace(' ', '')[:3]}{len(name)}"
                if name == "crun":
                    argv, env = crun_run(work, cid), None
                else:
                    prefix, env = rts[name]
                    argv = [*prefix, "run", cid]
                wall, cpu, rss, code = timed(argv, env, bundle, rss_file)
                return (wall, cpu, rss) if code == 0 else None

            for name in names:  # warm: page cache, dentries, ocitool's plan cache
                run_once(name, 999)
            res = isolated(names, args.runs, args.idle, run_once)
            rows = {
                n: {
                    "runs": len(v),
                    "wall_ms": statistics.median(w for w, _, _ in v) * 1e3,
                    "cpu_ms": statistics.median(c for _, c, _ in v) * 1e3,
                    "rss_mib": statistics.median(r for _, _, r in v) / 1024,
                }
                for n, v in res.items()
                if v
            }
            report["run"] = rows
            out.append(
                table(
                    f"run /bin/true: median of {args.runs} isolated runs",
                    rows,
                    ["wall_ms", "cpu_ms", "rss_mib"],
                )
            )

        # 2. create + start + wait + delete
        if "cycle" not in skip:
            per_step: dict[str, list[dict[str, float]]] = {n: [] for n in rts}

            def cycle_once(name: str, i: int) -> float | None:
                prefix, env = rts[name]
                wall, code, steps = lifecycle_once(prefix, env, bundle, f"c{i}{len(name)}", work)
                if code != 0:
                    return None
                steps |= kill_once(prefix, env, sleeper, f"k{i}{len(name)}", work)
                per_step[name].append(steps)
                return wall

            sleeper = make_bundle(work / "sleeper", ["sleep", "1000"])
            res2 = isolated(list(rts), args.runs, args.idle, cycle_once)
            rows2 = {
                n: {"runs": len(v), "wall_ms": statistics.median(v) * 1e3}
                for n, v in res2.items()
                if v
            }
            report["create_start_wait_delete"] = rows2
            out.append(
                table(f"create + start + wait + delete: median of {args.runs}", rows2, ["wall_ms"])
            )
            cmds = ("create", "start", "state", "delete", "kill")
            rows_c = {
                n: {
                    key: statistics.median(s[key] for s in v) * 1e3
                    for c in cmds
                    for key in (c, f"{c}_cpu")
                    if all(key in s for s in v)
                }
                for n, v in per_step.items()
                if v
            }
            report["per_command"] = rows_c
            out.append(per_command_table(rows_c, cmds))

        # 3. podman run --rm true
        if shutil.which("podman") and args.podman_runs and "podman" not in skip:
            rootfs = make_rootfs(work / "podman-rootfs")
            pm = [
                "podman",
                "--root",
                str(work / "pm-root"),
                "--runroot",
                str(work / "pm-runroot"),
                "--cgroup-manager",
                "cgroupfs",
            ]
            try:
                tar = subprocess.Popen(
                    ["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE
                )
                subprocess.run(
                    [*pm, "import", "-", "localhost/bb"],
                    stdin=tar.stdout,
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                tar.wait()
                ours = args.ocitool_runc or for_podman(ocitool_runc(), work)
                engines = {"podman + ocitool-runc": ours, "podman + runc": "runc"}
                if shutil.which("crun"):
                    wrapper = work / "crun-hybrid"
                    wrapper.write_text(CRUN_WRAPPER if os.path.ismount("/sys/fs/cgroup/unified")
                                       else '#!/bin/sh\nexec crun "$@"\n')  # fmt: skip
                    wrapper.chmod(0o755)
                    engines["podman + crun"] = str(wrapper)
                run_argv = ["run", "--rm", "--network", "none", *ULIMITS, "localhost/bb", "true"]

                def podman_once(name: str, i: int) -> tuple[float, float] | None:
                    argv = [*pm, "--runtime", engines[name], *run_argv]
                    wall, cpu, code = reaped(argv, work, args.idle)
                    return (wall, cpu) if code == 0 else None

                def exec_once(name: str, i: int) -> tuple[float, float] | None:
                    argv = [*pm, "--runtime", engines[name], "exec", box[name], "true"]
                    wall, cpu, code = reaped(argv, work, args.idle)
                    return (wall, cpu) if code == 0 else None

                for name in engines:
                    for _ in range(args.podman_warm):
                        podman_once(name, 0)
                res3 = isolated(list(engines), args.podman_runs, args.idle, podman_once)
                box = {name: f"exec{k}" for k, name in enumerate(engines)}
                for name, runtime in engines.items():  # one long-running container each
                    subprocess.run(
                        [*pm, "--runtime", runtime, "run", "-d", "--name", box[name],
                         "--network", "none", *ULIMITS, "localhost/bb", "sleep", "100000"],
                        check=True, stdout=subprocess.DEVNULL,
                    )  # fmt: skip
                    exec_once(name, 0)
                res4 = isolated(list(engines), args.podman_runs, args.idle, exec_once)
                load = os.getloadavg()[0]
                for key, title, res in (
                    ("podman_run", "podman run --rm true", res3),
                    ("podman_exec", "podman exec CTR true", res4),
                ):
                    rows3 = {
                        n: {
                            "runs": len(v),
                            "wall_ms": statistics.median(w for w, _ in v) * 1e3,
                            "cpu_ms": statistics.median(c for _, c in v) * 1e3,
                        }
                        for n, v in res.items()
                        if v
                    }
                    report[key] = rows3
                    ref = rows3.get("podman + runc")
                    lines = [
                        f"{title}: median of {args.podman_runs} (load average {load:.1f})",
                        "",
                        "| engine | wall ms | CPU ms | wall vs runc | CPU vs runc |",
                        "|---|---:|---:|---:|---:|",
                    ]
                    for n, r in rows3.items():
                        vs = [
                            f"{r[k] / ref[k]:.2f}x" if ref else "-" for k in ("wall_ms", "cpu_ms")
                        ]
                        lines.append(
                            f"| {n} | {r['wall_ms']:.1f} | {r['cpu_ms']:.1f} | {vs[0]} | {vs[1]} |"
                        )
                    out.append("\n".join(lines) + "\n")
            finally:  # also stops the exec containers
                subprocess.run(
                    [*pm, "system", "reset", "--force"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("\n".join(out))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
