"""Op appliers: one function per op name, turning a plan op into Syscalls calls.

The executor never reads the config (DESIGN.md rule 2): everything an
applier needs is in the op. Appliers that change the host register their
undo in ``ctx.rollback``. ``clone``, ``fork``, ``wait_start`` and ``start``
move control between processes and live in :mod:`ocitool.exec.process`.
"""

from __future__ import annotations

import _signal as signal  # the C module: "signal" imports enum (hot path)
import errno as _errno
import stat

from ocitool import lightos as os
from ocitool.exec import flags as F
from ocitool.exec.context import ExecContext
from ocitool.exec.exe import resolve_executable
from ocitool.exec.resolve import RootResolver, check_dev_null, fd_path
from ocitool.exec.state import dumps
from ocitool.exec.syscalls import (
    CLOSE_RANGE_CLOEXEC,
    PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL,
    PR_CAP_AMBIENT_RAISE,
    PR_CAPBSET_DROP,
    PR_SET_DUMPABLE,
    PR_SET_KEEPCAPS,
    PR_SET_NO_NEW_PRIVS,
    SECCOMP_FILTER_FLAG_NEW_LISTENER,
    SECCOMP_SET_MODE_FILTER,
    TYPE_CHECKING,
    error_errno,
    exec_error,
    is_exec_error,
    sys_error,
)
from ocitool.spec.facts import SCHED_POLICIES

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ocitool.exec.syscalls import Syscalls

CAP_SETPCAP = 8
APPLIERS: dict[str, Callable[[Any, ExecContext], None]] = {}

INIT_PID = "{init}"


def applies(
    *names: str,
) -> Callable[[Callable[[Any, ExecContext], None]], Callable[[Any, ExecContext], None]]:
    def register(fn: Callable[[Any, ExecContext], None]) -> Callable[[Any, ExecContext], None]:
        for name in names:
            APPLIERS[name] = fn
        return fn

    return register


def _pid_text(ctx: ExecContext, text: str) -> str:
    return text.replace(INIT_PID, str(ctx.pid))


def resolver(ctx: ExecContext, root: str | None) -> RootResolver:
    """The cached resolver for ``root`` (None: "/" of the current mount namespace)."""
    key = root or "/"
    cache = ctx.resolvers
    res = cache.get(key)
    if res is None:
        res = cache[key] = RootResolver(ctx.sys, key)
    return res


def drop_resolvers(ctx: ExecContext) -> None:
    """pivot_root changes what "/" is: forget cached root fds."""
    for res in ctx.resolvers.values():
        res.close()
    ctx.resolvers = {}


# ---------------------------------------------------------------- generic files
@applies("write_file")
def write_file(op: Any, ctx: ExecContext) -> None:
    ctx.sys.write_file(_pid_text(ctx, op.path), op.value.encode())


# ---------------------------------------------------------------- namespaces
@applies("unshare")
def unshare(op: Any, ctx: ExecContext) -> None:
    ctx.sys.unshare(F.clone_flags(op.flags))


@applies("setns")
def setns(op: Any, ctx: ExecContext) -> None:
    fd = ctx.sys.open(op.path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        ctx.sys.setns(fd, F.clone_flags((op.nstype,)))
    finally:
        ctx.sys.close(fd)


@applies("sethostname")
def sethostname(op: Any, ctx: ExecContext) -> None:
    ctx.sys.sethostname(op.hostname)


@applies("setdomainname")
def setdomainname(op: Any, ctx: ExecContext) -> None:
    ctx.sys.setdomainname(op.domainname)


# ---------------------------------------------------------------- process attributes
@applies("setrlimit")
def setrlimit(op: Any, ctx: ExecContext) -> None:
    ctx.sys.prlimit(0, F.rlimit(op.resource), F.rlim(op.soft), F.rlim(op.hard))


@applies("setresgid")
def setresgid(op: Any, ctx: ExecContext) -> None:
    ctx.sys.setresgid(op.rgid, op.egid, op.sgid)


@applies("setgroups")
def setgroups(op: Any, ctx: ExecContext) -> None:
    ctx.sys.setgroups(list(op.gids))


@applies("setresuid")
def setresuid(op: Any, ctx: ExecContext) -> None:
    ctx.sys.setresuid(op.ruid, op.euid, op.suid)
    if ctx.userns:
        # the uid change made us non-dumpable, and /proc/self would then belong
        # to host root: the init could not write its own oom_score_adj etc.
        ctx.sys.prctl(PR_SET_DUMPABLE, 1)


@applies("keep_caps")
def keep_caps(op: Any, ctx: ExecContext) -> None:
    ctx.sys.prctl(PR_SET_KEEPCAPS, int(op.enable))


@applies("umask")
def umask(op: Any, ctx: ExecContext) -> None:
    ctx.sys.umask(op.mask)


@applies("chdir")
def chdir(op: Any, ctx: ExecContext) -> None:
    """chdir, then prove the cwd is inside the container's root (CVE-2024-21626 class).

    A cwd reached through a leaked host fd (``/proc/self/fd/N``) lies outside
    the process root; getcwd(2) then reports "(unreachable)" and glibc fails
    with ENOENT. We refuse to exec in that case.
    """
    ctx.sys.chdir(op.path)
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = ""
    if not cwd.startswith("/"):
        raise sys_error("chdir: cwd is outside the container root", (op.path,), _errno.EPERM)


@applies("personality")
def personality(op: Any, ctx: ExecContext) -> None:
    ctx.sys.personality(op.value)


@applies("sched_setattr")
def sched_setattr(op: Any, ctx: ExecContext) -> None:
    ctx.sys.sched_setattr(
        0,
        SCHED_POLICIES[op.policy],
        F.sched_flags(op.flags),
        op.nice,
        op.priority,
        op.runtime,
        op.deadline,
        op.period,
    )


@applies("ioprio_set")
def ioprio_set(op: Any, ctx: ExecContext) -> None:
    ctx.sys.ioprio_set(1, 0, op.value)  # IOPRIO_WHO_PROCESS, self


@applies("sched_setaffinity")
def sched_setaffinity(op: Any, ctx: ExecContext) -> None:
    pid = int(_pid_text(ctx, op.pid))
    ctx.sys.sched_setaffinity(pid, F.cpu_list(op.cpus))


@applies("set_mempolicy")
def set_mempolicy(op: Any, ctx: ExecContext) -> None:
    mode = F.MEMPOLICY_MODES[op.mode] | F.mempolicy_flags(op.flags)
    ctx.sys.set_mempolicy(mode, F.cpu_list(op.nodes or ""))


@applies("lsm_label")
def lsm_label(op: Any, ctx: ExecContext) -> None:
    ctx.sys.write_file(op.path, op.value.encode())


# ---------------------------------------------------------------- security
@applies("capabilities")
def capabilities(op: Any, ctx: ExecContext) -> None:
    """Bounding (drop), then effective/permitted/inheritable (capset), then ambient."""
    sys = ctx.sys
    last = F.cap_last_cap()
    # After a switch to a non-root uid (with keep_caps) the effective set is empty,
    # but dropping from the bounding set needs CAP_SETPCAP there: raise it from the
    # permitted set first (runc drops the bounding set before setuid instead).
    eff, perm, inh = sys.capget()
    if not eff >> CAP_SETPCAP & 1 and perm >> CAP_SETPCAP & 1:
        sys.capset(perm, perm, inh)
    for cap in range(last + 1):
        if not op.bounding >> cap & 1:
            sys.prctl(PR_CAPBSET_DROP, cap)
    sys.capset(op.effective, op.permitted, op.inheritable)
    sys.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    for cap in range(last + 1):
        if op.ambient >> cap & 1:
            sys.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap)


@applies("no_new_privs")
def no_new_privs(op: Any, ctx: ExecContext) -> None:
    ctx.sys.prctl(PR_SET_NO_NEW_PRIVS, 1)


@applies("seccomp_load")
def seccomp_load(op: Any, ctx: ExecContext) -> None:
    """Load the filter with its flags; with a listener, send its fd + state to listenerPath."""
    if op.program is not None:
        program = bytes.fromhex(op.program)
    else:
        from ocitool.seccomp.compiler import compile_seccomp

        program = compile_seccomp(dict(op.policy or {})).raw()
    flags = F.seccomp_flags(op.flags)
    if op.listener_path:
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER
    fd = ctx.sys.seccomp(SECCOMP_SET_MODE_FILTER, flags, program)
    if op.listener_path and fd > 0:
        _send_listener(ctx, op.listener_path, fd, op.listener_metadata or "")


def _send_listener(ctx: ExecContext, path: str, fd: int, metadata: str) -> None:
    """runtime-spec (config-linux.md, "seccomp"): send the container process state to
    listenerPath, with the listener fd in SCM_RIGHTS (named "seccompFd").

    The socket was connected by the runtime before the clone (:func:`prepare_init`):
    after pivot_root the host's listenerPath is out of the init's reach.
    """
    pid = ctx.host_pid or os.getpid()
    message = (
        f'{{"ociVersion":"1.3.0","fds":["seccompFd"],"pid":{pid},'
        f'"metadata":{dumps(metadata)},"state":{ctx.state_json or "{}"}}}'
    )
    sock = ctx.listeners.get(path)
    try:
        if sock is None:
            raise sys_error("connect(listenerPath)", (path,), _errno.ENOTCONN)
        ctx.sys.send_fds(sock, message.encode(), [fd])
    except Exception as exc:
        code = error_errno(exc)
        if code is None:
            raise
        raise sys_error("sendmsg(listenerPath)", (path,), code) from None
    finally:
        ctx.sys.close(fd)


def prepare_init(ops: Any, ctx: ExecContext) -> None:
    """Runtime side, before the clone: what the init will need after pivot_root, when it
    can no longer import modules or reach host paths (listener sockets go to
    ``ctx.listeners``; the runtime closes its copies after the clone)."""
    names = {op.name for op in ops}
    if "capabilities" in names:
        F.cap_last_cap()  # read now: after pivot_root it would be the container's /proc
    if "console" in names:
        import ocitool.exec.tty  # noqa: F401

        if ctx.console_socket:
            ctx.listeners["console"] = _connect(ctx, ctx.console_socket)
    if "hook" in names:
        import ocitool.exec.hooks  # noqa: F401
    for op in ops:
        if op.name != "seccomp_load":
            continue
        if op.program is None:
            import ocitool.seccomp.compiler  # noqa: F401
        if op.listener_path:
            ctx.listeners[op.listener_path] = _connect(ctx, op.listener_path)


def _connect(ctx: ExecContext, path: str) -> Any:
    """A connected unix stream socket (made before the clone: see prepare_init)."""
    return ctx.sys.unix_connect(path)


# ---------------------------------------------------------------- hooks
@applies("hook")
def hook(op: Any, ctx: ExecContext) -> None:
    from ocitool.exec.hooks import run_hook

    stdin = ctx.state_json.encode() if op.stdin == "state" else b""
    try:
        run_hook(ctx.sys, op.path, list(op.args), list(op.env), stdin, op.timeout)
    except Exception as exc:
        if is_exec_error(exc) and op.kind in ("poststart", "poststop"):
            os.write(2, f"ocitool: warning: {op.kind} hook: {exc}\n".encode())
            return
        raise


# ---------------------------------------------------------------- cgroups
@applies("cgroup_mkdir")
def cgroup_mkdir(op: Any, ctx: ExecContext) -> None:
    """mkdir -p; the container's own directory is removed by rollback/delete.

    v1 cpuset directories start with empty ``cpuset.cpus``/``cpuset.mems`` and
    refuse tasks until they are filled: ``copy_from_parent`` copies them down.
    """
    missing = []
    leaf = op.path.rstrip("/")
    path = leaf
    while path and not os.path.isdir(path):
        missing.append(path)
        path = os.path.dirname(path)
    for p in reversed(missing):
        try:
            ctx.sys.mkdir(p, 0o755)
        except Exception as exc:
            if error_errno(exc) != _errno.EEXIST:
                raise
            continue
        if p == leaf:  # shared parents (e.g. /ocitool) stay for other containers
            ctx.rollback.push("rmdir_cgroup", [p], f"rmdir {p}")
        for name in getattr(op, "copy_from_parent", ()):
            _copy_from_parent(ctx, p, name)


def _copy_from_parent(ctx: ExecContext, path: str, name: str) -> None:
    with open(os.path.join(path, name), "rb") as f:
        if f.read().strip():
            return
    with open(os.path.join(os.path.dirname(path), name), "rb") as f:
        value = f.read().strip()
    if value:
        ctx.sys.write_file(os.path.join(path, name), value)


@applies("cgroup_write")
def cgroup_write(op: Any, ctx: ExecContext) -> None:
    try:
        ctx.sys.write_file(op.path, op.value.encode())
    except Exception as exc:
        if os.path.basename(op.path) != "cgroup.subtree_control":
            raise
        if error_errno(exc) not in _CONTROLLER_ERRNOS:
            raise
        _enable_one_by_one(op, ctx, exc)


@applies("cgroup_freeze")
def cgroup_freeze(op: Any, ctx: ExecContext) -> None:
    """Write the freezer state, then wait until the kernel reports it (see CgroupFreeze)."""
    import time

    if op.version == "v1":
        state = check = os.path.join(op.path, "freezer.state")
        want = b"FROZEN" if op.frozen else b"THAWED"
        reached = want
    else:
        state = os.path.join(op.path, "cgroup.freeze")
        check = os.path.join(op.path, "cgroup.events")
        want = b"1" if op.frozen else b"0"
        reached = b"frozen " + want
    deadline = time.monotonic() + op.timeout_ms / 1000
    ctx.sys.write_file(state, want)
    while reached not in (line.strip() for line in ctx.sys.read_file(check).split(b"\n")):
        if time.monotonic() > deadline:
            if op.frozen:  # never leave it half frozen
                ctx.sys.write_file(state, b"THAWED" if op.version == "v1" else b"0")
            what = "freezing" if op.frozen else "thawing"
            raise exec_error(f"timed out {what} {op.path}", "OCI510")
        time.sleep(0.001)
        if op.version == "v1":  # v1 says FREEZING meanwhile: write again until it sticks
            ctx.sys.write_file(state, want)


@applies("cgroup_signal")
def cgroup_signal(op: Any, ctx: ExecContext) -> None:
    """Signal every pid the cgroup lists; one that exited meanwhile is no error."""
    sig = F.signal_number(op.signal)
    for pid in sorted(int(x) for x in ctx.sys.read_file(op.path).split()):
        try:
            ctx.sys.kill(pid, sig)
        except Exception as exc:
            if error_errno(exc) != _errno.ESRCH:
                raise


# what cgroup.subtree_control answers for a controller it cannot enable here:
# unknown (EINVAL), not offered by the parent (ENOENT), or not supported
_CONTROLLER_ERRNOS = (_errno.EINVAL, _errno.ENOENT, _errno.EOPNOTSUPP)


def _enable_one_by_one(op: Any, ctx: ExecContext, first: Exception) -> None:
    """The kernel refuses a whole ``+a +b +c`` write when one controller cannot be
    enabled; enable the others one at a time, as runc and crun do. A limit that needs
    a missing controller then fails on its own file, which names it. Nothing enabled
    at all is the first error."""
    enabled = 0
    for token in op.value.split():
        try:
            ctx.sys.write_file(op.path, token.encode())
            enabled += 1
        except Exception as exc:
            if error_errno(exc) not in _CONTROLLER_ERRNOS:
                raise
    if not enabled:
        raise first


@applies("cgroup_join")
def cgroup_join(op: Any, ctx: ExecContext) -> None:
    """Write the init's pid (runtime side) or "0" (the init moving itself) to ``op.path``."""
    ctx.sys.write_file(op.path, _pid_text(ctx, op.pid).encode())


BPF_PROG_TYPE_CGROUP_DEVICE = 15
BPF_CGROUP_DEVICE = 6
BPF_ATTACH_FLAGS = {"BPF_F_ALLOW_OVERRIDE": 1, "BPF_F_ALLOW_MULTI": 2, "BPF_F_REPLACE": 4}


@applies("cgroup_device_program")
def cgroup_device_program(op: Any, ctx: ExecContext) -> None:
    """cgroup v2 device policy: load the compiled program, attach it to the cgroup.

    The attachment holds the program; it goes away with the cgroup directory,
    so there is nothing to undo besides the cgroup itself.
    """
    prog = ctx.sys.bpf_prog_load(
        BPF_PROG_TYPE_CGROUP_DEVICE, bytes.fromhex(op.bytecode), op.license, BPF_CGROUP_DEVICE
    )
    try:
        target = ctx.sys.open(op.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            flags = 0
            for name in op.attach_flags:
                flags |= BPF_ATTACH_FLAGS[name]
            ctx.sys.bpf_prog_attach(target, prog, BPF_CGROUP_DEVICE, flags)
        finally:
            ctx.sys.close(target)
    finally:
        ctx.sys.close(prog)


@applies("cgroup_remove")
def cgroup_remove(op: Any, ctx: ExecContext) -> None:
    from ocitool.exec.rollback import remove_cgroup_tree

    remove_cgroup_tree(ctx.sys, op.path)


@applies("kill")
def kill(op: Any, ctx: ExecContext) -> None:
    if not ctx.pid:
        return
    try:
        ctx.sys.kill(ctx.pid, F.signal_number(op.signal))
    except Exception as exc:
        if error_errno(exc) != _errno.ESRCH:
            raise


# ---------------------------------------------------------------- filesystem
def _target(ctx: ExecContext, op: Any) -> tuple[str, int]:
    """(path to pass to mount(2), fd to close or -1): resolved in op.root when set."""
    if op.root is None:
        return op.target, -1
    fd = resolver(ctx, op.root).open(op.target)
    return fd_path(fd), fd


def _close(ctx: ExecContext, fd: int) -> None:
    if fd >= 0:
        ctx.sys.close(fd)


@applies("mount", "bind_mount", "make_propagation")
def mount(op: Any, ctx: ExecContext) -> None:
    target, fd = _target(ctx, op)
    try:
        ctx.sys.mount(op.src, target, op.fstype, F.mount_flags(op.flags), op.data)
    finally:
        _close(ctx, fd)
    if op.root is None and op.name != "make_propagation" and not ctx.in_init:
        ctx.rollback.push("umount", [op.target], f"umount {op.target}")


@applies("mount_copyup")
def mount_copyup(op: Any, ctx: ExecContext) -> None:
    """tmpfs over a directory, then copy what it hid into it (tmpcopyup)."""
    target, fd = _target(ctx, op)
    try:
        old = ctx.sys.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            ctx.sys.mount(op.src, target, op.fstype, F.mount_flags(op.flags), op.data)
            _copy_tree(ctx.sys, old, target)
        finally:
            ctx.sys.close(old)
    finally:
        _close(ctx, fd)


def _copy_tree(sys: Syscalls, src_fd: int, dst: str) -> None:
    import shutil

    src = fd_path(src_fd)
    for name in sys.listdir(src):
        s = os.path.join(src, name)
        d = os.path.join(dst, name)
        st = sys.stat(s, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            shutil.copytree(s, d, symlinks=True)
        elif stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(s), d)
        else:
            shutil.copy2(s, d, follow_symlinks=False)
        os.lchown(d, st.st_uid, st.st_gid)


@applies("remount")
def remount(op: Any, ctx: ExecContext) -> None:
    target, fd = _target(ctx, op)
    try:
        flags = F.mount_flags(op.flags)
        if op.keep_locked:
            flags |= F.locked_flags(ctx.sys.statvfs_flags(target))
        ctx.sys.mount(None, target, None, flags, op.data)
    finally:
        _close(ctx, fd)


@applies("privatize_parent_mount")
def privatize_parent_mount(op: Any, ctx: ExecContext) -> None:
    """pivot_root(2) refuses a new root whose parent mount is shared (EINVAL): make the
    mount that holds the rootfs's parent directory private, if it is shared."""
    parent = os.path.dirname(os.path.normpath(op.path)) or "/"
    best, shared = "", False
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f.read().decode("utf-8", "replace").splitlines():
            fields = line.split(" - ", 1)[0].split()
            point = fields[4].replace("\\040", " ")
            inside = parent == point or parent.startswith(point.rstrip("/") + "/")
            if inside and len(point) >= len(best):
                best, shared = point, any(x.startswith("shared:") for x in fields[6:])
    if best and shared:
        ctx.sys.mount(None, best, None, F.MOUNT["MS_PRIVATE"], None)


@applies("chroot")
def chroot(op: Any, ctx: ExecContext) -> None:
    """chroot(path) and chdir("/"): without a mount namespace (pivot_root would move the
    host's root), or with ``--no-pivot`` after the rootfs was moved onto "/"."""
    drop_resolvers(ctx)
    ctx.sys.chroot(op.path)
    ctx.sys.chdir("/")


@applies("netdev_move")
def netdev_move(op: Any, ctx: ExecContext) -> None:
    """Move a host interface into the container's netns (iproute2 speaks netlink for us).

    No undo: when the namespace dies with the init, the kernel moves a physical
    device back to the host and destroys a virtual one.
    """
    import subprocess

    target = _pid_text(ctx, op.netns)
    if target.startswith("/proc/"):
        target = target.split("/")[2]
    argv = ["ip", "link", "set", "dev", op.device, "netns", target]
    if op.new_name and op.new_name != op.device:
        argv += ["name", op.new_name]
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        raise sys_error(" ".join(argv), (proc.stderr.strip(),), _errno.EINVAL)


OPEN_TREE_CLONE = 1
AT_EMPTY_PATH = 0x1000
MOVE_MOUNT_F_EMPTY_PATH = 0x4
MOVE_MOUNT_T_EMPTY_PATH = 0x40


@applies("bind_mount_idmapped")
def bind_mount_idmapped(op: Any, ctx: ExecContext) -> None:
    """open_tree(OPEN_TREE_CLONE) + mount_setattr(MOUNT_ATTR_IDMAP) + move_mount.

    The kernel id-maps only a detached mount, through a user namespace fd: the one
    at ``userns_path``, or a throwaway one holding the op's mappings.
    """
    rec = F.AT_RECURSIVE if op.recursive else 0
    sys = ctx.sys
    userns = _idmap_userns(ctx, op)
    try:
        tree = sys.open_tree(-100, op.src, OPEN_TREE_CLONE | os.O_CLOEXEC | rec)
        try:
            sys.mount_setattr(
                tree, "", AT_EMPTY_PATH | rec, F.MOUNT_ATTR["MOUNT_ATTR_IDMAP"], 0, 0, userns
            )
            target = (
                resolver(ctx, op.root).open(op.target)
                if op.root
                else sys.open(op.target, os.O_PATH | os.O_CLOEXEC)
            )
            try:
                sys.move_mount(
                    tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH
                )
            finally:
                sys.close(target)
        finally:
            sys.close(tree)
    finally:
        sys.close(userns)


def _idmap_userns(ctx: ExecContext, op: Any) -> int:
    """An fd of a user namespace with the op's mappings (or of ``userns_path``)."""
    if op.userns_path:
        return ctx.sys.open(op.userns_path, os.O_RDONLY | os.O_CLOEXEC)
    hold_r, hold_w = os.pipe2(os.O_CLOEXEC)
    ready_r, ready_w = os.pipe2(os.O_CLOEXEC)
    pid = ctx.sys.fork()
    if pid == 0:  # holds the namespace open until we have its fd
        code = 1
        try:
            os.close(hold_w)
            os.close(ready_r)
            ctx.sys.unshare(F.CLONE["CLONE_NEWUSER"])
            # our pid as this /proc names it (the init may be in a new pid namespace)
            os.write(ready_w, os.readlink("/proc/self").encode())
            os.read(hold_r, 1)
            code = 0
        finally:
            os._exit(code)
    os.close(hold_r)
    os.close(ready_w)
    try:
        proc_pid = os.read(ready_r, 32).decode()
        if not proc_pid.isdigit():
            raise sys_error("unshare(CLONE_NEWUSER) for an idmapped mount", (), _errno.EPERM)
        ctx.sys.write_file(f"/proc/{proc_pid}/setgroups", b"deny")
        for name, maps in (("uid_map", op.uid_mappings), ("gid_map", op.gid_mappings)):
            text = "".join(f"{c} {h} {n}\n" for c, h, n in maps)
            ctx.sys.write_file(f"/proc/{proc_pid}/{name}", text.encode())
        return ctx.sys.open(f"/proc/{proc_pid}/ns/user", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(ready_r)
        os.close(hold_w)
        ctx.sys.waitpid(pid, 0)


@applies("mount_setattr")
def mount_setattr(op: Any, ctx: ExecContext) -> None:
    target, fd = _target(ctx, op)
    userns_fd = 0
    try:
        if op.userns_path:
            userns_fd = ctx.sys.open(op.userns_path, os.O_RDONLY | os.O_CLOEXEC)
        elif "MOUNT_ATTR_IDMAP" in op.attr_set:
            raise sys_error(
                "mount_setattr: idmap without a user namespace path", (op.target,), _errno.ENOTSUP
            )
        ctx.sys.mount_setattr(
            -100,
            target,
            F.AT_RECURSIVE if op.recursive else 0,
            F.mount_attrs(op.attr_set),
            F.mount_attrs(op.attr_clr),
            0,
            userns_fd,
        )
    finally:
        if userns_fd:
            ctx.sys.close(userns_fd)
        _close(ctx, fd)


@applies("mkdir")
def mkdir(op: Any, ctx: ExecContext) -> None:
    res = resolver(ctx, op.root)
    kind = op.kind
    if kind == "like_source":
        kind = "dir" if op.like is None or os.path.isdir(op.like) else "file"
    if kind == "file":
        res.touch(op.path, op.mode)
    else:
        res.mkdir_all(op.path, op.mode)


@applies("mknod")
def mknod(op: Any, ctx: ExecContext) -> None:
    res = resolver(ctx, op.root)
    res.mkdir_all(os.path.dirname(os.path.normpath("/" + op.path)))
    pfd, name = res.open_parent(op.path)
    try:
        kind = {"c": stat.S_IFCHR, "u": stat.S_IFCHR, "b": stat.S_IFBLK, "p": stat.S_IFIFO}
        try:
            os.mknod(name, kind[op.type] | op.mode, os.makedev(op.major, op.minor), dir_fd=pfd)
        except FileExistsError:
            os.unlink(name, dir_fd=pfd)
            os.mknod(name, kind[op.type] | op.mode, os.makedev(op.major, op.minor), dir_fd=pfd)
        except OSError as exc:
            raise sys_error(
                "mknod", (op.path, oct(op.mode), f"{op.major}:{op.minor}"), exc.errno or 0
            ) from None
    finally:
        ctx.sys.close(pfd)


@applies("chown")
def chown(op: Any, ctx: ExecContext) -> None:
    res = resolver(ctx, op.root)
    pfd, name = res.open_parent(op.path)
    try:
        os.chown(name, op.uid, op.gid, dir_fd=pfd, follow_symlinks=False)
    except OSError as exc:
        raise sys_error("lchown", (op.path, op.uid, op.gid), exc.errno or 0) from None
    finally:
        ctx.sys.close(pfd)


@applies("symlink")
def symlink(op: Any, ctx: ExecContext) -> None:
    res = resolver(ctx, op.root)
    res.mkdir_all(os.path.dirname(os.path.normpath("/" + op.path)))
    pfd, name = res.open_parent(op.path)
    try:
        try:
            ctx.sys.symlink(op.target, name, dir_fd=pfd)
        except Exception as exc:
            if error_errno(exc) != _errno.EEXIST:
                raise
            if os.readlink(name, dir_fd=pfd) != op.target:
                raise
    finally:
        ctx.sys.close(pfd)


@applies("pivot_root")
def pivot_root(op: Any, ctx: ExecContext) -> None:
    drop_resolvers(ctx)
    ctx.sys.pivot_root(op.new_root, op.put_old)


@applies("umount2")
def umount2(op: Any, ctx: ExecContext) -> None:
    ctx.sys.umount2(op.target, F.umount_flags(op.flags))


@applies("mask_path")
def mask_path(op: Any, ctx: ExecContext) -> None:
    """runc's maskPath, with /dev/null verified to be the null device (CVE-2025-31133)."""
    res = resolver(ctx, None)
    fd = res.try_open(op.path)
    if fd < 0:
        return  # missing: nothing to hide
    try:
        if stat.S_ISDIR(ctx.sys.fstat(fd).st_mode):
            ctx.sys.mount("tmpfs", fd_path(fd), "tmpfs", F.MS_RDONLY, None)
            return
        null = check_dev_null(ctx.sys, res)
        try:
            ctx.sys.mount(fd_path(null), fd_path(fd), None, F.MS_BIND, None)
        finally:
            ctx.sys.close(null)
    finally:
        ctx.sys.close(fd)


@applies("readonly_path")
def readonly_path(op: Any, ctx: ExecContext) -> None:
    res = resolver(ctx, None)
    fd = res.try_open(op.path)
    if fd < 0:
        return  # missing: nothing to protect
    try:
        ctx.sys.mount(fd_path(fd), fd_path(fd), None, F.MS_BIND | F.MS_REC, None)
    finally:
        ctx.sys.close(fd)
    fd = res.open(op.path)  # the new bind mount is now on top
    try:
        locked = F.locked_flags(ctx.sys.statvfs_flags(fd_path(fd)))
        ctx.sys.mount(
            None,
            fd_path(fd),
            None,
            F.MS_BIND | F.MS_REMOUNT | F.MS_RDONLY | F.MS_REC | locked,
            None,
        )
    finally:
        ctx.sys.close(fd)


# ---------------------------------------------------------------- terminal
@applies("console")
def console(op: Any, ctx: ExecContext) -> None:
    from ocitool.exec.tty import setup_console

    setup_console(ctx, op.width, op.height)


# ---------------------------------------------------------------- execve
def resolve_exec_early(op: Any, ctx: ExecContext, cwd: str | None = None) -> str:
    """Look up and check the execve op's executable now, for the execve op to run.

    Called just before ``seccomp_load``: a profile may deny the lookup's syscalls
    (openat2 is newer than many profiles), and nothing else runs in between.
    ``cwd``: where relative names are looked up from, if it is not the current one.
    """
    path = resolve_executable(op.path, op.env, ctx.self_exe, cwd)
    ctx.exec_path = path
    return path


@applies("execve")
def execve(op: Any, ctx: ExecContext) -> None:
    """Become the user process: resolve argv[0] safely, sweep fds, reset signals, execve."""
    sys = ctx.sys
    # looked up (and checked) before the seccomp filter, which may deny openat2
    path, ctx.exec_path = ctx.exec_path, None
    path = path or resolve_executable(op.path, op.env, ctx.self_exe)
    # No host fd may survive into the container (CVE-2024-21626 class): everything
    # from fd 3 on, except the preserved fds, is close-on-exec.
    try:
        sys.close_range(3 + ctx.preserve_fds, 0xFFFFFFFF, CLOSE_RANGE_CLOEXEC)
    except Exception as exc:
        # A seccomp profile older than close_range (5.9) refuses it (EPERM, ENOSYS):
        # mark each open fd instead, as runc does when close_range is unavailable.
        if error_errno(exc) not in (_errno.EPERM, _errno.ENOSYS, _errno.EINVAL):
            raise
        _cloexec_from(ctx.sys, 3 + ctx.preserve_fds)
    # Python ignores SIGPIPE and SIGXFSZ; ignored signals survive execve.
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    env = list(op.env)
    if not any(e.startswith("HOME=") for e in env):
        env.append("HOME=" + _home_of(os.getuid()))
    sys.execve(path, list(op.argv), env)


def _cloexec_from(sys: Syscalls, first: int) -> None:
    """Set close-on-exec on every open fd >= ``first`` (the listing's own fd included)."""
    for name in sys.listdir("/proc/self/fd"):
        fd = int(name)
        if fd >= first:
            try:
                os.set_inheritable(fd, False)
            except OSError as exc:
                if exc.errno != _errno.EBADF:  # the listing's fd, closed by now
                    raise sys_error(
                        "fcntl", (fd, "F_SETFD", "FD_CLOEXEC"), exc.errno or 0
                    ) from None


def _home_of(uid: int) -> str:
    """HOME for a process whose env has none, as runc sets it: the user's entry in the
    container's /etc/passwd, else "/". (It depends on the image, so it is decided here,
    not in the pure lowering.)"""
    try:
        with open("/etc/passwd", "rb") as f:
            for raw in f:
                fields = raw.decode("utf-8", "replace").rstrip("\n").split(":")
                if len(fields) >= 6 and fields[2] == str(uid) and fields[5]:
                    return fields[5]
    except OSError:
        pass
    return "/"
