"""Hand-built plans (real op classes) for testing the executor independently of lowering.

They follow the ops' documented order (plan/ops/base.py phase table); the
lowering tests own the question "is this the right plan for that config".
"""

from __future__ import annotations

from ocitool.capabilities import names_to_mask
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.cgroup import CgroupJoin, CgroupMkdir, CgroupRemove, CgroupWrite
from ocitool.plan.ops.fs import (
    BindMount,
    MakePropagation,
    MaskPath,
    Mkdir,
    Mknod,
    Mount,
    PivotRoot,
    ReadonlyPath,
    Remount,
    Symlink,
    Umount,
)
from ocitool.plan.ops.namespaces import Clone, Fork, Sethostname, Unshare
from ocitool.plan.ops.process import (
    Chdir,
    Execve,
    Kill,
    Setgroups,
    Setresgid,
    Setresuid,
    Setrlimit,
    Start,
    Umask,
    WaitStart,
)
from ocitool.plan.ops.security import NoNewPrivs, SetCapabilities

CAPS = names_to_mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
CONTROLLERS = ("cpu", "cpuacct", "memory", "pids", "devices")
ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm")


def busybox_plan(
    rootfs: str,
    cid: str,
    argv: list[str],
    *,
    cgroups: bool = True,
    extra_exec: list[Op] | None = None,
    pidns: bool = True,
) -> list[Op]:
    P = Phase
    cg = [f"/sys/fs/cgroup/{c}/ocitool-test/{cid}" for c in CONTROLLERS]
    ops: list[Op] = []
    if cgroups:
        ops += [
            CgroupMkdir(phase=P.CREATE_RUNTIME, path=p, source="/linux/cgroupsPath") for p in cg
        ]
        ops.append(
            CgroupWrite(
                phase=P.CREATE_RUNTIME,
                path=cg[2] + "/memory.limit_in_bytes",
                value="67108864",
                source="/linux/resources/memory/limit",
            )
        )
        ops.append(
            CgroupWrite(
                phase=P.CREATE_RUNTIME,
                path=cg[3] + "/pids.max",
                value="64",
                source="/linux/resources/pids/limit",
            )
        )
    ops.append(Clone(phase=P.CREATE_SPAWN, flags=()))
    if cgroups:
        ops += [CgroupJoin(phase=P.CREATE_SPAWN, path=p + "/cgroup.procs") for p in cg]
    flags = ("CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWNET")
    if pidns:
        flags += ("CLONE_NEWPID",)
    ops.append(Unshare(phase=P.CREATE_INIT, flags=flags, source="/linux/namespaces"))
    if pidns:
        ops.append(Fork(phase=P.CREATE_INIT, reason="new pid namespace"))
    ops.append(Sethostname(phase=P.CREATE_INIT, hostname="runc", source="/hostname"))
    ops.append(
        Setrlimit(
            phase=P.CREATE_INIT,
            resource="RLIMIT_NOFILE",
            soft=1024,
            hard=1024,
            source="/process/rlimits/0",
        )
    )
    ops.append(
        MakePropagation(phase=P.CREATE_INIT, src=None, target="/", flags=("MS_REC", "MS_SLAVE"))
    )
    ops.append(
        BindMount(phase=P.CREATE_INIT, src=rootfs, target=rootfs, flags=("MS_BIND", "MS_REC"))
    )
    mounts = [
        ("/proc", "proc", "proc", (), None),
        ("/dev", "tmpfs", "tmpfs", ("MS_NOSUID", "MS_STRICTATIME"), "mode=755,size=65536k"),
        (
            "/dev/pts",
            "devpts",
            "devpts",
            ("MS_NOSUID", "MS_NOEXEC"),
            "newinstance,ptmxmode=0666,mode=0620,gid=5",
        ),
        (
            "/dev/shm",
            "shm",
            "tmpfs",
            ("MS_NOSUID", "MS_NOEXEC", "MS_NODEV"),
            "mode=1777,size=65536k",
        ),
        ("/dev/mqueue", "mqueue", "mqueue", ("MS_NOSUID", "MS_NOEXEC", "MS_NODEV"), None),
        ("/sys", "sysfs", "sysfs", ("MS_NOSUID", "MS_NOEXEC", "MS_NODEV", "MS_RDONLY"), None),
    ]
    for i, (dest, src, fstype, mflags, data) in enumerate(mounts):
        ops.append(Mkdir(phase=P.CREATE_INIT, path=dest, root=rootfs, source=f"/mounts/{i}"))
        ops.append(
            Mount(
                phase=P.CREATE_INIT,
                src=src,
                target=dest,
                fstype=fstype,
                flags=mflags,
                data=data,
                root=rootfs,
            )
        )
    for name, minor_major in (
        ("null", (1, 3)),
        ("zero", (1, 5)),
        ("full", (1, 7)),
        ("random", (1, 8)),
        ("urandom", (1, 9)),
        ("tty", (5, 0)),
    ):
        ops.append(
            Mknod(
                phase=P.CREATE_INIT,
                path=f"/dev/{name}",
                root=rootfs,
                type="c",
                major=minor_major[0],
                minor=minor_major[1],
                mode=0o666,
            )
        )
    for target, link in (
        ("/proc/self/fd", "/dev/fd"),
        ("/proc/self/fd/0", "/dev/stdin"),
        ("/proc/self/fd/1", "/dev/stdout"),
        ("/proc/self/fd/2", "/dev/stderr"),
        ("pts/ptmx", "/dev/ptmx"),
    ):
        ops.append(Symlink(phase=P.CREATE_INIT, target=target, path=link, root=rootfs))
    ops.append(Chdir(phase=P.CREATE_PIVOT, path=rootfs))
    ops.append(PivotRoot(phase=P.CREATE_PIVOT))
    ops.append(Umount(phase=P.CREATE_PIVOT, target=".", flags=("MNT_DETACH",)))
    ops.append(Chdir(phase=P.CREATE_PIVOT, path="/"))
    for i, path in enumerate(
        ("/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware", "/proc/acpi")
    ):
        ops.append(MaskPath(phase=P.CREATE_PIVOT, path=path, source=f"/linux/maskedPaths/{i}"))
    for i, path in enumerate(
        ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")
    ):
        ops.append(
            ReadonlyPath(phase=P.CREATE_PIVOT, path=path, source=f"/linux/readonlyPaths/{i}")
        )
    ops.append(
        Remount(
            phase=P.CREATE_PIVOT,
            src=None,
            target="/",
            source="/root/readonly",
            flags=("MS_BIND", "MS_REMOUNT", "MS_RDONLY"),
        )
    )
    ops.append(WaitStart(phase=P.CREATE_PIVOT))
    ops.append(Start(phase=P.START))
    ops.append(Chdir(phase=P.EXEC, path="/", source="/process/cwd"))
    ops.append(Setgroups(phase=P.EXEC, gids=(), source="/process/user"))
    ops.append(Setresgid(phase=P.EXEC, rgid=0, egid=0, sgid=0, source="/process/user/gid"))
    ops.append(Setresuid(phase=P.EXEC, ruid=0, euid=0, suid=0, source="/process/user/uid"))
    ops.append(
        SetCapabilities(
            phase=P.EXEC,
            bounding=CAPS,
            effective=CAPS,
            permitted=CAPS,
            inheritable=0,
            ambient=0,
            source="/process/capabilities",
        )
    )
    ops.append(Umask(phase=P.EXEC, mask=0o022))
    ops.append(NoNewPrivs(phase=P.EXEC, source="/process/noNewPrivileges"))
    ops += extra_exec or []
    ops.append(
        Execve(phase=P.EXEC, path=argv[0], argv=tuple(argv), env=ENV, source="/process/args")
    )
    ops.append(Kill(phase=P.DELETE))
    if cgroups:
        ops += [CgroupRemove(phase=P.DELETE, path=p) for p in cg]
    return ops
