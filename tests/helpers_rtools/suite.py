"""Build and run the OCI runtime-tools validation programs, offline.

Why this shape: the suite is a set of small Go programs (``validation/<name>``)
that drive a runtime binary (``$RUNTIME``) through create/start/state/kill/
delete and, inside the container, run ``runtimetest`` to compare the
environment with config.json. They expect, in their working directory, the
``runtimetest`` binary and a ``rootfs-<goarch>.tar.gz``. We build both here:
Go code in GOPATH mode (GO111MODULE=off) against the tree's own vendor/
directory, else Debian's ``/usr/share/gocode`` packages, with our TAP stand-in
for the one library Debian does not package; the rootfs from Debian's static
busybox, as the executor tests build theirs. Nothing is downloaded.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers_rtools.tap import TapReport, parse

IMPORT_PATH = "github.com/opencontainers/runtime-tools"
DEBIAN_GOCODE = Path("/usr/share/gocode")
STANDIN_GOPATH = Path(__file__).resolve().parent / "gopath"
GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "ppc64le": "ppc64le", "s390x": "s390x"}


def goarch() -> str:
    machine = platform.machine()
    return GOARCH.get(machine, machine)


def find_tree(src: Path) -> Path:
    """The runtime-tools source tree: a checkout, or a GOPATH root holding one."""
    for cand in (src, src / "src" / IMPORT_PATH):
        if (cand / "cmd" / "runtimetest").is_dir() and (cand / "validation").is_dir():
            return cand.resolve()
    raise FileNotFoundError(f"no runtime-tools tree (cmd/runtimetest + validation/) in {src}")


def list_tests(tree: Path) -> list[str]:
    """Every ``validation/<name>/<name>.go`` program (the suite's own layout)."""
    return sorted(
        d.name
        for d in (tree / "validation").iterdir()
        if d.is_dir() and d.name != "util" and (d / f"{d.name}.go").is_file()
    )


def _gopath_root(tree: Path, work: Path) -> Path:
    """A GOPATH whose src/<import path> is the tree (the tree's own, or a symlink)."""
    parts = IMPORT_PATH.split("/")
    if tree.parts[-len(parts) :] == tuple(parts) and tree.parents[len(parts) - 1].name == "src":
        return tree.parents[len(parts)]
    root = work / "gopath"
    link = root / "src" / IMPORT_PATH
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.exists():
        link.symlink_to(tree, target_is_directory=True)
    return root


def go_env(tree: Path, work: Path) -> dict[str, str]:
    gopath = [_gopath_root(tree, work), STANDIN_GOPATH, DEBIAN_GOCODE]
    env = dict(os.environ)
    env.update(
        GO111MODULE="off",
        GOFLAGS="",
        GOPROXY="off",
        GOPATH=":".join(str(p) for p in gopath),
        GOCACHE=str(work / "gocache"),
        CGO_ENABLED="0",
    )
    return env


@dataclass
class Build:
    """What ``build`` made: the run directory and, per program, a binary or an error."""

    rundir: Path
    binaries: dict[str, Path] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # programs that report by exit status (see reports_by_exit_status)
    untapped: set[str] = field(default_factory=set)


def reports_by_exit_status(tree: Path, name: str) -> bool:
    """A program that makes no TAP writer of its own (no ``tap.New(``): it passes the
    inner runtimetest's TAP through, or, like ``process_rlimits_fail``, prints nothing
    and exits non-zero (``util.Fatal``) when the runtime got it wrong. For those, an
    empty output with exit status 0 is upstream's pass."""
    source = tree / "validation" / name / f"{name}.go"
    return source.is_file() and "tap.New(" not in source.read_text()


def _go_build(env: dict[str, str], out: Path, pkg: str) -> str | None:
    proc = subprocess.run(
        ["go", "build", "-o", str(out), pkg],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return None if proc.returncode == 0 else (proc.stderr or proc.stdout).strip()


def build(tree: Path, work: Path, names: list[str] | None = None) -> Build:
    """Build runtimetest and the chosen programs into ``work/run`` (cached by Go)."""
    work.mkdir(parents=True, exist_ok=True)
    env = go_env(tree, work)
    result = Build(rundir=work / "run")
    result.rundir.mkdir(exist_ok=True)
    err = _go_build(env, result.rundir / "runtimetest", f"{IMPORT_PATH}/cmd/runtimetest")
    if err:
        raise RuntimeError(f"runtimetest does not build:\n{err}")
    for name in names or list_tests(tree):
        out = result.rundir / f"{name}.t"
        err = _go_build(env, out, f"{IMPORT_PATH}/validation/{name}")
        if err:
            result.errors[name] = err
        else:
            result.binaries[name] = out
            if reports_by_exit_status(tree, name):
                result.untapped.add(name)
    return result


def make_rootfs_tarball(rundir: Path) -> Path:
    """rootfs-<goarch>.tar.gz from Debian's static busybox (no download)."""
    from tests.helpers_exec.bundle import make_rootfs

    dest = rundir / f"rootfs-{goarch()}.tar.gz"
    if dest.exists():
        return dest
    with tempfile.TemporaryDirectory(dir=rundir) as tmp:
        rootfs = make_rootfs(Path(tmp) / "rootfs")
        partial = rundir / (dest.name + ".part")
        with tarfile.open(partial, "w:gz") as tar:
            for entry in sorted(rootfs.iterdir()):
                tar.add(entry, arcname=entry.name)
        partial.replace(dest)
    return dest


@dataclass(frozen=True)
class TestRun:
    """One validation program run against one runtime."""

    name: str
    runtime: str
    returncode: int
    report: TapReport
    stdout: str
    stderr: str
    seconds: float
    by_exit_status: bool = False  # see reports_by_exit_status

    @property
    def passed(self) -> bool:
        if self.by_exit_status and not self.stdout.strip():
            return self.returncode == 0
        return self.returncode == 0 and self.report.passed

    def summary(self) -> str:
        """One line: what failed, in the suite's words (for tables and assertions)."""
        if self.passed:
            return f"pass ({len(self.report.results)})"
        bits = [r.description for r in self.report.failures]
        if self.returncode != 0:
            last = self.stderr.strip().splitlines()[-1:] or [f"exit {self.returncode}"]
            bits.append(f"exit {self.returncode}: {last[0]}")
        if not self.report.results and self.returncode == 0:
            bits += [_error_of(d) for d in self.report.orphans] or ["no TAP results"]
        return "FAIL: " + "; ".join(bits)


def _error_of(diagnostic: str) -> str:
    """The "error" text of a program's YAML diagnostic (its first line), else the block."""
    for line in diagnostic.splitlines():
        if '"error":' in line:
            return line.split('"error":', 1)[1].strip().strip('",').split("\\n")[0]
    return diagnostic.splitlines()[0] if diagnostic else "diagnostic"


def isolated_runtime(runtime: str, state_root: Path) -> Path:
    """A wrapper that runs ``runtime --root state_root``: the programs call the runtime
    without --root, and their leftovers (they do not always delete) stay out of /run."""
    state_root.mkdir(parents=True, exist_ok=True)
    wrapper = state_root.with_name(state_root.name + ".sh")
    real = shutil.which(runtime) or runtime
    wrapper.write_text(f'#!/bin/sh\nexec "{real}" --root "{state_root}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def delete_leftovers(runtime: str, state_root: Path) -> None:
    """Force-delete whatever a program left under its state root."""
    listed = subprocess.run(
        [runtime, "--root", str(state_root), "list", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    for cid in listed.stdout.split():
        subprocess.run(
            [runtime, "--root", str(state_root), "delete", "--force", cid],
            capture_output=True,
            timeout=60,
            check=False,
        )


def run_test(
    binary: Path,
    runtime: str,
    *,
    timeout: float = 180,
    extra_env: dict[str, str] | None = None,
    by_exit_status: bool = False,
) -> TestRun:
    """Run one program from its build directory (where runtimetest and the rootfs are)."""
    env = dict(os.environ)
    env["RUNTIME"] = runtime
    env.update(extra_env or {})
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [str(binary)],
            cwd=binary.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code = -9
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = f"timed out after {timeout}s"
    name = binary.name.removesuffix(".t")
    seconds = time.monotonic() - start
    return TestRun(name, runtime, code, parse(out), out, err, seconds, by_exit_status)


def have_go() -> bool:
    return shutil.which("go") is not None
