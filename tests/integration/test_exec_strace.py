"""The plan that is printed is the plan that runs, checked from outside with strace.

A real container (the rich bundle: hostname, domainname, rlimits, mounts, cgroup
binds, pivot_root, masked and read-only paths, capabilities, seccomp, hooks) runs
under ``strace -f``. Every namespace clone/unshare/setns, mount, umount2,
pivot_root, chroot, sethostname, setdomainname, capset, seccomp and rlimit-setting
prlimit64 the kernel saw must match the plan's next op, in plan order, and every
op that makes such a call must have made it. Calls the plan does not explain
(an engine peephole, a side write) fail the test as much as missing ones.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ocitool.capabilities import mask_to_names
from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.spec.pipeline import load_spec
from tests.helpers_exec.bundle import rich_changes
from tests.integration.conftest import ocitool_exec_cmd

pytestmark = pytest.mark.integration

TRACED = (
    "clone,clone3,unshare,setns,mount,umount2,pivot_root,chroot,"
    "sethostname,setdomainname,capset,seccomp,prlimit64"
)
_LINE = re.compile(r"^(\d+) +(\w+)\((.*)$")


@dataclass
class Call:
    pid: int
    name: str
    args: str

    def flags(self) -> set[str]:
        return set(re.findall(r"\b(?:MS|CLONE|MNT)_[A-Z_]+", self.args))


def _calls(trace: str) -> list[Call]:
    """The traced calls that change the container, in the order they were made."""
    out = []
    for line in trace.splitlines():
        m = _LINE.match(line)
        if m is None:
            continue  # signals, exits, "<... resumed>" tails
        call = Call(int(m[1]), m[2], m[3].split(" <unfinished ...>")[0])
        if call.name in ("clone", "clone3") and "CLONE_NEW" not in call.args:
            continue  # a hook or helper process (subprocess), not the init
        if call.name == "prlimit64" and re.match(r"\d+, \w+, NULL,", call.args):
            continue  # a read of a limit (the interpreter's start-up), not a set
        out.append(call)
    return out


def _ns(flags: set[str]) -> set[str]:
    return {f for f in flags if f.startswith("CLONE_NEW")}


def _mount_like(op: Any, call: Call) -> bool:
    fstype = f'"{op.fstype}"' if op.fstype else "NULL"
    args = [a.strip() for a in call.args.split(", ")]
    return (
        call.name == "mount"
        and len(args) >= 3
        and args[2] == fstype
        and set(op.flags) <= call.flags()  # keep_locked remounts add the mount's locked flags
    )


def _expect(op: Any, calls: list[Call], i: int) -> int:
    """How many calls from ``calls[i]`` op made (asserting they fit); -1: not this op."""

    def at(k: int) -> Call | None:
        return calls[i + k] if i + k < len(calls) else None

    c = at(0)
    name = op.name
    if name == "clone":
        assert c is not None and c.name == ("clone3" if op.cgroup else "clone"), (op.text(), c)
        assert _ns(c.flags()) == set(op.flags), (op.text(), c)
        return 1
    if name == "unshare":
        assert c is not None and c.name == "unshare" and c.flags() == set(op.flags), (op.text(), c)
        return 1
    if name == "setns":
        assert c is not None and c.name == "setns" and op.nstype in c.args, (op.text(), c)
        return 1
    if name in ("sethostname", "setdomainname"):
        value = op.hostname if name == "sethostname" else op.domainname
        assert c is not None and c.name == name and c.args.startswith(f'"{value}"'), (op, c)
        return 1
    if name == "setrlimit":
        want = f"0, {op.resource}, {{rlim_cur={op.soft}, rlim_max={op.hard}}}"
        assert c is not None and c.name == "prlimit64" and c.args.startswith(want), (op, c)
        return 1
    if name in ("mount", "bind_mount", "make_propagation", "remount"):
        assert c is not None and _mount_like(op, c), (op.text(), c)
        return 1
    if name == "pivot_root":
        assert c is not None and c.name == "pivot_root", (op.text(), c)
        return 1
    if name == "umount2":
        assert c is not None and c.name == "umount2", (op.text(), c)
        return 1
    if name == "chroot":
        assert c is not None and c.name == "chroot", (op.text(), c)
        return 1
    if name == "readonly_path":  # bind + read-only remount, or nothing for a missing path
        n = at(1)
        bind = c is not None and c.name == "mount" and {"MS_BIND", "MS_REC"} <= c.flags()
        if bind and n is not None and c is not None and "MS_REMOUNT" not in c.flags():
            assert n.name == "mount", (op.text(), n)
            assert {"MS_RDONLY", "MS_REMOUNT", "MS_BIND"} <= n.flags(), (op.text(), n)
            return 2
        return 0
    if name == "mask_path":  # /dev/null bound over a file, a read-only tmpfs on a dir, or nothing
        if c is not None and c.name == "mount" and "MS_REMOUNT" not in c.flags():
            if c.args.startswith('"tmpfs"') and "MS_RDONLY" in c.flags():
                return 1
            if c.flags() == {"MS_BIND"}:
                return 1
        return 0
    if name == "privatize_parent_mount":
        return 1 if c is not None and c.name == "mount" and "MS_PRIVATE" in c.flags() else 0
    if name == "capabilities":
        assert c is not None and c.name == "capset", (op.text(), c)
        effective = re.search(r"effective=([^,]*)", c.args)
        assert effective is not None
        names = set(re.findall(r"CAP_\w+", effective[1]))
        assert names == set(mask_to_names(op.effective)), (op.text(), c)
        return 1
    if name == "seccomp_load":
        assert c is not None and c.name == "seccomp", (op.text(), c)
        assert f"len={op.instructions}," in c.args, (op.text(), c)
        return 1
    return -1


def test_every_traced_call_is_a_plan_op_in_order(
    bundle_factory: Callable[..., Path], state_root: Path, tmp_path: Path
) -> None:
    strace = shutil.which("strace")
    assert strace is not None, "strace is needed (tools/install-test-deps.sh)"
    cid = f"strace{os.getpid()}"
    bundle = bundle_factory(["sh", "-c", "echo traced"], **rich_changes())
    trace_file = tmp_path / "trace"
    proc = subprocess.run(
        [strace, "-f", "-qq", "-s", "256", "-e", f"trace={TRACED}", "-o", str(trace_file)]
        + ocitool_exec_cmd(bundle, state_root, "--id", cid),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stdout == "traced\n", proc.stderr
    calls = _calls(trace_file.read_text())
    # The runtime's own start-up, before it clones the init, is not the container's plan:
    # re-executing itself from a read-only copy of its files switches its root (chroot)
    # and back. Nothing else may happen before the clone.
    first_clone = next(i for i, c in enumerate(calls) if c.name in ("clone", "clone3"))
    assert all(c.name == "chroot" for c in calls[:first_clone]), calls[:first_clone]
    calls = calls[first_clone:]

    _, spec = load_spec(str(bundle), validate=False)
    plan = lower(spec, HostInfo.detect(), container_id=cid, bundle=str(bundle))
    i = 0
    checked = set()
    for op in plan.ops:
        n = _expect(op, calls, i)
        if n < 0:
            continue  # an op that makes none of the traced calls
        checked.add(op.name)
        i += n
    assert calls[i:] == [], f"calls the plan does not explain: {calls[i:]}"
    assert {
        "clone",
        "sethostname",
        "setdomainname",
        "setrlimit",
        "mount",
        "bind_mount",
        "pivot_root",
        "capabilities",
        "seccomp_load",
        "mask_path",
        "readonly_path",
    } <= checked
    # a namespace the plan gives the init but the traced calls never created would be caught
    # by the clone/unshare checks above; the container's own namespaces are those of the plan
    ns = {f for op in plan.ops if op.name in ("clone", "unshare") for f in op.flags}
    traced_ns = set().union(
        *(_ns(c.flags()) for c in calls if c.name in ("clone3", "clone", "unshare"))
    )
    assert traced_ns == ns
