"""The real kernel backend: :class:`Syscalls` over libc and raw ``syscall()`` through cffi.

ABI mode with an out-of-line generated module (``_ffi.py``, from
``tools/gen_ffi.py``): no compiler at install time and ~0.5 ms to import,
where an in-line ``cdef`` would cost ~48 ms on every container start.
Kernel calls that glibc does not wrap (pivot_root, capset, seccomp,
openat2, ...) use ``syscall(2)`` with per-architecture numbers.
"""

from __future__ import annotations

import os

from ocitool.exec.syscalls import TYPE_CHECKING, Raw, Syscalls, sys_error
from ocitool.kernel import syscall_numbers
from ocitool.kernel.constants import AT_FDCWD, CLONE_INTO_CGROUP

if TYPE_CHECKING:
    from typing import Any


class _Bindings:
    """Stands in for ``ffi``/``lib`` until one is used, then loads both and steps aside.

    WHY: delete, kill's checks and start use this backend mostly for plain file calls
    (rmdir, unlink, open), and loading cffi's backend costs ~0.5 ms of each command's
    start-up. The first attribute access rebinds the module globals to the real
    objects, so later calls pay nothing.
    """

    def __init__(self, which: str) -> None:
        self.which = which

    def __getattr__(self, name: str) -> Any:
        global ffi, lib
        from ocitool.exec._ffi import ffi as real_ffi

        ffi, lib = real_ffi, real_ffi.dlopen(None)
        return getattr(ffi if self.which == "ffi" else lib, name)


ffi: Any = _Bindings("ffi")
lib: Any = _Bindings("lib")

# Numbers of the calls made with syscall(2), for this machine's architecture (an
# unknown one is refused, OCI507); generated from seccomp/tables (tools/gen_kernel_constants.py).
MACHINE = os.uname().machine
NR: dict[str, int] = syscall_numbers(MACHINE)

_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_AT_FDCWD = AT_FDCWD


def hx(v: int) -> Raw:
    return Raw(hex(v))


def _b(s: str | None) -> object:
    return ffi.NULL if s is None else s.encode()


def _long(v: int) -> object:
    return ffi.cast("long", v)


def raw_syscall(name: str, shown: tuple[object, ...], *args: object) -> int:
    """``syscall(NR_name, args...)``; returns the result or raises ExecError showing ``shown``."""
    res = lib.syscall(
        _long(NR[name]),
        *[a if isinstance(a, ffi.CData) else _long(int(a)) for a in args],  # type: ignore[call-overload]
    )
    if res < 0:
        raise sys_error(name, shown, ffi.errno)
    return int(res)


def _check(res: int, name: str, *args: object) -> int:
    if res < 0:
        raise sys_error(name, args, ffi.errno)
    return int(res)


def clone_process(flags: int) -> int:
    """fork(2) with namespace flags, as one ``clone`` syscall (0 in the child).

    Why raw clone: CLONE_NEWPID|CLONE_NEWUSER in the same call makes the child
    PID 1 of a new pid namespace owned by its new user namespace, without the
    double fork runc needs. It skips Python's fork hooks, which is safe only
    while the process has one thread -- the executor never starts threads.
    """
    sigchld = 17
    res = lib.syscall(
        _long(NR["clone"]), _long(flags | sigchld), _long(0), _long(0), _long(0), _long(0)
    )
    if res < 0:
        raise sys_error("clone", (hx(flags | sigchld),), ffi.errno)
    return int(res)


def clone3_into_cgroup(flags: int, cgroup_fd: int) -> int:
    """Like :func:`clone_process`, but the child starts inside the cgroup2 directory
    ``cgroup_fd`` (clone3 with CLONE_INTO_CGROUP, Linux 5.7+): no migration, so none
    of the RCU grace period that the first write to cgroup.procs waits for."""
    args = ffi.new("unsigned long long[11]")  # struct clone_args, CLONE_ARGS_SIZE_VER2
    args[0] = flags | CLONE_INTO_CGROUP
    args[4] = 17  # exit_signal: SIGCHLD
    args[10] = cgroup_fd
    res = lib.syscall(_long(NR["clone3"]), args, ffi.cast("size_t", 88))
    if res < 0:
        raise sys_error(
            "clone3",
            (Raw(f"{{flags={hx(flags)}|CLONE_INTO_CGROUP, cgroup={cgroup_fd}}}"), 88),
            ffi.errno,
        )
    return int(res)


class LinuxSyscalls(Syscalls):
    """Applies calls to the running kernel."""

    # --- namespaces
    def unshare(self, flags: int) -> None:
        _check(lib.unshare(flags), "unshare", hx(flags))

    def setns(self, fd: int, nstype: int) -> None:
        _check(lib.setns(fd, nstype), "setns", fd, hx(nstype))

    # --- files
    def open(self, path: str, flags: int, mode: int = 0o777, dir_fd: int | None = None) -> int:
        try:
            return os.open(path, flags, mode, dir_fd=dir_fd)
        except OSError as exc:
            raise sys_error("open", (path, hx(flags)), exc.errno or 0) from None

    def openat2(self, dir_fd: int, path: str, flags: int, mode: int, resolve: int) -> int:
        how = ffi.new("struct open_how_ *", {"flags": flags, "mode": mode, "resolve": resolve})
        p = ffi.new("char[]", path.encode())
        return raw_syscall(
            "openat2",
            (dir_fd, path, hx(flags), hx(resolve)),
            ffi.cast("int", dir_fd),
            p,
            how,
            ffi.cast("size_t", ffi.sizeof("struct open_how_")),
        )

    def openat2_try(self, dir_fd: int, path: str, flags: int, mode: int, resolve: int) -> int:
        how = ffi.new("struct open_how_ *", {"flags": flags, "mode": mode, "resolve": resolve})
        res = lib.syscall(
            _long(NR["openat2"]),
            ffi.cast("int", dir_fd),
            ffi.new("char[]", path.encode()),
            how,
            ffi.cast("size_t", ffi.sizeof("struct open_how_")),
        )
        return int(res) if res >= 0 else -ffi.errno

    def close(self, fd: int) -> None:
        try:
            os.close(fd)
        except OSError as exc:
            raise sys_error("close", (fd,), exc.errno or 0) from None

    def read(self, fd: int, size: int) -> bytes:
        try:
            return os.read(fd, size)
        except OSError as exc:
            raise sys_error("read", (fd, size), exc.errno or 0) from None

    def write(self, fd: int, data: bytes) -> int:
        try:
            return os.write(fd, data)
        except OSError as exc:
            raise sys_error("write", (fd, data), exc.errno or 0) from None

    def pipe2(self, flags: int) -> tuple[int, int]:
        try:
            return os.pipe2(flags)
        except OSError as exc:
            raise sys_error("pipe2", (flags,), exc.errno or 0) from None

    def dup2(self, fd: int, fd2: int) -> None:
        try:
            os.dup2(fd, fd2)
        except OSError as exc:
            raise sys_error("dup2", (fd, fd2), exc.errno or 0) from None

    def write_file(self, path: str, data: bytes, dir_fd: int | None = None) -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC, dir_fd=dir_fd)
        except OSError as exc:
            raise sys_error("open", (path, "O_WRONLY"), exc.errno or 0) from None
        try:
            os.write(fd, data)
        except OSError as exc:
            raise sys_error("write", (path, data), exc.errno or 0) from None
        finally:
            os.close(fd)

    def read_file(self, path: str) -> bytes:
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError as exc:
            raise sys_error("read", (path,), exc.errno or 0) from None

    def mkdir(self, path: str, mode: int = 0o755, dir_fd: int | None = None) -> None:
        try:
            os.mkdir(path, mode, dir_fd=dir_fd)
        except OSError as exc:
            raise sys_error("mkdir", (path, oct(mode)), exc.errno or 0) from None

    def rmdir(self, path: str, dir_fd: int | None = None) -> None:
        try:
            os.rmdir(path, dir_fd=dir_fd)
        except OSError as exc:
            raise sys_error("rmdir", (path,), exc.errno or 0) from None

    def unlink(self, path: str, dir_fd: int | None = None) -> None:
        try:
            os.unlink(path, dir_fd=dir_fd)
        except OSError as exc:
            raise sys_error("unlink", (path,), exc.errno or 0) from None

    def symlink(self, target: str, path: str, dir_fd: int | None = None) -> None:
        try:
            os.symlink(target, path, dir_fd=dir_fd)
        except OSError as exc:
            raise sys_error("symlink", (target, path), exc.errno or 0) from None

    def mknod(self, path: str, mode: int, dev: int) -> None:
        _check(lib.mknod(path.encode(), mode, dev), "mknod", path, oct(mode), dev)

    def chmod(self, path: str, mode: int) -> None:
        try:
            os.chmod(path, mode)
        except OSError as exc:
            raise sys_error("chmod", (path, oct(mode)), exc.errno or 0) from None

    def chown(self, path: str, uid: int, gid: int) -> None:
        try:
            os.chown(path, uid, gid, follow_symlinks=False)
        except OSError as exc:
            raise sys_error("lchown", (path, uid, gid), exc.errno or 0) from None

    def chdir(self, path: str) -> None:
        try:
            os.chdir(path)
        except OSError as exc:
            raise sys_error("chdir", (path,), exc.errno or 0) from None

    def fchdir(self, fd: int) -> None:
        try:
            os.fchdir(fd)
        except OSError as exc:
            raise sys_error("fchdir", (fd,), exc.errno or 0) from None

    def umask(self, mask: int) -> int:
        return os.umask(mask)

    def chroot(self, path: str) -> None:
        try:
            os.chroot(path)
        except OSError as exc:
            raise sys_error("chroot", (path,), exc.errno or 0) from None

    def close_range(self, first: int, last: int, flags: int) -> None:
        raw_syscall(
            "close_range",
            (first, last, hx(flags)),
            ffi.cast("unsigned int", first),
            ffi.cast("unsigned int", last),
            ffi.cast("unsigned int", flags),
        )

    # --- mounts
    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        res = lib.mount(_b(source), target.encode(), _b(fstype), flags, _b(data))
        _check(res, "mount", source, target, fstype, hx(flags), data)

    def umount2(self, target: str, flags: int) -> None:
        _check(lib.umount2(target.encode(), flags), "umount2", target, flags)

    def pivot_root(self, new_root: str, put_old: str) -> None:
        raw_syscall(
            "pivot_root",
            (new_root, put_old),
            ffi.new("char[]", new_root.encode()),
            ffi.new("char[]", put_old.encode()),
        )

    def open_tree(self, dir_fd: int, path: str, flags: int) -> int:
        return raw_syscall(
            "open_tree",
            (dir_fd, path, hx(flags)),
            ffi.cast("int", dir_fd),
            ffi.new("char[]", path.encode()),
            ffi.cast("unsigned int", flags),
        )

    def move_mount(
        self, from_fd: int, from_path: str, to_fd: int, to_path: str, flags: int
    ) -> None:
        raw_syscall(
            "move_mount",
            (from_fd, from_path, to_fd, to_path, hx(flags)),
            ffi.cast("int", from_fd),
            ffi.new("char[]", from_path.encode()),
            ffi.cast("int", to_fd),
            ffi.new("char[]", to_path.encode()),
            ffi.cast("unsigned int", flags),
        )

    def mount_setattr(
        self,
        dir_fd: int,
        path: str,
        flags: int,
        attr_set: int,
        attr_clr: int,
        propagation: int,
        userns_fd: int,
    ) -> None:
        attr = ffi.new(
            "struct mount_attr_ *",
            {
                "attr_set": attr_set,
                "attr_clr": attr_clr,
                "propagation": propagation,
                "userns_fd": userns_fd,
            },
        )
        raw_syscall(
            "mount_setattr",
            (
                dir_fd,
                path,
                hx(flags),
                Raw(f"{{set={attr_set:#x}, clr={attr_clr:#x}, propagation={propagation:#x}}}"),
            ),
            ffi.cast("int", dir_fd),
            ffi.new("char[]", path.encode()),
            ffi.cast("unsigned int", flags),
            attr,
            ffi.cast("size_t", ffi.sizeof("struct mount_attr_")),
        )

    def bpf_prog_load(
        self, prog_type: int, insns: bytes, license: str, expected_attach_type: int = 0
    ) -> int:
        code = ffi.new("char[]", insns)
        lic = ffi.new("char[]", license.encode())
        log = ffi.new("char[]", 65536)
        attr = ffi.new("unsigned char[128]")
        words = ffi.cast("unsigned int *", attr)
        ptrs = ffi.cast("unsigned long long *", attr)
        words[0] = prog_type  # union bpf_attr, BPF_PROG_LOAD layout
        words[1] = len(insns) // 8
        ptrs[1] = int(ffi.cast("uintptr_t", code))
        ptrs[2] = int(ffi.cast("uintptr_t", lic))
        words[6] = 1  # log_level
        words[7] = 65536  # log_size
        ptrs[4] = int(ffi.cast("uintptr_t", log))
        words[17] = expected_attach_type
        res = lib.syscall(_long(NR["bpf"]), ffi.cast("int", 5), attr, ffi.cast("unsigned int", 128))
        if res < 0:
            verifier = ffi.string(log).decode("utf-8", "replace").strip().splitlines()[-3:]
            raise sys_error(
                "bpf",
                (
                    Raw("BPF_PROG_LOAD"),
                    Raw(f"{{insn_cnt={len(insns) // 8}}}"),
                    Raw(" / ".join(verifier) or "-"),
                ),
                ffi.errno,
            )
        return int(res)

    def bpf_prog_attach(self, target_fd: int, prog_fd: int, attach_type: int, flags: int) -> None:
        attr = ffi.new("unsigned char[128]")
        words = ffi.cast("unsigned int *", attr)
        words[0], words[1], words[2], words[3] = target_fd, prog_fd, attach_type, flags
        raw_syscall(
            "bpf",
            (Raw("BPF_PROG_ATTACH"), target_fd, prog_fd, attach_type, hx(flags)),
            ffi.cast("int", 8),
            attr,
            ffi.cast("unsigned int", 128),
        )

    # --- identity and privileges
    def sethostname(self, name: str) -> None:
        raw = name.encode()
        _check(lib.sethostname(raw, len(raw)), "sethostname", name, len(raw))

    def setdomainname(self, name: str) -> None:
        raw = name.encode()
        _check(lib.setdomainname(raw, len(raw)), "setdomainname", name, len(raw))

    def capget(self, pid: int = 0) -> tuple[int, int, int]:
        hdr = ffi.new("struct cap_header_ *", {"version": _LINUX_CAPABILITY_VERSION_3, "pid": pid})
        data = ffi.new("struct cap_data_[2]")
        raw_syscall("capget", (pid,), hdr, data)
        return (
            data[0].effective | data[1].effective << 32,
            data[0].permitted | data[1].permitted << 32,
            data[0].inheritable | data[1].inheritable << 32,
        )

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        hdr = ffi.new("struct cap_header_ *", {"version": _LINUX_CAPABILITY_VERSION_3, "pid": 0})
        m = 0xFFFFFFFF
        data = ffi.new(
            "struct cap_data_[2]",
            [
                {
                    "effective": effective & m,
                    "permitted": permitted & m,
                    "inheritable": inheritable & m,
                },
                {
                    "effective": effective >> 32 & m,
                    "permitted": permitted >> 32 & m,
                    "inheritable": inheritable >> 32 & m,
                },
            ],
        )
        raw_syscall("capset", (hx(effective), hx(permitted), hx(inheritable)), hdr, data)

    def join_session_keyring(self, name: str) -> int:
        cname = ffi.new("char[]", name.encode())
        return raw_syscall("keyctl", (Raw("KEYCTL_JOIN_SESSION_KEYRING"), name), 1, cname)

    def keyring_perm(self, key: int) -> int:
        buf = ffi.new("char[]", 512)
        n = raw_syscall("keyctl", (Raw("KEYCTL_DESCRIBE"), key), 6, key, buf, 512)
        fields = ffi.string(buf, max(n - 1, 0)).decode("utf-8", "replace").split(";")
        if len(fields) < 5:
            raise sys_error("keyctl", (Raw("KEYCTL_DESCRIBE"), key), 22)  # EINVAL
        return int(fields[3], 16)

    def keyring_setperm(self, key: int, perm: int) -> None:
        raw_syscall("keyctl", (Raw("KEYCTL_SETPERM"), key, hx(perm)), 5, key, perm)

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        return _check(
            lib.prctl(option, arg2, arg3, arg4, arg5), "prctl", option, arg2, arg3, arg4, arg5
        )

    def seccomp(self, operation: int, flags: int, program: bytes) -> int:
        buf = ffi.new("char[]", program)
        prog = ffi.new("struct sock_fprog_ *", {"len": len(program) // 8, "filter": buf})
        shown = (operation, hx(flags), Raw(f"{{len={len(program) // 8}}}"))
        return raw_syscall(
            "seccomp",
            shown,
            ffi.cast("unsigned int", operation),
            ffi.cast("unsigned int", flags),
            prog,
        )

    def prlimit(self, pid: int, resource: int, soft: int, hard: int) -> None:
        new = ffi.new("struct rlimit64_ *", {"cur": soft, "max": hard})
        raw_syscall(
            "prlimit64",
            (pid, resource, Raw(f"{{{soft}, {hard}}}")),
            ffi.cast("int", pid),
            ffi.cast("int", resource),
            new,
            ffi.NULL,
        )

    def setresuid(self, ruid: int, euid: int, suid: int) -> None:
        _check(lib.setresuid(ruid, euid, suid), "setresuid", ruid, euid, suid)

    def setresgid(self, rgid: int, egid: int, sgid: int) -> None:
        _check(lib.setresgid(rgid, egid, sgid), "setresgid", rgid, egid, sgid)

    def setgroups(self, groups: list[int]) -> None:
        arr = ffi.new("unsigned int[]", groups or [0])
        _check(lib.setgroups(len(groups), arr), "setgroups", len(groups), str(groups))

    def personality(self, persona: int) -> int:
        return _check(lib.personality(persona), "personality", hx(persona))

    def sched_setattr(
        self,
        pid: int,
        policy: int,
        flags: int = 0,
        nice: int = 0,
        priority: int = 0,
        runtime: int = 0,
        deadline: int = 0,
        period: int = 0,
    ) -> None:
        attr = ffi.new(
            "struct sched_attr_ *",
            {
                "size": ffi.sizeof("struct sched_attr_"),
                "sched_policy": policy,
                "sched_flags": flags,
                "sched_nice": nice,
                "sched_priority": priority,
                "sched_runtime": runtime,
                "sched_deadline": deadline,
                "sched_period": period,
            },
        )
        raw_syscall(
            "sched_setattr",
            (pid, Raw(f"{{policy={policy}, nice={nice}}}")),
            ffi.cast("int", pid),
            attr,
            ffi.cast("unsigned int", 0),
        )

    def ioprio_set(self, which: int, who: int, ioprio: int) -> None:
        raw_syscall(
            "ioprio_set",
            (which, who, ioprio),
            ffi.cast("int", which),
            ffi.cast("int", who),
            ffi.cast("int", ioprio),
        )

    def sched_setaffinity(self, pid: int, cpus: list[int]) -> None:
        size = max([*cpus, 0]) // 8 + 1
        mask = bytearray(max(size, 128))
        for c in cpus:
            mask[c // 8] |= 1 << (c % 8)
        buf = ffi.new("unsigned char[]", bytes(mask))
        _check(lib.sched_setaffinity(pid, len(mask), buf), "sched_setaffinity", pid, str(cpus))

    def set_mempolicy(self, mode: int, nodes: list[int]) -> None:
        words = ffi.new("unsigned long[]", max(nodes, default=0) // 64 + 1)
        for n in nodes:
            words[n // 64] |= 1 << (n % 64)
        maxnode = (max(nodes, default=-1) + 2) if nodes else 0
        raw_syscall(
            "set_mempolicy",
            (mode, str(nodes)),
            ffi.cast("int", mode),
            words if nodes else ffi.NULL,
            ffi.cast("unsigned long", maxnode),
        )

    def fstat(self, fd: int) -> Any:
        try:
            return os.fstat(fd)
        except OSError as exc:
            raise sys_error("fstat", (fd,), exc.errno or 0) from None

    def stat(self, path: str, follow_symlinks: bool = True) -> Any:
        try:
            return os.stat(path, follow_symlinks=follow_symlinks)
        except OSError as exc:
            raise sys_error(
                "stat" if follow_symlinks else "lstat", (path,), exc.errno or 0
            ) from None

    def try_stat(self, path: str) -> Any:
        try:
            return os.stat(path)
        except OSError as exc:  # no ExecError made: a lookup's misses are normal
            return -(exc.errno or 2)  # ENOENT

    def statvfs_flags(self, path: str) -> int:
        try:
            return int(os.statvfs(path).f_flag)
        except OSError as exc:
            raise sys_error("statvfs", (path,), exc.errno or 0) from None

    def listdir(self, path: str) -> list[str]:
        try:
            return os.listdir(path)
        except OSError as exc:
            raise sys_error("getdents64", (path,), exc.errno or 0) from None

    def subdirs(self, path: str) -> list[str]:
        try:
            return [e.path for e in os.scandir(path) if e.is_dir(follow_symlinks=False)]
        except OSError as exc:
            raise sys_error("getdents64", (path,), exc.errno or 0) from None

    # --- unix sockets
    def unix_connect(self, path: str) -> Any:
        import socket

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
        except OSError as exc:
            sock.close()
            raise sys_error("connect", (path,), exc.errno or 0) from None
        return sock

    def socketpair(self) -> tuple[Any, Any]:
        import socket

        try:
            return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        except OSError as exc:
            raise sys_error("socketpair", (Raw("AF_UNIX"),), exc.errno or 0) from None

    def send_fds(self, sock: Any, data: bytes, fds: list[int]) -> None:
        import socket  # already imported by whoever made ``sock`` (no file access)

        try:
            socket.send_fds(sock, [data], fds)
        except OSError as exc:
            raise sys_error("sendmsg", (sock.fileno(), data[:64]), exc.errno or 0) from None

    def recv_fds(self, sock: Any, size: int, maxfds: int) -> tuple[bytes, list[int]]:
        import socket

        try:
            data, fds, _, _ = socket.recv_fds(sock, size, maxfds)
        except OSError as exc:
            raise sys_error("recvmsg", (sock.fileno(), size), exc.errno or 0) from None
        return data, list(fds)

    # --- processes
    def fork(self) -> int:
        try:
            return os.fork()
        except OSError as exc:
            raise sys_error("fork", (), exc.errno or 0) from None

    def clone(self, flags: int, cgroup_fd: int = -1) -> int:
        if cgroup_fd >= 0:
            return clone3_into_cgroup(flags, cgroup_fd)
        return clone_process(flags)

    def waitpid(self, pid: int, options: int = 0) -> tuple[int, int]:
        return os.waitpid(pid, options)  # ChildProcessError is an answer, not a failure

    def kill(self, pid: int, sig: int) -> None:
        try:
            os.kill(pid, sig)
        except OSError as exc:
            raise sys_error("kill", (pid, sig), exc.errno or 0) from None

    # pidfd_open and pidfd_send_signal through the interpreter's own wrappers (Linux, 3.9+):
    # ``kill``, a command engines call often, then never loads cffi's backend
    def pidfd_open(self, pid: int, flags: int = 0) -> int:
        try:
            return os.pidfd_open(pid, flags)
        except OSError as exc:
            raise sys_error("pidfd_open", (pid, flags), exc.errno or 0) from None

    def pidfd_send_signal(self, pidfd: int, sig: int) -> None:
        import _signal  # the C module: "signal" imports enum

        try:
            _signal.pidfd_send_signal(pidfd, sig)
        except OSError as exc:
            raise sys_error("pidfd_send_signal", (pidfd, sig), exc.errno or 0) from None

    def execve(self, path: str, argv: list[str], env: list[str]) -> None:
        try:
            os.execve(path, argv, dict(e.split("=", 1) for e in env if "=" in e))
        except OSError as exc:
            raise sys_error("execve", (path, str(argv)), exc.errno or 0) from None

    def fexecve(self, fd: int, argv: list[str], env: list[str]) -> None:
        try:
            os.execve(fd, argv, dict(e.split("=", 1) for e in env if "=" in e))
        except OSError as exc:
            raise sys_error("fexecve", (fd, str(argv)), exc.errno or 0) from None

    def memfd_create(self, name: str, flags: int) -> int:
        try:
            return os.memfd_create(name, flags)
        except OSError as exc:
            raise sys_error("memfd_create", (name, hx(flags)), exc.errno or 0) from None

    def file_seals(self, fd: int, add: int = 0) -> int:
        import fcntl

        try:
            if add:
                fcntl.fcntl(fd, fcntl.F_ADD_SEALS, add)
            return fcntl.fcntl(fd, fcntl.F_GET_SEALS)
        except OSError as exc:
            raise sys_error("fcntl", (fd, hx(add)), exc.errno or 0) from None

    # --- systemd (D-Bus; jeepney is loaded only when a plan has a systemd op)
    def systemd_start_unit(
        self, unit: str, mode: str, properties: list[tuple[str, tuple[str, object]]]
    ) -> None:
        from ocitool.exec import systemd_bus

        systemd_bus.start_transient_unit(unit, mode, properties)

    def systemd_set_unit_properties(
        self, unit: str, properties: list[tuple[str, tuple[str, object]]]
    ) -> None:
        from ocitool.exec import systemd_bus

        systemd_bus.set_unit_properties(unit, properties)

    def systemd_stop_unit(self, unit: str, mode: str) -> None:
        from ocitool.exec import systemd_bus

        systemd_bus.stop_unit(unit, mode)

    def run_helper(self, path: str, argv: list[str]) -> tuple[int, bytes]:
        import subprocess

        try:
            proc = subprocess.run(
                argv,
                executable=path,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                close_fds=True,
                check=False,
            )
        except OSError as exc:
            raise sys_error("execve", (path, argv), exc.errno or 0) from None
        code = proc.returncode
        return (128 - code if code < 0 else code), proc.stderr
