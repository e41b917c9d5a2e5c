"""Soak driver (run as separate processes by the integration test).

``soak.py seq BUNDLE ROOT N``: N sequential foreground runs in this process;
prints the open-fd count before and after, and our zombie count.
``soak.py lifecycle BUNDLE ROOT ID``: one detached create -> state -> start
-> wait -> delete, as ocitool-runc would do it; prints the statuses seen.
"""

from __future__ import annotations

import json
import os
import sys

from ocitool.exec import lifecycle, sealed
from ocitool.exec.context import ExecContext
from ocitool.exec.linux import LinuxSyscalls
from ocitool.exec.state import StateStore
from ocitool.lower import lower
from ocitool.lower.host import HostInfo
from ocitool.spec.pipeline import load_spec


def zombies() -> int:
    me = str(os.getpid())
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] == "Z":
                count += 1
    return count


def main() -> int:
    mode, bundle, root = sys.argv[1:4]
    sealed.ensure(LinuxSyscalls())  # as ocitool-runc does: run from a read-only copy
    _, spec = load_spec(bundle, validate=False)
    host = HostInfo.detect()
    store = StateStore(root)
    rootfs = os.path.join(bundle, "rootfs")
    if mode == "seq":
        n = int(sys.argv[4])
        prefix = sys.argv[5] if len(sys.argv) > 5 else "soak"
        fds_before = len(os.listdir("/proc/self/fd"))
        codes = set()
        for i in range(n):
            plan = lower(spec, host, container_id=f"{prefix}{i}", bundle=bundle)
            ctx = ExecContext(
                sys=LinuxSyscalls(), container_id=f"{prefix}{i}", bundle=bundle, rootfs=rootfs
            )
            codes.add(lifecycle.run(plan.ops, ctx, store))
        fds_after = len(os.listdir("/proc/self/fd"))
        print(
            json.dumps(
                {"fds": [fds_before, fds_after], "zombies": zombies(), "codes": sorted(codes)}
            )
        )
        return 0
    cid = sys.argv[4]
    plan = lower(spec, host, container_id=cid, bundle=bundle)

    def ctx() -> ExecContext:
        return ExecContext(sys=LinuxSyscalls(), container_id=cid, bundle=bundle, rootfs=rootfs)

    seen = []
    st = lifecycle.create(plan.ops, ctx(), store)
    seen.append(lifecycle.state(store, cid).status)
    lifecycle.start(plan.ops, ctx(), store)
    seen.append(lifecycle.state(store, cid).status)
    _, status = os.waitpid(st.pid, 0)  # we cloned it, so it is our child to reap
    seen.append(lifecycle.state(store, cid).status)
    problems = lifecycle.delete(plan.ops, ctx(), store)
    print(
        json.dumps(
            {
                "statuses": seen,
                "exit": os.waitstatus_to_exitcode(status),
                "problems": problems,
                "zombies": zombies(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
