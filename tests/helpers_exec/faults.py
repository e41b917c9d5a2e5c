"""Fault-injection driver (run as a separate process by the integration test).

For every op index k of BUNDLE's plan: run the container with op k failing
(FaultSyscalls), then report as one JSON line what the error said and what
was left behind: the container's cgroup directories, its state directory,
host mounts and processes. Separate process: the runtime becomes a child
subreaper, which the test runner itself should not be.
"""

from __future__ import annotations

import errno
import glob
import json
import os
import sys

from ocitool.errors import OciToolError
from ocitool.exec import lifecycle, sealed
from ocitool.exec.context import ExecContext
from ocitool.exec.fault import FaultSyscalls
from ocitool.exec.linux import LinuxSyscalls
from ocitool.exec.state import StateStore
from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.spec.pipeline import load_spec


def children() -> list[int]:
    """Our live child processes (anything we failed to reap or kill)."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            found.append(int(entry))
    return found


def bundle_mounts(bundle: str) -> int:
    """Host mounts involving the bundle (other tests may mount elsewhere meanwhile)."""
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if bundle in line)


def main() -> int:
    bundle, state_root = sys.argv[1], sys.argv[2]
    only = [int(x) for x in sys.argv[3:]]
    sealed.ensure(LinuxSyscalls())  # as ocitool-runc does: run from a read-only copy
    _, spec = load_spec(bundle, validate=False)
    host = HostInfo.detect()
    n = len(lower(spec, host, container_id="probe", bundle=bundle).ops)
    store = StateStore(state_root)
    for k in only or range(n):
        cid = f"fault{os.getpid()}-{k}"  # cgroup paths are host-wide: unique to this run
        plan = lower(spec, host, container_id=cid, bundle=bundle)
        op = plan.ops[k]
        mounts_before = bundle_mounts(bundle)
        ctx = ExecContext(
            sys=FaultSyscalls(LinuxSyscalls(), k, errno.EIO),
            container_id=cid,
            bundle=bundle,
            rootfs=os.path.join(bundle, "rootfs"),
        )
        devnull = os.open(os.devnull, os.O_WRONLY)
        saved = os.dup(1)
        os.dup2(devnull, 1)  # the container's own output is not part of the report
        try:
            rc: int | None = lifecycle.run(plan.ops, ctx, store)
            error = ""
        except OciToolError as exc:
            rc, error = None, exc.message
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        mounts_after = bundle_mounts(bundle)
        leftovers = glob.glob(f"/sys/fs/cgroup/*/ocitool/{cid}")
        print(
            json.dumps(
                {
                    "k": k,
                    "op": op.name,
                    "phase": op.phase.value,
                    "text": op.text(),
                    "rc": rc,
                    "error": error,
                    "cgroups": leftovers,
                    "state": os.path.exists(store.dir(cid)),
                    "mounts": mounts_after - mounts_before,
                    "children": children(),
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
