"""Run commands as the unprivileged test user of issue #13, with the code under test.

``tools/rootless-user.sh`` (run by ``tools/install-test-deps.sh``) makes the user
``ocirootless`` with /etc/subuid and /etc/subgid ranges, and a venv of Debian's
``/usr/bin/python3`` holding ocitool's dependencies. The pyenv interpreter that runs
the tests lives under /root, which that user cannot traverse; so can it not read a
checkout under /root or under pytest's 0700 temp directory.

:func:`install_tree` therefore installs the tree under test where the user can read
it, as a wheel install into a venv would lay it out: ``bin/`` with both launchers,
their bootstrap and ``python3``, ``pyvenv.cfg``, and ``lib/pythonX.Y/site-packages``
with a copy of ``ocitool`` beside the dependencies (symlinks into the shared venv).
Each test session copies afresh: the user always runs the code under test.

:class:`RootlessUser` runs a command as that user with the environment a login would
give it (HOME, USER, PATH, XDG_RUNTIME_DIR made by us as pam_systemd/logind would),
nothing inherited from the test process.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers_exec.bundle import make_rootfs

# Keep in step with tools/rootless-user.sh.
USER_NAME = "ocirootless"
VENV = Path("/opt/ocitool-rootless")

REPO = Path(__file__).resolve().parents[2]
MISSING_HINT = "run `bash tools/install-test-deps.sh` (as root) to create it"


def missing_reason() -> str | None:
    """Why the rootless tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "the rootless tests switch to their user from root"
    try:
        pwd.getpwnam(USER_NAME)
    except KeyError:
        return f"no rootless test user {USER_NAME!r}: {MISSING_HINT}"
    for name in ("subuid", "subgid"):
        text = Path("/etc", name).read_text() if Path("/etc", name).exists() else ""
        if not any(line.startswith(USER_NAME + ":") for line in text.splitlines()):
            return f"{USER_NAME!r} has no range in /etc/{name}: {MISSING_HINT}"
    if not (VENV / "pyvenv.cfg").is_file():
        return f"no venv {VENV} for {USER_NAME!r}: {MISSING_HINT}"
    for tool in ("newuidmap", "newgidmap"):
        if not shutil.which(tool):
            return f"{tool} is missing (the uidmap package): {MISSING_HINT}"
    return None


def require() -> None:
    """Skip the calling test when the rootless tests cannot run here; with CI set, fail."""
    reason = missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _site_packages(prefix: Path) -> Path:
    (found,) = prefix.glob("lib/python3.*/site-packages")
    return found


def install_tree(dest: Path, repo: Path = REPO) -> Path:
    """Lay out ``repo``'s ocitool in ``dest`` as a venv install; returns its ``bin``."""
    site = dest / _site_packages(VENV).relative_to(VENV)
    site.mkdir(parents=True)
    for entry in _site_packages(VENV).iterdir():
        if not entry.name.startswith(("ocitool", "__editable__")):
            (site / entry.name).symlink_to(entry)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(repo / "ocitool", site / "ocitool", ignore=ignore)
    shutil.copy2(VENV / "pyvenv.cfg", dest / "pyvenv.cfg")
    bindir = dest / "bin"
    bindir.mkdir()
    (bindir / "python3").symlink_to(os.readlink(VENV / "bin" / "python3"))
    for name in ("ocitool", "ocitool-runc", "_ocitool_boot.py"):
        shutil.copy2(repo / "bin" / name, bindir / name)
    # What pip does at install time: bytecode next to the sources, so that no run compiles.
    subprocess.run(
        [str(bindir / "python3"), "-m", "compileall", "-q", "-j0", str(site / "ocitool"),
         str(bindir / "_ocitool_boot.py")],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    for path in (dest, *dest.rglob("*")):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or os.access(path, os.X_OK) else 0o644)
    return bindir


@dataclass
class RootlessUser:
    """The test user, and the install of the tree under test it runs (``bindir``)."""

    name: str
    uid: int
    gid: int
    home: Path
    bindir: Path

    @property
    def runtime_dir(self) -> Path:
        """$XDG_RUNTIME_DIR: /run/user/UID, 0700, the user's own, as logind makes it."""
        path = Path("/run/user", str(self.uid))
        if not path.is_dir():
            path.parent.mkdir(mode=0o755, exist_ok=True)
            path.mkdir(mode=0o700)
            os.chown(path, self.uid, self.gid)
        return path

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        environ = {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "SHELL": "/bin/sh",
            "LANG": "C.UTF-8",
            "PATH": f"{self.bindir}:/usr/local/bin:/usr/bin:/bin",
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
        }
        environ.update(extra or {})
        return environ

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 120,
        input: str | None = None,
        cgroup: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` as the user (no supplementary groups, no capabilities), to the end.

        ``cgroup``: a cgroup v2 directory the command starts in, as a login session's
        processes start in their scope. Moving a process needs write access to the common
        ancestor's cgroup.procs, which only root has: root moves itself there, then setpriv
        drops to the user before the command runs."""
        ids: dict[str, object] = {"user": self.uid, "group": self.gid, "extra_groups": []}
        if cgroup is not None:
            ids = {}
            argv = [
                "/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(cgroup),
                "setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups",
                "--", *argv,
            ]  # fmt: skip
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            list(argv),
            **ids,
            env=self.env(env),
            cwd=cwd or self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
            start_new_session=True,
            umask=0o022,
        )

    def subordinate(self, kind: str) -> tuple[int, int]:
        """(start, count) of the user's range in /etc/subuid ("uid") or /etc/subgid ("gid")."""
        for line in Path("/etc", f"sub{kind}").read_text().splitlines():
            name, start, count = line.split(":")
            if name == self.name:
                return int(start), int(count)
        raise AssertionError(f"{self.name} has no /etc/sub{kind} range")

    def bundle(
        self, top: Path, args: list[str], spec: Sequence[str] = ("runc", "spec"), **linux: Any
    ) -> Path:
        """A busybox bundle in ``top`` owned by the user, its config written by ``spec
        --rootless`` run as the user (as a developer would), ``linux`` merged in."""
        bundle = top / "bundle"
        bundle.mkdir()
        make_rootfs(bundle / "rootfs")
        subprocess.run(["chown", "-R", f"{self.uid}:{self.gid}", str(bundle)], check=True)
        proc = self.run([*spec, "--rootless"], cwd=bundle)
        assert proc.returncode == 0, proc.stderr
        config = json.loads((bundle / "config.json").read_text())
        config["process"].update(args=args, terminal=False)
        config["linux"].update(linux)
        (bundle / "config.json").write_text(json.dumps(config))
        return bundle

    def sh(self, script: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return self.run(["/bin/sh", "-c", script], **kw)  # type: ignore[arg-type]

    @contextmanager
    def workdir(self, prefix: str = "ocitool-rootless-work-") -> Iterator[Path]:
        """A fresh directory the user owns (outside /root and pytest's 0700 tree)."""
        path = Path(tempfile.mkdtemp(prefix=prefix))
        try:
            path.chmod(0o755)
            os.chown(path, self.uid, self.gid)
            yield path
        finally:
            # the user's files may be owned by its subordinate ids: remove as root
            subprocess.run(["rm", "-rf", "--one-file-system", str(path)], timeout=120)


@contextmanager
def rootless_user(repo: Path = REPO) -> Iterator[RootlessUser]:
    """The user with a fresh install of ``repo``, removed afterwards. Call missing_reason()
    first."""
    entry = pwd.getpwnam(USER_NAME)
    dest = Path(tempfile.mkdtemp(prefix="ocitool-rootless-install-"))
    try:
        bindir = install_tree(dest, repo)
        yield RootlessUser(USER_NAME, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir), bindir)
    finally:
        shutil.rmtree(dest, ignore_errors=True)
