"""Run the runtime from a read-only copy of its own files before a container can see it.

CVE-2019-5736 class. The container's init (until its ``execve``) and every
``exec`` joiner are clones of the runtime, a host Python process. A process
in the container that holds CAP_SYS_PTRACE passes the kernel's
ptrace_may_access() check even against a non-dumpable process, so once it
can see one of ours (a joined pid namespace; ``exec`` into a created
container; every ``exec`` joiner) it can open:

- ``/proc/PID/exe``: the interpreter; reopened for writing once it is no
  longer being executed (ETXTBSY), the next runtime run executes whatever
  was written;
- ``/proc/PID/map_files/*`` (with CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE):
  every mapped file: libpython, libc, ld.so, each extension module;
- ``/proc/PID/fd/*``, ``cwd`` and ``root``.

A Python process cannot swap the files behind its own mappings, so the
runtime re-executes itself once, from files that cannot be written:

stage 1 (:func:`ensure`, the command as started): ``open_tree(OPEN_TREE_CLONE
| AT_RECURSIVE)`` of ``/`` makes a detached copy of the whole mount tree
(same files, new mount objects, in no mount namespace: nothing can mount
over it or remount it), and ``mount_setattr(MOUNT_ATTR_RDONLY, AT_RECURSIVE)``
makes every mount of the copy read-only. O_PATH fds of the real root and
working directory are kept open across ``execve``; the process changes its
root to the copy (``fchdir`` + ``chroot``) and executes the same command
line again.

stage 2 (:func:`ensure` again, in the new image): the kernel loaded the
interpreter, ld.so and every library from the copy, so ``/proc/PID/exe`` and
``map_files`` resolve to read-only mounts and open for writing fails with
EROFS. cffi's backend and the extension modules the container-start path may
import later (:data:`STDLIB_EXTENSIONS`, derived from the code by
tools/gen_sealed_extensions.py) are mapped while the root is still the copy;
then the process returns
to the real root and working directory and closes the two fds. It stays in
the host's mount namespace (hooks, mount propagation and file writes are
unchanged); only what it has mapped comes from the copy.

:func:`verify` runs before a process a container can see is cloned or forked:
every file-backed mapping must be on a read-only mount (checked through
``/proc/self/map_files``), else the command fails (OCI530) instead of
exposing a writable host file. This is what keeps a later import of an
extension module from silently reopening the hole.

A foreground run (create and start in one command) whose init is alone in a
new pid namespace skips the re-execution (:func:`observable`, :func:`waive`):
nothing in a container can see its processes, provided ``exec`` waits for the
init's ``execve`` (:data:`INIT_UNSEALED`). That keeps ``run`` and ``ocitool
exec`` at their old cost; ``create`` and ``exec`` always pay one more
interpreter start.

This is runc 1.1's idea (re-execute from a read-only bind mount of its own
binary) applied to every file an interpreter maps; docs/security.md has the
threat model, what runc and crun do, and what remains.
"""

from __future__ import annotations

import _imp
import os
import sys

from ocitool.exec import hostwrite
from ocitool.exec._sealed_extensions import STDLIB_EXTENSIONS
from ocitool.exec.syscalls import error_errno, exec_error
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from ocitool.exec.syscalls import Syscalls

# The variable that tells stage 2 which fds hold the real root and cwd ("ROOT,CWD").
FDS_ENV = "_OCITOOL_SEALED_FDS"
# The variable that tells stage 2 it runs from a sealed memfd copy (rootless).
MEMFD_ENV = "_OCITOOL_SEALED_MEMFD"

EPERM = 1
EINVAL = 22
MFD_CLOEXEC = 0x1
MFD_ALLOW_SEALING = 0x2
MFD_EXEC = 0x10
# F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE: nothing can change it again.
SEALS = 0x1 | 0x2 | 0x4 | 0x8

AT_FDCWD = -100
AT_EMPTY_PATH = 0x1000
AT_RECURSIVE = 0x8000
OPEN_TREE_CLONE = 1
OPEN_TREE_CLOEXEC = 0o2000000
MOUNT_ATTR_RDONLY = 0x1
ST_RDONLY = 1

# The standard library's C modules the commands which seal may import later (on a
# plan-cache miss, for a terminal or console socket, a seccomp listener, schema
# validation): derived from the code by tools/gen_sealed_extensions.py. Stage 2 maps the
# ones that are files (dlopen, without running their init) while the root is still the
# read-only copy; a later import finds the object already loaded under the same path and
# maps nothing new. verify() fails closed on anything missing there.
_pinned: list[object] = []  # the dlopen handles: the objects stay mapped from the copy


def _error(message: str, hint: str) -> Exception:
    return exec_error(f"cannot seal the runtime: {message}", "OCI530", hint=hint)


_state: dict[str, Any] = {"sealed": False, "waived": False, "rootless": False, "exe": None}


def ensure(sys_: Syscalls) -> None:
    """Make this process run from the read-only copy: re-execute (stage 1, does not
    return) or finish the switch after that re-execution (stage 2)."""
    if not resume(sys_):
        _reexec(sys_)  # does not return


def resume(sys_: Syscalls) -> bool:
    """Stage 2: if this process is the re-executed one, map cffi's backend and
    :data:`STDLIB_EXTENSIONS` from the copy and return to the real root. True when this
    process runs from the copy.

    Call it before anything reads the host's mount table: until the switch is
    finished, ``/proc/self/mountinfo`` shows no mount (the root is a detached tree)."""
    fds = os.environb.get(FDS_ENV.encode())
    if fds is not None:
        _return_to_root(sys_, fds)
        _state["sealed"] = True
    elif os.environb.get(MEMFD_ENV.encode()) is not None:
        _resume_rootless(sys_)
    return bool(_state["sealed"])


def is_sealed() -> bool:
    return bool(_state["sealed"])


_IN_CONTAINER_HOOKS = ("prestart", "createRuntime", "createContainer", "startContainer")


def observable(ops: list[Any] | tuple[Any, ...]) -> bool:
    """Could a process in a container see a runtime process of a *foreground* run of
    this plan (create and start in one command) before the init's ``execve``?

    No only when the init is alone in a new pid namespace: no joined pid namespace
    (its other processes would see it from the fork on), a pid namespace of its own
    (sharing the host's, it is in plain sight: seal), and no hook that runs before
    ``execve`` (a hook may start a process in the container's namespaces). ``exec``
    joins such a container only once its init has exec'd (:data:`INIT_UNSEALED`).
    """
    from ocitool.exec.flags import CLONE, clone_flags

    new_pid = False
    for op in ops:
        if op.name == "setns" and "CLONE_NEWPID" in str(getattr(op, "nstype", "")):
            return True
        if op.name in ("clone", "unshare"):
            new_pid |= bool(clone_flags(getattr(op, "flags", ())) & CLONE["CLONE_NEWPID"])
        if op.name == "hook" and getattr(op, "kind", "") in _IN_CONTAINER_HOOKS:
            return True
    return not new_pid


def waive() -> None:
    """The caller established (:func:`observable`) that no container can see this
    process's clones before they exec: :func:`verify` lets them through unsealed."""
    _state["waived"] = True


# The state-file mark of a container whose init is an unsealed runtime until its execve
# (a foreground run that waived sealing): ``exec`` waits for it to go before it joins.
INIT_UNSEALED = "init_unsealed"


def _reexec(sys_: Syscalls) -> None:
    exe = sys.executable
    argv = list(getattr(sys, "orig_argv", []))
    if not exe or not argv:
        raise _error("the interpreter's path is unknown", "run ocitool with an absolute python3")
    try:
        cwd = os.getcwd()
    except OSError:
        cwd = "/"  # deleted: the fd below still returns to it
    if not hostwrite.privileged_over_host():
        # also where open_tree would work: root of a user namespace that owns its mount
        # namespace (podman's, rootless) cannot read /proc/self/map_files, so the
        # read-only copy could not be verified; only the interpreter matters there
        try:
            _seal_rootless(sys_, exe, argv)  # returns only when no re-execution is needed
        except Exception as exc:  # noqa: BLE001 - ExecError/OSError: the message says which
            raise _error(
                getattr(exc, "message", str(exc)),
                "a rootless runtime copies its interpreter into a sealed memfd "
                "(memfd_create, F_ADD_SEALS: Linux 3.17+) and executes the copy",
            ) from None
        return
    try:
        root, here = _enter_copy(sys_, cwd)
    except Exception as exc:  # noqa: BLE001 - ExecError/OSError: the message says which
        raise _error(
            getattr(exc, "message", str(exc)),
            "it needs root (CAP_SYS_ADMIN) and Linux 5.12+ (open_tree, mount_setattr)",
        ) from None
    sys_.execve(exe, [exe, *argv[1:]], _environment(f"{FDS_ENV}={root},{here}"))


def _environment(extra: str) -> list[str]:
    env = [
        k.decode("utf-8", "surrogateescape") + "=" + v.decode("utf-8", "surrogateescape")
        for k, v in os.environb.items()
    ]
    env.append(extra)
    return env


def _seal_rootless(sys_: Syscalls, exe: str, argv: list[str]) -> None:
    """No privilege over the host (ocitool/exec/hostwrite.py has why only the
    interpreter matters then): a runtime whose interpreter a container could write
    re-executes from a sealed memfd copy of it, as runc does when rootless; one that no
    container can write stays as it is."""
    fd = sys_.open("/proc/self/exe", os.O_RDONLY | os.O_CLOEXEC)
    try:
        st = sys_.fstat(fd)
        if not hostwrite.container_may_write(st.st_uid, st.st_mode):
            _state.update(sealed=True, rootless=True, exe=(st.st_dev, st.st_ino))
            return
        copy = _sealed_copy(sys_, fd, st.st_size)
    finally:
        sys_.close(fd)
    sys_.fexecve(copy, [exe, *argv[1:]], _environment(f"{MEMFD_ENV}=1"))


def _sealed_copy(sys_: Syscalls, src: int, size: int) -> int:
    """A memfd holding the ``size`` bytes of ``src``, sealed against every change."""
    try:
        fd = sys_.memfd_create("ocitool-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC)
    except Exception as exc:  # noqa: BLE001 - before Linux 6.3 MFD_EXEC is unknown
        if error_errno(exc) != EINVAL:
            raise
        fd = sys_.memfd_create("ocitool-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING)
    done = 0
    while done < size:
        chunk = sys_.read(src, min(size - done, 1 << 20))
        if not chunk:
            break
        while chunk:
            n = sys_.write(fd, chunk)
            chunk = chunk[n:]
            done += n
    sys_.file_seals(fd, SEALS)
    return fd


def _resume_rootless(sys_: Syscalls) -> None:
    """Stage 2 of :func:`_seal_rootless`: the interpreter must be a sealed memfd."""
    os.environ.pop(MEMFD_ENV, None)  # unsetenv too: hooks and the container must not inherit it
    fd = sys_.open("/proc/self/exe", os.O_RDONLY | os.O_CLOEXEC)
    try:
        seals = sys_.file_seals(fd)
        st = sys_.fstat(fd)
    finally:
        sys_.close(fd)
    if seals & SEALS != SEALS:
        raise _error("the interpreter is not a sealed copy", "do not set it by hand")
    _state.update(sealed=True, rootless=True, exe=(st.st_dev, st.st_ino))


def _enter_copy(sys_: Syscalls, cwd: str) -> tuple[int, int]:
    """Root (and cwd) into a read-only clone of the mount tree; O_PATH fds of the real
    root and cwd, inheritable, to come back with."""
    tree = sys_.open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC)
    try:
        sys_.mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0, 0, 0)
        root = sys_.open("/", os.O_PATH | os.O_DIRECTORY)
        here = sys_.open(".", os.O_PATH | os.O_DIRECTORY)
        os.set_inheritable(root, True)
        os.set_inheritable(here, True)
        sys_.fchdir(tree)
        sys_.chroot(".")
        try:  # the same directory in the copy: `python -m` puts it on sys.path
            sys_.chdir(cwd)
        except Exception:  # noqa: BLE001 - not in the copy (an unbindable mount)
            sys_.chdir("/")
    finally:
        sys_.close(tree)
    return root, here


def _return_to_root(sys_: Syscalls, fds: bytes) -> None:
    os.environ.pop(FDS_ENV, None)  # unsetenv too: hooks and the container must not inherit it
    try:
        root, here = (int(x) for x in fds.split(b","))
    except ValueError:
        raise _error(f"{FDS_ENV} is malformed", "do not set it by hand") from None
    if not os.statvfs("/proc/self/exe").f_flag & ST_RDONLY:
        raise _error("the interpreter is not on a read-only mount", "do not set it by hand")
    _map_from_copy()
    sys_.fchdir(root)
    sys_.chroot(".")
    sys_.fchdir(here)
    sys_.close(root)
    sys_.close(here)


def _map_from_copy() -> None:
    from ocitool.exec._ffi import ffi  # imports cffi's backend, from the copy

    dynload = next((p for p in sys.path if p.endswith("/lib-dynload")), "")
    suffix = _imp.extension_suffixes()[0]
    for name in STDLIB_EXTENSIONS if dynload else ():
        if name in sys.builtin_module_names:
            continue  # part of the interpreter: nothing to map (and a failed dlopen is slow)
        try:  # noqa: SIM105 - contextlib costs an import on the hot path
            _pinned.append(ffi.dlopen(f"{dynload}/{name}{suffix}"))
        except OSError:
            pass  # built into this interpreter, or not shipped: nothing to map


def writable_mappings() -> list[str]:
    """Paths of this process's file-backed mappings that are not on a read-only mount.

    One check per run of consecutive mappings of the same path (the segments
    ld.so maps from one open file); ``statvfs`` through ``map_files``
    reaches the mapped file itself, whatever its path resolves to now.
    """
    bad: list[str] = []
    last = ""
    with open("/proc/self/maps", "rb") as f:
        lines = f.read().splitlines()
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) < 6 or parts[5][:1] != b"/":
            last = ""
            continue
        path = parts[5].decode("utf-8", "surrogateescape")
        if path == last:
            continue
        last = path
        start, _, end = parts[0].partition(b"-")
        entry = f"/proc/self/map_files/{int(start, 16):x}-{int(end, 16):x}"
        try:
            readonly = os.statvfs(entry).f_flag & ST_RDONLY
        except OSError:
            readonly = 0
        if not readonly:
            bad.append(path)
    exe_ro = 0
    try:  # noqa: SIM105 - contextlib costs an import on the hot path
        exe_ro = os.statvfs("/proc/self/exe").f_flag & ST_RDONLY
    except OSError:
        pass
    if not exe_ro:
        bad.insert(0, "/proc/self/exe")
    return bad


def verify() -> None:
    """Fail (OCI530) unless every file this process maps is on a read-only mount: call it
    before cloning or forking a process that a container can see."""
    if _state["waived"]:
        return
    if _state["rootless"]:
        _verify_rootless()
        return
    bad = writable_mappings()
    if bad:
        shown = ", ".join(sorted(set(bad))[:5])
        raise exec_error(
            f"the runtime maps writable host files a container could reach: {shown}",
            "OCI530",
            hint="start the runtime through ocitool-runc/ocitool (they re-execute from a "
            "read-only copy); a standard-library module imported late: run "
            "tools/gen_sealed_extensions.py",
        )


def _verify_rootless() -> None:
    """Rootless: the interpreter is still the sealed copy, or a file no container of
    ours can write, and this process still has no privilege over the host."""
    try:
        st = os.stat("/proc/self/exe")
        same = (st.st_dev, st.st_ino) == _state["exe"]
    except OSError:
        same = False
    if not same or hostwrite.privileged_over_host():
        raise exec_error(
            "the runtime's interpreter is no longer the one checked when it was sealed",
            "OCI530",
            hint="start the runtime through ocitool-runc/ocitool",
        )
