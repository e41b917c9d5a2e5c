"""The runtime process under attack in the rootless CVE-2019-5736 test.

Usage: victim_rootless.py sealed|plain DIR. ``sealed`` runs the runtime's
:func:`ocitool.exec.sealed.ensure` and ``verify`` first, as ``ocitool-runc
create``/``exec`` do. Then it does what the container's init and ``exec``
joiners do (enters a user namespace of its own, so a container's root holds
CAP_SYS_PTRACE over it) and stays dumpable there, the worst case
(``fs.suid_dumpable=1``); it writes DIR/pid and waits for DIR/go.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time

CLONE_NEWUSER = 0x10000000
PR_SET_DUMPABLE = 4


def main(mode: str, top: str) -> None:
    if mode == "sealed":
        from ocitool.exec import sealed
        from ocitool.exec.linux import LinuxSyscalls

        sealed.ensure(LinuxSyscalls())
        sealed.verify()
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(CLONE_NEWUSER) != 0:
        raise SystemExit(f"unshare: errno {ctypes.get_errno()}")
    for name, text in (("setgroups", "deny"), ("uid_map", f"0 {uid} 1"), ("gid_map", f"0 {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)
    if libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0:
        raise SystemExit(f"prctl: errno {ctypes.get_errno()}")
    with open(f"{top}/pid.tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(f"{top}/pid.tmp", f"{top}/pid")
    deadline = time.monotonic() + 60
    while not os.path.exists(f"{top}/go") and time.monotonic() < deadline:
        time.sleep(0.02)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
