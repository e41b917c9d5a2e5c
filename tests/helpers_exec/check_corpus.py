"""Broken bundles with one defect each, and healthy controls, for ``ocitool check``.

Each case is built at test time from busybox (bundle.py). The tests check
that ``ocitool check`` finds the defect (code, pointer, words of the
message) before running, and that a real run fails and its error names the
same cause; tools/check_corpus_doc.py runs the same cases through runc for
docs/check.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers_exec.bundle import BASE_CONFIG, make_bundle, make_rootfs

HOST_ID = 100000
USERNS_NS = [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "user")]
USERNS_MAPS = {
    "uidMappings": [{"containerID": 0, "hostID": HOST_ID, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": HOST_ID, "size": 65536}],
}


@dataclass(frozen=True)
class Case:
    """A bundle with one defect: what check must report, and how to build it."""

    name: str
    code: str | None  # None: a healthy control
    pointer: str
    words: tuple[str, ...]
    build: Callable[[Path], Path] = field(repr=False)
    title: str = ""


def _userns(top: Path, *, top_mode: int = 0o755, chown: bool = True, **changes: Any) -> Path:
    """A user-namespace bundle at ``top``/b; the rootfs owned by the mapped root."""
    top.mkdir(parents=True, exist_ok=True)
    linux = {"namespaces": USERNS_NS, **USERNS_MAPS, **changes.pop("linux", {})}
    bundle = make_bundle(top / "b", ["true"], linux=linux, **changes)
    if chown:
        owner = f"{HOST_ID}:{HOST_ID}"
        subprocess.run(["chown", "-R", "-h", owner, str(bundle / "rootfs")], check=True)
    top.chmod(top_mode)
    return bundle


def _hardened_in_mktemp(top: Path) -> Path:
    """The issue's own case: ``ocitool spec --profile hardened`` in a ``mktemp -d`` (0700)
    bundle with the host's root owning everything."""
    from ocitool.cli.main import main

    bundle = top / "b"
    make_rootfs(bundle / "rootfs")
    if main(["spec", "--profile", "hardened", "--args", "true", "--bundle", str(bundle)]) != 0:
        raise RuntimeError("ocitool spec failed")
    top.chmod(0o700)
    return bundle


def _plain(top: Path, args: list[str] | None = None, **changes: Any) -> Path:
    top.mkdir(parents=True, exist_ok=True)
    top.chmod(0o755)
    return make_bundle(top / "b", args or ["true"], **changes)


def _script(bundle: Path, path: str, text: str, mode: int) -> None:
    target = bundle / "rootfs" / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)


def _with(build: Callable[[Path], Path], after: Callable[[Path], None]) -> Callable[[Path], Path]:
    def make(top: Path) -> Path:
        bundle = build(top)
        after(bundle)
        return bundle

    return make


def missing_cap() -> str | None:
    """A capability the runtime's bounding set lacks (this process's), if any."""
    from ocitool.capabilities import CAPABILITIES
    from ocitool.check.facts import HostFacts

    held = HostFacts().bounding_caps or frozenset(CAPABILITIES)
    return next((c for c in CAPABILITIES if c not in held), None)


def _dyn_binary(bundle: Path) -> None:
    """A dynamically linked program (the host's ``ls``) in the static busybox image."""
    src = shutil.which("ls") or "/bin/ls"
    shutil.copy2(os.path.realpath(src), bundle / "rootfs" / "bin" / "ls-dynamic")


def _seccomp_no_execve() -> dict[str, Any]:
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["execve", "execveat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}],
    }


def _hook_file(bundle: Path) -> None:
    hook = bundle / "hook.sh"
    hook.write_text("#!/bin/sh\nexit 0\n")
    hook.chmod(0o644)
    config = (bundle / "config.json").read_text().replace("@HOOK@", str(hook))
    (bundle / "config.json").write_text(config)


def _device_dir(bundle: Path) -> None:
    (bundle / "rootfs" / "opt" / "fuse").mkdir(parents=True, exist_ok=True)


def _cap_case(top: Path) -> Path:
    cap = missing_cap() or "CAP_CHOWN"
    caps = {
        k: [*BASE_CONFIG["process"]["capabilities"][k], cap]
        for k in ("bounding", "effective", "permitted")
    }
    return _plain(top, process={"capabilities": caps})


def cases() -> list[Case]:
    """The corpus: one defect each (``code`` set), then the healthy controls."""
    tmpfs_new = {
        "destination": "/newdir",
        "type": "tmpfs",
        "source": "tmpfs",
        "options": ["nosuid", "nodev"],
    }
    return [
        Case("rootfs-parent-0700", "OCH101", "/root/path", ("100000", "cannot search", "0700"),
             lambda t: _userns(t, top_mode=0o700),
             "user namespace, bundle under a 0700 directory (mktemp -d)"),
        Case("hardened-in-mktemp", "OCH101", "/root/path", ("100000", "cannot search", "0700"),
             _hardened_in_mktemp,
             "ocitool spec --profile hardened in a mktemp -d bundle (the issue's report)"),
        Case("mountpoint-uncreatable", "OCH103", "/mounts/7", ("/newdir", "may not write"),
             lambda t: _userns(t, chown=False, mounts=[*BASE_CONFIG["mounts"], tmpfs_new]),
             "user namespace, rootfs owned by the host's root, a mount on a missing directory"),
        Case("args0-not-found", "OCH201", "/process/args/0", ("no-such-program", "PATH"),
             lambda t: _plain(t, ["no-such-program"]), "args[0] is not on PATH in the rootfs"),
        Case("args0-not-executable", "OCH201", "/process/args/0", ("/bin/tool", "may not execute"),
             _with(lambda t: _plain(t, ["/bin/tool"]),
                   lambda b: _script(b, "/bin/tool", "#!/bin/sh\ntrue\n", 0o644)),
             "args[0] has no execute bit"),
        Case("interpreter-missing", "OCH202", "/process/args/0", ("#! interpreter", "/usr/bin/python3"),
             _with(lambda t: _plain(t, ["/bin/tool"]),
                   lambda b: _script(b, "/bin/tool", "#!/usr/bin/python3\nprint(1)\n", 0o755)),
             "a script whose #! interpreter is not in the image"),
        Case("elf-loader-missing", "OCH202", "/process/args/0", ("ELF loader", "ld-linux"),
             _with(lambda t: _plain(t, ["/bin/ls-dynamic"]), _dyn_binary),
             "a dynamically linked binary in a static image"),
        Case("cwd-not-directory", "OCH203", "/process/cwd", ("/etc/passwd", "not a directory"),
             lambda t: _plain(t, process={"cwd": "/etc/passwd"}), "process.cwd is a file"),
        Case("cwd-missing", "OCH203", "/process/cwd", ("/srv", "does not exist"),
             lambda t: _plain(t, process={"cwd": "/srv/app"}), "process.cwd is not in the image"),
        Case("user-unmapped", "OCI338", "/process/user/uid", ("70000", "not mapped"),
             lambda t: _userns(t, process={"user": {"uid": 70000, "gid": 0}}),
             "process.user.uid outside the user namespace's map"),
        Case("bind-source-missing", "OCH102", "/mounts/7", ("/nonexistent/src", "does not exist"),
             lambda t: _plain(t, mounts=[*BASE_CONFIG["mounts"], {"destination": "/data", "type": "bind", "source": "/nonexistent/src", "options": ["rbind"]}]),
             "a bind mount whose source does not exist"),
        Case("hook-missing", "OCH104", "/hooks/createRuntime/0/path", ("/nonexistent/hook", "does not exist"),
             lambda t: _plain(t, hooks={"createRuntime": [{"path": "/nonexistent/hook"}]}),
             "a createRuntime hook that does not exist"),
        Case("hook-not-executable", "OCH104", "/hooks/createRuntime/0/path", ("hook.sh", "not executable"),
             _with(lambda t: _plain(t, hooks={"createRuntime": [{"path": "@HOOK@"}]}), _hook_file),
             "a createRuntime hook without the execute bit"),
        Case("device-path-is-directory", "OCH105", "/linux/devices/0", ("/opt/fuse", "is a directory"),
             _with(lambda t: _plain(t, linux={"devices": [{"path": "/opt/fuse", "type": "c", "major": 10, "minor": 229}]}),
                   _device_dir),
             "a linux.devices path that is a directory in the image"),
        Case("netns-missing", "OCH106", "/linux/namespaces/1/path", ("/run/netns/no-such-ns", "No such file"),
             lambda t: _plain(t, linux={"namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/no-such-ns"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]}),
             "a network namespace path that does not exist"),
        Case("netns-wrong-type", "OCH106", "/linux/namespaces/1/path", ("/proc/self/ns/uts", "not CLONE_NEWNET"),
             lambda t: _plain(t, linux={"namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/self/ns/uts"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]}),
             "a network namespace path that is a UTS namespace"),
        Case("capability-not-held", "OCH301", "/process/capabilities/effective/3", ("bounding set",),
             _cap_case, "a capability the runtime's own bounding set lacks"),
        Case("seccomp-denies-execve", "OCH401", "/linux/seccomp", ("execve", "ERRNO(1)"),
             lambda t: _plain(t, linux={"seccomp": _seccomp_no_execve()}),
             "a seccomp profile that denies execve"),
        Case("memory-limit-too-low", "OCH501", "/linux/resources/memory/limit", ("262144", "OOM"),
             lambda t: _plain(t, linux={"resources": {"devices": [{"allow": False, "access": "rwm"}], "memory": {"limit": 262144}}}),
             "a memory limit below what the init needs"),
        Case("cpuset-not-allowed", "OCH502", "/linux/resources/cpu/cpus", ("CPU(s)", "4095"),
             lambda t: _plain(t, linux={"resources": {"devices": [{"allow": False, "access": "rwm"}], "cpu": {"cpus": "0,4095"}}}),
             "a cpuset with a CPU the host does not have"),
        # healthy controls
        Case("control-default", None, "", (), lambda t: _plain(t, ["true"]), "runc spec's config"),
        Case("control-userns", None, "", (), lambda t: _userns(t), "user namespace, reachable bundle"),
        Case("control-script", None, "", (),
             _with(lambda t: _plain(t, ["/bin/tool"]),
                   lambda b: _script(b, "/bin/tool", "#!/bin/sh\ntrue\n", 0o755)),
             "a #! script with its interpreter"),
    ]  # fmt: skip
