"""The user process: its executable, interpreter, working directory and ids.

``execve`` in a fresh container fails with a bare ENOENT when the binary is
missing, and with the same ENOENT when only its ``#!`` interpreter or ELF
loader is (a dynamically linked binary copied into a static image): the
error names the binary, which exists. These checks resolve ``args[0]`` with
the container's PATH, inside the rootfs, as the container user.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator

from ocitool.check.context import CheckContext
from ocitool.check.creds import R_OK, X_OK, Creds, to_host
from ocitool.check.elf import interpreter
from ocitool.check.registry import Finding, check
from ocitool.check.walk import Blocked, Walked, walk
from ocitool.plan.ops.process import Chdir, Execve
from ocitool.records import Record

_MAX_INTERPRETERS = 5


class Resolved(Record):
    """args[0] looked up in the rootfs: the file found, or why nothing was."""

    name: str
    found: Walked | None  # the executable (a regular, executable file)
    shown: str  # its container path, or the last candidate tried
    problem: str | None = None  # why the lookup failed


def _candidates(ctx: CheckContext, name: str, cwd: str) -> list[str]:
    if "/" in name:
        return [name if name.startswith("/") else os.path.join(cwd, name)]
    return [os.path.join(cwd, d or ".", name) for d in ctx.path_var.split(":")]


def _why(walked: Walked, shown: str, creds: Creds | None) -> str:
    if walked.blocked is not None:
        b = walked.blocked
        if b.errno == errno.ENOENT and b.shown == shown:
            return f"{shown} does not exist"
        return b.describe(creds)
    st = walked.st
    assert st is not None
    if not stat.S_ISREG(st.st_mode):
        return f"{shown} is not a regular file"
    mode = stat.S_IMODE(st.st_mode)
    who = creds.describe() if creds else "the container user"
    return f"{who} may not execute {shown} (mode {mode:04o}, owner {st.st_uid}:{st.st_gid})"


def resolve(ctx: CheckContext, name: str, cwd: str) -> Resolved:
    """Find ``name`` as the executor's lookup would (exe.resolve_executable), in the rootfs."""
    creds = ctx.process_creds
    first: tuple[Walked, str] | None = None
    for cand in _candidates(ctx, name, cwd):
        shown = os.path.normpath(cand)
        done = walk(shown, creds, ctx.rootfs)
        ok = (
            done.blocked is None
            and done.st is not None
            and stat.S_ISREG(done.st.st_mode)
            and (
                creds is None
                or creds.may(done.st.st_mode, done.st.st_uid, done.st.st_gid, X_OK, is_dir=False)
            )
            and done.st.st_mode & 0o111
        )
        if ok:
            return Resolved(name=name, found=done, shown=shown)
        missing = done.blocked is not None and done.blocked.errno == errno.ENOENT
        if first is None or (not missing and first[0].blocked is not None):
            first = (done, shown)  # report a found-but-unusable file before a missing one
    if first is None:
        return Resolved(name=name, found=None, shown=name, problem=f"{name} is empty")
    done, shown = first
    if "/" not in name and done.blocked is not None and done.blocked.errno == errno.ENOENT:
        # the PATH value is an environment value: never in a diagnostic (ocitool.redact)
        problem = f"{name} is not in the rootfs on the container's PATH"
        return Resolved(name=name, found=None, shown=shown, problem=problem)
    return Resolved(name=name, found=None, shown=shown, problem=_why(done, shown, creds))


def _cwd(ctx: CheckContext) -> str:
    return ctx.spec.process.cwd if ctx.spec.process else "/"


def _program(ctx: CheckContext) -> tuple[int, Resolved] | None:
    """(index of the execve op, args[0] resolved in the rootfs), looked up once per context;
    None without an execve, or when a hook could still provide the program."""
    if "program" not in ctx.memo:
        found = next(iter(ctx.each(Execve)), None)
        ctx.memo["program"] = (
            None
            if found is None or _has_start_hooks(ctx)
            else (found[0], resolve(ctx, found[1].path, _cwd(ctx)))
        )
    value: tuple[int, Resolved] | None = ctx.memo["program"]
    return value


def _has_start_hooks(ctx: CheckContext) -> bool:
    hooks = ctx.spec.hooks
    return hooks is not None and bool(hooks.start_container or hooks.create_container)


@check(
    "OCH201",
    "executable-not-found",
    "error",
    fix="fix process.args[0] (an absolute path, or a name on the container's PATH), add the "
    "program to the image, or make it executable for the container user",
)
def executable_not_found(ctx: CheckContext) -> Iterator[Finding]:
    """process.args[0] does not resolve to an executable file in the rootfs.

    The lookup uses the container's PATH (from process.env) inside the
    rootfs, and execute permission is the container user's, through the user
    namespace's id maps. A hook that creates the program (createContainer,
    startContainer) makes this a warning-free miss, so the check stays quiet
    then.
    """
    found = _program(ctx)
    if found is not None and found[1].found is None:
        index, res = found
        yield Finding("/process/args/0", res.problem or f"{res.name} not found", index)


@check(
    "OCH202",
    "interpreter-missing",
    "error",
    fix="add the interpreter (or the dynamic loader and its libraries) to the image, or use a "
    "statically linked program",
)
def interpreter_missing(ctx: CheckContext) -> Iterator[Finding]:
    """The executable's ``#!`` interpreter or ELF loader (PT_INTERP) is not in the rootfs.

    execve fails with ENOENT, which reads as if the program itself were
    missing: the classic case is a dynamically linked binary in a static
    (busybox, scratch) image.
    """
    found = _program(ctx)
    if found is None or found[1].found is None:
        return
    index, res = found
    creds = ctx.process_creds
    host_path, shown = found[1].found.path, res.shown
    for _ in range(_MAX_INTERPRETERS):
        interp = interpreter(host_path)
        if interp is None:
            return
        kind, path = interp
        done = walk(path, creds, ctx.rootfs)
        what = "#! interpreter" if kind == "#!" else "ELF loader (PT_INTERP)"
        if done.blocked is not None or done.st is None:
            reason = _why(done, path, creds)
            yield Finding(
                "/process/args/0", f"{shown}: its {what} {path} is missing: {reason}", index
            )
            return
        if creds is not None and not creds.may(
            done.st.st_mode,
            done.st.st_uid,
            done.st.st_gid,
            R_OK if kind != "#!" else X_OK,
            is_dir=False,
        ):
            yield Finding(
                "/process/args/0", f"{shown}: its {what} {path}: {_why(done, path, creds)}", index
            )
            return
        host_path, shown = done.path, path


@check(
    "OCH203",
    "cwd-unreachable",
    "error",
    fix="create process.cwd in the image, or make it and its parents searchable by the "
    "container user",
)
def cwd_unreachable(ctx: CheckContext) -> Iterator[Finding]:
    """process.cwd is missing from the rootfs, not a directory, or cannot be entered.

    The chdir happens after the credentials change and fails with ENOENT,
    ENOTDIR or EACCES, which runc reports without saying which component.
    """
    if ctx.spec.process is None or _has_start_hooks(ctx):
        return
    for index, op in ctx.each(Chdir):
        if op.phase.value != "exec":
            continue
        # whoever the plan has made the process by then: the user, or still the init
        dropped = any(o.name == "setresuid" and o.phase.value == "exec" for o in ctx.ops[:index])
        creds = ctx.process_creds if dropped else ctx.init_creds
        done = walk(op.path, creds, ctx.rootfs)
        blocked: Blocked | None = done.blocked
        if blocked is None and done.st is not None:
            if not stat.S_ISDIR(done.st.st_mode):
                yield Finding("/process/cwd", f"{op.path} is not a directory", index)
            elif creds is not None and not creds.may(
                done.st.st_mode, done.st.st_uid, done.st.st_gid, X_OK, is_dir=True
            ):
                yield Finding(
                    "/process/cwd",
                    f"{creds.describe()} cannot enter {op.path} (mode "
                    f"{stat.S_IMODE(done.st.st_mode):04o}, owner {done.st.st_uid}:{done.st.st_gid})",
                    index,
                )
            continue
        if blocked is not None:
            yield Finding("/process/cwd", blocked.describe(creds), index)


@check(
    "OCH204",
    "root-unmapped",
    "error",
    fix="map container id 0 in linux.uidMappings and linux.gidMappings",
)
def root_unmapped(ctx: CheckContext) -> Iterator[Finding]:
    """The user namespace does not map the container's root (uid or gid 0).

    The init becomes the container's root to make the mounts
    (setresuid(0)/setresgid(0) in the new namespace), which fails with
    EINVAL when 0 is not mapped. (An unmapped process.user is refused when
    the plan is made, OCI338.)
    """
    if not ctx.userns or ctx.userns_joined:
        return
    for kind, mapping, pointer in (
        ("uid", ctx.uid_map, "/linux/uidMappings"),
        ("gid", ctx.gid_map, "/linux/gidMappings"),
    ):
        if to_host(0, mapping or ()) is not None:
            continue
        index = next((i for i, op in enumerate(ctx.ops) if op.name == f"setres{kind}"), None)
        yield Finding(
            pointer, f"container root ({kind} 0) is not mapped in the user namespace", index
        )
