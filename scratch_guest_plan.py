import json, subprocess, sys
sys.path.insert(0, ".")
from pathlib import Path
import tests.hosts.v2.test_v2_rootless as t
from tests.helpers.rootless_user import rootless_user
with rootless_user() as u:
    gen = t.delegated.__wrapped__(u)
    d = next(gen)
    with u.workdir() as w:
        b = t.rootless_bundle(u, w, ["true"], cgroupsPath=d.path_of("x1"), resources={"pids": {"limit": 8}})
        p = d.run([str(u.bindir / "ocitool"), "plan", "--format", "strace", str(b)])
        print(p.returncode, p.stdout[:6000], p.stderr[-3000:])
        print(open("/proc/self/cgroup").read())
        p = d.run(["cat", "/proc/self/cgroup", "/proc/self/mountinfo"]); print(p.stdout)
