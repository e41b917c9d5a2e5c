"""create, start, run, state, kill, delete: runc's container lifecycle over ocitool's executor."""

from __future__ import annotations

import os
import sys

from ocitool.runc import container as C
from ocitool.runc.args import BOOL, VALUE, Flag, parse
from ocitool.runc.common import Globals, exactly_one, live_status, load_state, parse_signal
from ocitool.runc.errs import error_code, state_error, usage_error
from ocitool.runc.outputs import check_console_socket, check_pid_file, pid_file_error
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

CREATE_FLAGS = (
    Flag(("bundle", "b"), VALUE, help="path to the root of the bundle directory (default: cwd)"),
    Flag(("console-socket",), VALUE, help="unix socket that receives the pty master"),
    Flag(("pid-file",), VALUE, help="file to write the container's pid to"),
    Flag(("no-pivot",), BOOL, help="do not use pivot_root (for ramdisk roots)"),
    Flag(("no-new-keyring",), BOOL, help="do not create a new session keyring"),
    Flag(("preserve-fds",), VALUE, "0", help="pass N extra fds (3..3+N-1) to the container"),
)
RUN_FLAGS = CREATE_FLAGS + (
    Flag(("detach", "d"), BOOL, help="detach from the container's process"),
    Flag(("keep",), BOOL, help="do not delete the container after it exits"),
    Flag(("no-subreaper",), BOOL, help="accepted for compatibility (always a subreaper)"),
)
SIGKILL = 9  # the same number on every Linux architecture; no import of signal (hot path)
DELETE_FLAGS = (Flag(("force", "f"), BOOL, help="kill the container first if it still runs"),)
KILL_FLAGS = (Flag(("all", "a"), BOOL, help="send the signal to every process in the container"),)


# --------------------------------------------------------------------------- create / run
def _prepare(
    g: Globals, cid: str, p: Any, *, detached: bool
) -> tuple[list[Any], dict[str, Any], Any]:
    """(ops, info, ExecContext) for a create or run; refuses what we cannot honour first."""
    from ocitool.exec.context import ExecContext
    from ocitool.exec.linux import LinuxSyscalls

    bundle = os.path.abspath(p.value("bundle") or os.getcwd())
    store = g.store()
    if os.path.isdir(store.dir(cid)):
        raise state_error(message="container with given ID already exists", code="OCI602")
    try:
        preserve = int(p.value("preserve_fds") or 0)
    except ValueError:
        raise usage_error(message="--preserve-fds needs a number", code="OCI010") from None
    no_new_keyring = p.on("no_new_keyring")
    ops, info = C.bundle_ops(
        bundle, cid, g.root, g.systemd_cgroup, p.on("no_pivot"), no_new_keyring
    )
    if no_new_keyring:  # remembered, so that exec does not join a ring of the container's
        info = {**info, "extras": {**info["extras"], "no_new_keyring": True}}
    terminal = info["terminal"]
    sock = p.value("console_socket")
    if terminal and detached and not sock:
        raise usage_error(
            message="cannot allocate tty if runc will detach without setting console socket",
            code="OCI010",
        )
    if sock and not terminal:
        raise usage_error(
            message="cannot use console socket if runc will not detach or allocate tty",
            code="OCI010",
        )
    check_pid_file(p.value("pid_file"))  # before anything starts: a bad flag starts nothing
    check_console_socket(sock)
    ctx = ExecContext(
        sys=LinuxSyscalls(),
        container_id=cid,
        bundle=bundle,
        rootfs=info["rootfs"],
        preserve_fds=preserve,
        console_socket=os.path.abspath(sock) if sock else None,
    )
    g.log.debug(f"plan for {cid}: {len(ops)} ops")
    return ops, info, ctx


def cmd_create(g: Globals, argv: list[str]) -> int:
    p = parse(argv, CREATE_FLAGS)
    cid = exactly_one("create", p.args)
    ops, info, ctx = _prepare(g, cid, p, detached=True)
    from ocitool.exec import lifecycle

    with _explained(ops, ctx.bundle, cid):
        st = lifecycle.create(ops, ctx, g.store(), info["annotations"])
    try:
        _after_create(g, st, info, p.value("pid_file"))
    except BaseException:
        _force_delete(g, cid)
        raise
    return 0


def _after_create(g: Globals, st: Any, info: dict[str, Any], pid_file: str | None) -> None:
    """Save annotations, extras and the config copy; write the pid file last (engines wait on it)."""
    from ocitool.inputs import read_input
    from ocitool.runc.files import write_atomic, write_pid_file

    store = g.store()
    lock = store.lock(st.id)
    try:
        st.annotations = dict(info["annotations"])
        st.extra.update(info["extras"])
        config = read_input(os.path.join(st.bundle, "config.json"), "config")
        write_atomic(C.saved_config_path(store, st.id), config, 0o600)
        store.save(st)
    finally:
        store.unlock(lock)
    if pid_file:
        try:
            write_pid_file(pid_file, st.pid)
        except OSError as exc:  # the caller deletes the container
            raise pid_file_error(pid_file, exc) from None
    # No wait here: lifecycle.create returned only after the init cleared its
    # parent-death signal (the K/C hand-over), so it survives our exit.


def cmd_run(g: Globals, argv: list[str]) -> int:
    p = parse(argv, RUN_FLAGS)
    cid = exactly_one("run", p.args)
    detach = p.on("detach")
    ops, info, ctx = _prepare(g, cid, p, detached=detach)
    from ocitool.exec import sealed

    if detach or sealed.observable(ops):
        sealed.ensure(ctx.sys)  # re-executes from a read-only copy (does not return)
    elif not sealed.is_sealed():
        sealed.waive()  # the init is alone in its pid namespace until it execs
    if detach:
        from ocitool.exec import lifecycle

        with _explained(ops, ctx.bundle, cid):
            st = lifecycle.create(ops, ctx, g.store(), info["annotations"])
        try:
            _after_create(g, st, info, p.value("pid_file"))
            _start(g, cid)
        except BaseException:
            _force_delete(g, cid)
            raise
        return 0
    from ocitool.runc import foreground
    from ocitool.runc.files import write_pid_file

    pid_file = p.value("pid_file")
    relay = None
    if info["terminal"] and not ctx.console_socket and os.isatty(0):
        from ocitool.exec.tty import HostPty  # runc run -t: we hold the pty and relay

        relay = HostPty()
        ctx.fds["pty_slave"] = relay.slave

    def created(st: Any) -> None:
        if pid_file:
            write_pid_file(pid_file, st.pid)

    with _explained(ops, ctx.bundle, cid):
        return foreground.run(
            ops,
            ctx,
            g.store(),
            annotations=info["annotations"],
            extra=info["extras"],
            on_created=created,
            keep=p.on("keep"),
            relay=relay,
        )


class _explained:
    """On a failed create/run, add the preflight's root cause to the error (ocitool.check
    .explain) before it becomes the log line engines read. A class, not contextlib: that
    import costs time on every container start."""

    def __init__(self, ops: list[Any], bundle: str, cid: str) -> None:
        self.ops, self.bundle, self.cid = ops, bundle, cid

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is not None and isinstance(exc, Exception):
            from ocitool.check.explain import annotate

            annotate(exc, self.ops, self.bundle, self.cid)


def _force_delete(g: Globals, cid: str) -> None:
    try:
        _delete(g, cid, force=True)
    except Exception as exc:  # noqa: BLE001 - the first error is the one to report
        g.log.warning(f"cleanup of {cid} after a failed create: {exc}")


# --------------------------------------------------------------------------- start
def cmd_start(g: Globals, argv: list[str]) -> int:
    p = parse(argv, ())
    _start(g, exactly_one("start", p.args))
    return 0


def _start(g: Globals, cid: str) -> None:
    from ocitool.exec import lifecycle
    from ocitool.exec.context import ExecContext
    from ocitool.exec.syscalls import NoSyscalls, Syscalls

    store = g.store()
    st = load_state(store, cid)
    status = live_status(st)
    if status == "paused":
        raise state_error(message="cannot start a container in the paused state", code="OCI605")
    if status == "running":
        raise state_error(message="cannot start an already running container", code="OCI605")
    if status == "stopped":
        raise state_error(message="cannot start a container that has stopped", code="OCI605")
    if status != "created":
        raise state_error(message=f"cannot start a container in the {status} state", code="OCI605")
    ops: list[Any] = []
    # without poststart hooks start makes no call through it (NoSyscalls implements none)
    sys_: Syscalls = NoSyscalls()  # type: ignore[abstract]
    if C.has_hooks(st, "poststart"):
        from ocitool.exec.linux import LinuxSyscalls

        ops = _relowered_ops(store, st)
        sys_ = LinuxSyscalls()
    ctx = ExecContext(sys=sys_, container_id=cid, bundle=st.bundle, rootfs=st.rootfs)
    lifecycle.start(ops, ctx, store)


def _relowered_ops(store: Any, st: Any) -> list[Any]:
    data = C.saved_config(store, st)
    _, spec = C.spec_from_data(data, os.path.join(st.bundle, "config.json"))
    return list(C.lower_spec(spec, st.id, st.bundle, C.systemd_driver(st)).ops)


# --------------------------------------------------------------------------- state
def state_dict(st: Any, status: str) -> dict[str, Any]:
    data = st.to_json()
    data["status"] = status
    data["pid"] = st.pid if status in ("created", "running", "paused") else 0
    return {
        "ociVersion": data["ociVersion"],
        "id": data["id"],
        "pid": data["pid"],
        "status": status,
        "bundle": data["bundle"],
        "rootfs": data["rootfs"],
        "created": data["created"],
        "owner": data["owner"],
        "annotations": data.get("annotations") or {},
    }


def cmd_state(g: Globals, argv: list[str]) -> int:
    from ocitool.jsonlite import dumps_indented

    p = parse(argv, ())
    cid = exactly_one("state", p.args)
    st = load_state(g.store(), cid)
    status = live_status(st)
    sys.stdout.write(dumps_indented(state_dict(st, status)) + "\n")
    return 0


# --------------------------------------------------------------------------- kill
def cmd_kill(g: Globals, argv: list[str]) -> int:
    p = parse(argv, KILL_FLAGS)
    if not 1 <= len(p.args) <= 2:
        raise usage_error(
            message='"kill" requires a minimum of 1 and a maximum of 2 argument(s)',
            code="OCI010",
            hint="usage: ocitool-runc kill <container-id> [signal]",
        )
    cid = p.args[0]
    sig = parse_signal(p.args[1] if len(p.args) == 2 else "SIGTERM")
    store = g.store()
    st = load_state(store, cid)
    status = live_status(st)
    if status not in ("created", "running", "paused"):
        raise state_error(message="container not running", code="OCI606")
    dirs = C.cgroup_dirs(st)
    from ocitool.runc import live as L

    if p.on("all") and dirs:  # paused too: the signal waits for the thaw
        live = L.signal_all_ops(dirs, str(sig))
    else:
        live = L.signal_init_ops(str(sig), st.pid_start)
    if status == "paused" and sig == SIGKILL:
        # A frozen task acts on SIGKILL only once thawed (v1 freezer), and a v2 cgroup
        # would stay frozen after its tasks died: thaw once the kill is queued, as runc does.
        from ocitool.host import HostInfo

        live += L.freeze_ops(HostInfo.detect(), dirs, False)
    L.apply(g, st, live)
    return 0


# --------------------------------------------------------------------------- delete
def cmd_delete(g: Globals, argv: list[str]) -> int:
    p = parse(argv, DELETE_FLAGS)
    cid = exactly_one("delete", p.args)
    _delete(g, cid, force=p.on("force"))
    return 0


def _delete(g: Globals, cid: str, *, force: bool) -> None:
    from ocitool.exec import lifecycle
    from ocitool.exec.context import ExecContext
    from ocitool.exec.linux import LinuxSyscalls

    store = g.store()
    try:
        st = load_state(store, cid)
    except Exception as err:
        if force and error_code(err) == "OCI603":
            return  # runc: delete --force of a missing container succeeds silently
        raise
    if st.status == "creating" and not st.pid:
        if not force:
            raise state_error(
                message=f"cannot delete container {cid} that is not stopped: creating",
                code="OCI607",
                hint="use --force",
            )
        _remove_cgroups(C.cgroup_dirs(st))  # a create killed part-way left them
        store.remove(cid)
        return
    status = live_status(st)
    if status != "stopped" and not force:
        raise state_error(
            message=f"cannot delete container {cid} that is not stopped: {status}",
            code="OCI607",
            hint="use --force",
        )
    dirs = C.cgroup_dirs(st)
    if status == "paused":  # a frozen process cannot die: thaw after the kill is queued
        from ocitool.lower.host import HostInfo
        from ocitool.runc import live as L

        L.apply(g, st, L.kill_paused_ops(HostInfo.detect(), dirs))
    if C.has_hooks(st, "poststop"):
        ops = [op for op in _relowered_ops(store, st) if op.phase.command == "delete"]
    else:
        ops = C.cgroup_remove_ops(dirs)
    ctx = ExecContext(sys=LinuxSyscalls(), container_id=cid, bundle=st.bundle, rootfs=st.rootfs)
    problems = lifecycle.delete(ops, ctx, store, force=force)
    for problem in problems:
        g.log.warning(problem)


def _remove_cgroups(dirs: list[str]) -> None:
    """The cgroup directories of a half-created container (from its ``creating`` record),
    newest first; processes still in them are killed (rollback.remove_cgroup_tree)."""
    from ocitool.exec.linux import LinuxSyscalls
    from ocitool.exec.rollback import remove_cgroup_tree

    sys_ = LinuxSyscalls()
    for path in reversed(dirs):
        remove_cgroup_tree(sys_, path)
