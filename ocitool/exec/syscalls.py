"""The one interface through which the executor touches the kernel (DESIGN.md rule 2).

Op appliers call only these methods, so a test can swap the real backend
(:mod:`ocitool.exec.linux`) for a recording one or a fault-injecting one.
Every failure is an :class:`ocitool.errors.ExecError` naming the call, its
arguments and the errno, so a rollback message can say exactly what broke.
"""

from __future__ import annotations

import errno as _errno
import os
import sys

from ocitool.kernel import constants as _K
from ocitool.redact import op_text  # loaded up front: the init cannot import after pivot_root
from ocitool.typecheck import TYPE_CHECKING as TYPE_CHECKING  # re-exported for exec modules

if TYPE_CHECKING:
    from typing import Any, Protocol

    from ocitool.errors import ExecError
else:
    Protocol = object  # the checkers see typing.Protocol; the hot path never imports typing

# ocitool.errors (dataclasses, typing) is imported only when an error is made:
# the executor is the hot path, and errors are the exception.

# Constants the appliers share (values are the Linux UAPI ones; CLONE_NEW* come
# from ocitool.kernel.constants, generated from the kernel headers).
CLONE_NEWNS = _K.CLONE_NEWNS
CLONE_NEWCGROUP = _K.CLONE_NEWCGROUP
CLONE_NEWUTS = _K.CLONE_NEWUTS
CLONE_NEWIPC = _K.CLONE_NEWIPC
CLONE_NEWUSER = _K.CLONE_NEWUSER
CLONE_NEWPID = _K.CLONE_NEWPID
CLONE_NEWNET = _K.CLONE_NEWNET
CLONE_NEWTIME = _K.CLONE_NEWTIME

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_KEEPCAPS = 8
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_RAISE = 2
PR_CAP_AMBIENT_CLEAR_ALL = 4

SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
SECCOMP_FILTER_FLAG_LOG = 2
SECCOMP_FILTER_FLAG_SPEC_ALLOW = 4
SECCOMP_FILTER_FLAG_NEW_LISTENER = 8
SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 32

RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10

CLOSE_RANGE_CLOEXEC = 4


def errno_name(code: int) -> str:
    return _errno.errorcode.get(code, f"errno {code}")


class Raw(str):
    """An argument shown as-is (flags, hex values), not as a quoted string."""


def fmt_arg(value: object) -> str:
    """strace-like rendering of one argument."""
    if value is None:
        return "NULL"
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, int) and value > 4096:
        return hex(value)
    return str(value)


class InitError(Exception):
    """The error the container init raises once pivot_root has hidden ocitool's files.

    After pivot_root the init cannot import ocitool.errors any more; it only
    needs to send the message and errno to the runtime, which turns them into
    a real ExecError. Same attributes as ExecError for that purpose.
    """

    def __init__(self, message: str, code: str = "OCI503", **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.pointer = extra.get("pointer")
        self.hint = extra.get("hint")


def exec_error(message: str, code: str = "OCI503", **extra: object) -> Exception:
    """An :class:`ocitool.errors.ExecError` (imported on demand; an :class:`InitError`
    where it cannot be imported any more: in the init after pivot_root)."""
    try:
        from ocitool.errors import ExecError
    except ImportError:
        return InitError(message, code, **extra)
    return ExecError(message=message, code=code, **extra)  # type: ignore[arg-type]


def sys_error(name: str, args: tuple[object, ...], code: int) -> ExecError:
    """The error for a failed call: ``mount("proc", "/proc", ...) = -1 EPERM (...)``."""
    call = f"{name}({', '.join(fmt_arg(a) for a in args)})"
    err = exec_error(f"{call} failed: {errno_name(code)} ({os.strerror(code)})", "OCI501")
    err.errno = code  # type: ignore[attr-defined]
    err.syscall = name  # type: ignore[attr-defined]
    return err  # type: ignore[return-value]


def op_error(index: int, op: Any, cause: str, code: int | None = None) -> ExecError:
    """The error a failed op becomes: which op, its text line, its config pointer."""
    where = f" (from {op.source})" if op.source else ""
    err: ExecError = exec_error(  # type: ignore[assignment]
        f"op #{index} {op.name} [{op.phase.value}]{where} failed: {op_text(op)}: {cause}",
        "OCI502",
        pointer=op.source,
        hint="everything applied before it was undone",
    )
    err.op_index = index  # type: ignore[attr-defined]
    err.errno = code  # type: ignore[attr-defined]
    err.cause = cause  # type: ignore[attr-defined]
    return err


def is_exec_error(exc: BaseException) -> bool:
    """isinstance(exc, ExecError) without importing ocitool.errors: if it was never
    imported, no ExecError can exist."""
    if isinstance(exc, InitError):
        return True
    mod = sys.modules.get("ocitool.errors")
    return mod is not None and isinstance(exc, mod.ExecError)


def error_errno(err: BaseException) -> int | None:
    """The errno carried by an ExecError/OSError, if any."""
    code = getattr(err, "errno", None)
    return code if isinstance(code, int) else None


class Syscalls(Protocol):
    """The executor's kernel interface: a typing Protocol (for mypy) whose backends
    (linux, recording, fault) subclass it explicitly and implement every method.

    ``begin_op``/``end_op`` bracket each plan op so a fault-injecting backend
    can fail "op k" and a recording one can group calls by op.
    """

    def begin_op(self, index: int, op: object) -> None:
        """Called before op ``index`` is applied."""
        return None

    def end_op(self, index: int, op: object) -> None:
        """Called after op ``index`` was applied."""
        return None

    # --- namespaces
    def unshare(self, flags: int) -> None:
        raise NotImplementedError

    def setns(self, fd: int, nstype: int) -> None:
        raise NotImplementedError

    # --- files
    def open(self, path: str, flags: int, mode: int = 0o777, dir_fd: int | None = None) -> int:
        raise NotImplementedError

    def openat2(self, dir_fd: int, path: str, flags: int, mode: int, resolve: int) -> int:
        raise NotImplementedError

    def openat2_try(self, dir_fd: int, path: str, flags: int, mode: int, resolve: int) -> int:
        """openat2 that returns -errno instead of raising: "is it there?" is a normal
        question (missing masked paths, mount points still to create), not an error."""
        try:
            return self.openat2(dir_fd, path, flags, mode, resolve)
        except Exception as exc:
            code = error_errno(exc)
            if code is None:
                raise
            return -code

    def close(self, fd: int) -> None:
        raise NotImplementedError

    def read(self, fd: int, size: int) -> bytes:
        raise NotImplementedError

    def write(self, fd: int, data: bytes) -> int:
        raise NotImplementedError

    def pipe2(self, flags: int) -> tuple[int, int]:
        """(read end, write end) of a new pipe."""
        raise NotImplementedError

    def dup2(self, fd: int, fd2: int) -> None:
        """Make ``fd2`` a copy of ``fd`` (without O_CLOEXEC: it survives an execve)."""
        raise NotImplementedError

    def write_file(self, path: str, data: bytes, dir_fd: int | None = None) -> None:
        """open(O_WRONLY) + write + close: cgroup files, /proc knobs, id maps."""
        raise NotImplementedError

    def read_file(self, path: str) -> bytes:
        """open(O_RDONLY) + read to the end + close: cgroup state files, cgroup.procs."""
        raise NotImplementedError

    def mkdir(self, path: str, mode: int = 0o755, dir_fd: int | None = None) -> None:
        raise NotImplementedError

    def rmdir(self, path: str, dir_fd: int | None = None) -> None:
        raise NotImplementedError

    def unlink(self, path: str, dir_fd: int | None = None) -> None:
        raise NotImplementedError

    def symlink(self, target: str, path: str, dir_fd: int | None = None) -> None:
        raise NotImplementedError

    def mknod(self, path: str, mode: int, dev: int) -> None:
        raise NotImplementedError

    def chmod(self, path: str, mode: int) -> None:
        raise NotImplementedError

    def chown(self, path: str, uid: int, gid: int) -> None:
        raise NotImplementedError

    def chdir(self, path: str) -> None:
        raise NotImplementedError

    def fchdir(self, fd: int) -> None:
        raise NotImplementedError

    def umask(self, mask: int) -> int:
        raise NotImplementedError

    def chroot(self, path: str) -> None:
        raise NotImplementedError

    def close_range(self, first: int, last: int, flags: int) -> None:
        raise NotImplementedError

    # --- mounts
    def mount(
        self, source: str | None, target: str, fstype: str | None, flags: int, data: str | None
    ) -> None:
        raise NotImplementedError

    def umount2(self, target: str, flags: int) -> None:
        raise NotImplementedError

    def pivot_root(self, new_root: str, put_old: str) -> None:
        raise NotImplementedError

    def open_tree(self, dir_fd: int, path: str, flags: int) -> int:
        raise NotImplementedError

    def move_mount(
        self, from_fd: int, from_path: str, to_fd: int, to_path: str, flags: int
    ) -> None:
        raise NotImplementedError

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
        raise NotImplementedError

    def bpf_prog_load(
        self, prog_type: int, insns: bytes, license: str, expected_attach_type: int = 0
    ) -> int:
        """bpf(BPF_PROG_LOAD) of ``insns`` (struct bpf_insn array); returns the program fd."""
        raise NotImplementedError

    def bpf_prog_attach(self, target_fd: int, prog_fd: int, attach_type: int, flags: int) -> None:
        raise NotImplementedError

    # --- identity and privileges
    def sethostname(self, name: str) -> None:
        raise NotImplementedError

    def setdomainname(self, name: str) -> None:
        raise NotImplementedError

    def capget(self, pid: int = 0) -> tuple[int, int, int]:
        """(effective, permitted, inheritable) as 64-bit masks."""
        raise NotImplementedError

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        raise NotImplementedError

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        raise NotImplementedError

    def join_session_keyring(self, name: str) -> int:
        """keyctl(KEYCTL_JOIN_SESSION_KEYRING, name): the ring's serial."""
        raise NotImplementedError

    def keyring_perm(self, key: int) -> int:
        """The permission mask of a key (field 4 of keyctl(KEYCTL_DESCRIBE))."""
        raise NotImplementedError

    def keyring_setperm(self, key: int, perm: int) -> None:
        raise NotImplementedError

    def seccomp(self, operation: int, flags: int, program: bytes) -> int:
        """Load a classic BPF program (8-byte sock_filter records); returns the listener fd or 0."""
        raise NotImplementedError

    def prlimit(self, pid: int, resource: int, soft: int, hard: int) -> None:
        raise NotImplementedError

    def setresuid(self, ruid: int, euid: int, suid: int) -> None:
        raise NotImplementedError

    def setresgid(self, rgid: int, egid: int, sgid: int) -> None:
        raise NotImplementedError

    def setgroups(self, groups: list[int]) -> None:
        raise NotImplementedError

    def personality(self, persona: int) -> int:
        raise NotImplementedError

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
        raise NotImplementedError

    def ioprio_set(self, which: int, who: int, ioprio: int) -> None:
        raise NotImplementedError

    def sched_setaffinity(self, pid: int, cpus: list[int]) -> None:
        raise NotImplementedError

    def set_mempolicy(self, mode: int, nodes: list[int]) -> None:
        raise NotImplementedError

    def fstat(self, fd: int) -> Any:
        """os.stat_result of an open fd (type and identity checks)."""
        raise NotImplementedError

    def stat(self, path: str, follow_symlinks: bool = True) -> Any:
        """os.stat_result of ``path`` (lstat with ``follow_symlinks=False``)."""
        raise NotImplementedError

    def try_stat(self, path: str) -> Any:
        """os.stat_result of ``path``, or -errno when it cannot be stat'ed: "is it there?"
        is a normal question (a PATH lookup), not an error."""
        try:
            return self.stat(path)
        except Exception as exc:
            code = error_errno(exc)
            if code is None:
                raise
            return -code

    def statvfs_flags(self, path: str) -> int:
        """statvfs(path).f_flag: the ST_* flags of the mount holding ``path``."""
        raise NotImplementedError

    def listdir(self, path: str) -> list[str]:
        raise NotImplementedError

    def subdirs(self, path: str) -> list[str]:
        """The paths of the directories (not symlinks to them) directly in ``path``."""
        raise NotImplementedError

    # --- unix sockets (console socket, seccomp listener, the host pty's socketpair)
    def unix_connect(self, path: str) -> Any:
        """A connected AF_UNIX stream socket (a ``socket.socket``)."""
        raise NotImplementedError

    def socketpair(self) -> tuple[Any, Any]:
        """Two connected AF_UNIX stream sockets."""
        raise NotImplementedError

    def send_fds(self, sock: Any, data: bytes, fds: list[int]) -> None:
        """sendmsg with ``fds`` in SCM_RIGHTS."""
        raise NotImplementedError

    def recv_fds(self, sock: Any, size: int, maxfds: int) -> tuple[bytes, list[int]]:
        """recvmsg: the data and the fds that came in SCM_RIGHTS."""
        raise NotImplementedError

    # --- processes
    def fork(self) -> int:
        """fork(2): 0 in the child, the child's pid in the parent."""
        raise NotImplementedError

    def clone(self, flags: int, cgroup_fd: int = -1) -> int:
        """A fork-like clone with CLONE_* ``flags``; with ``cgroup_fd`` >= 0, clone3 with
        CLONE_INTO_CGROUP into that cgroup2 directory. 0 in the child."""
        raise NotImplementedError

    def waitpid(self, pid: int, options: int = 0) -> tuple[int, int]:
        """(pid, status); ChildProcessError when there is no such child."""
        raise NotImplementedError

    def kill(self, pid: int, sig: int) -> None:
        raise NotImplementedError

    def pidfd_open(self, pid: int, flags: int = 0) -> int:
        raise NotImplementedError

    def pidfd_send_signal(self, pidfd: int, sig: int) -> None:
        raise NotImplementedError

    def execve(self, path: str, argv: list[str], env: list[str]) -> None:
        raise NotImplementedError

    def fexecve(self, fd: int, argv: list[str], env: list[str]) -> None:
        """Execute the file open at ``fd`` (a sealed memfd copy of the interpreter)."""
        raise NotImplementedError

    def memfd_create(self, name: str, flags: int) -> int:
        raise NotImplementedError

    def file_seals(self, fd: int, add: int = 0) -> int:
        """Add the seals ``add`` (F_ADD_SEALS, when non-zero), then return the file's
        seals (F_GET_SEALS)."""
        raise NotImplementedError

    # --- systemd (the systemd cgroup driver: D-Bus calls to systemd's Manager)
    def systemd_start_unit(
        self, unit: str, mode: str, properties: list[tuple[str, tuple[str, object]]]
    ) -> None:
        """StartTransientUnit with ``properties`` as (name, (signature, value)); waits for
        the job to be ``done``."""
        raise NotImplementedError

    def systemd_set_unit_properties(
        self, unit: str, properties: list[tuple[str, tuple[str, object]]]
    ) -> None:
        """SetUnitProperties(unit, runtime=true, properties): change a running unit's limits."""
        raise NotImplementedError

    def systemd_stop_unit(self, unit: str, mode: str) -> None:
        """StopUnit and wait for the job; a unit that is already gone is not an error."""
        raise NotImplementedError


class NoSyscalls(Syscalls):
    """The backend of a command that makes no kernel call through it (``start`` without
    poststart hooks): it never loads the cffi bindings; any call raises NotImplementedError."""
