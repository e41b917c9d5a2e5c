"""Lifecycle primitives over a Plan: create, start, state, kill, delete, and run.

``ocitool exec`` uses :func:`run` (everything in one foreground process);
``ocitool-runc`` builds its commands from :func:`create` (detached: the init
waits on an exec fifo), :func:`start`, :func:`kill`, :func:`delete` and
:func:`state`. Each keeps the state store consistent: a failed create leaves
no state, no cgroup and no process behind.
"""

from __future__ import annotations

import _signal as signal  # the C module: "signal" imports enum (hot path)
import os
import time

from ocitool.exec import sealed
from ocitool.exec.context import ExecContext
from ocitool.exec.rollback import Rollback, remove_cgroup_tree
from ocitool.exec.state import State, StateStore, proc_start_time, state_error
from ocitool.exec.syscalls import TYPE_CHECKING, exec_error, op_error
from ocitool.jsonlite import dumps

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from ocitool.exec.process import Engine

FIFO_NAME = "exec.fifo"


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e9):09d}Z"


def state_json(state: State) -> str:
    return dumps(state.to_json())


def new_state(
    ctx: ExecContext,
    annotations: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> State:
    """The state of a container being created now, by this user, from ``ctx``."""
    return State(
        id=ctx.container_id,
        bundle=ctx.bundle,
        rootfs=ctx.rootfs,
        created=_now(),
        owner="root" if os.geteuid() == 0 else str(os.geteuid()),
        annotations=dict(annotations or {}),
        extra=dict(extra or {}),
    )


def save_creating(store: StateStore, st: State, ops: Sequence[Any]) -> None:
    """Record the container as ``creating``, with the cgroup directories its plan makes,
    before any op runs: a create killed part-way (SIGKILL: no undo runs) then leaves a
    state that ``delete --force`` can clean up, cgroups included."""
    st.extra.setdefault("cgroup_dirs", [op.path for op in ops if op.name == "cgroup_mkdir"])
    store.save(st)


def _engine(ops: Sequence[Any], ctx: ExecContext) -> Engine:
    """The op engine, imported here: start and delete without hooks never need it (nor
    the appliers, the cffi bindings...), which keeps those commands' start-up short."""
    from ocitool.exec.apply import APPLIERS
    from ocitool.exec.process import Engine

    return Engine(ops, ctx, APPLIERS)


def _interrupt(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def run(
    ops: Sequence[Any], ctx: ExecContext, store: StateStore | None = None, relay: Any = None
) -> int:
    """create + start + wait + delete in this process; returns the container's exit status.

    ``relay`` (a :class:`ocitool.exec.tty.HostPty`) pumps a terminal until the
    container closes it.
    """
    st: State | None = None
    if store is not None:
        store.reserve(ctx.container_id)
        st = ctx.state = new_state(ctx)
        ctx.state_json = state_json(st)
        save_creating(store, st, ops)
    eng = _engine(ops, ctx)
    # SIGTERM/SIGHUP while the container is being set up: unwind through the
    # undo log like any failure, instead of dying with cgroups left behind.
    saved = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        eng.create()
        unsealed = st is not None and not sealed.is_sealed()
        if st is not None and store is not None:
            st.status, st.pid = "created", eng.pid
            ctx.state_json = state_json(st)
            st.status = "running"
            st.pid_start = proc_start_time(eng.pid)
            st.rollback = ctx.rollback.to_json()
            if unsealed:  # exec waits until the init has exec'd (ocitool/exec/sealed.py)
                st.extra[sealed.INIT_UNSEALED] = True
            store.save(st)
        if relay is not None and any(op.name == "console" for op in ops):
            # the init made the pty in the container's devpts and sent the master
            # back: take it (and set the terminal's size) before the process runs
            relay.receive()
        eng.start()
        if unsealed and st is not None and store is not None:
            del st.extra[sealed.INIT_UNSEALED]  # exec'd: nothing of ours is left inside
            store.save(st)
    except BaseException:
        eng.abort()
        if store is not None:
            store.remove(ctx.container_id)
        raise
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    problems: list[str] = []
    try:
        if relay is not None:
            relay.pump()
        code = eng.wait(forward_signals=True)
    finally:
        if st is not None:
            st.status = "stopped"
            ctx.state_json = state_json(st)
        problems = eng.delete()
        if store is not None:
            store.remove(ctx.container_id)
    if problems:
        raise exec_error(
            f"the container exited with status {code}, but delete failed: " + "; ".join(problems),
            "OCI506",
        )
    return code


def create(
    ops: Sequence[Any],
    ctx: ExecContext,
    store: StateStore,
    annotations: dict[str, str] | None = None,
) -> State:
    """Detached create: the init waits on ``<state dir>/exec.fifo`` for :func:`start`."""
    cdir = store.reserve(ctx.container_id)
    fifo = os.path.join(cdir, FIFO_NAME)
    st = ctx.state = new_state(ctx, annotations)
    eng: Engine | None = None
    try:
        save_creating(store, st, ops)
        make_exec_fifo(fifo, ops)
        ctx.exec_fifo = fifo
        ctx.detached = True
        ctx.state_json = state_json(st)
        eng = _engine(ops, ctx)
        eng.create()
        st.status, st.pid = "created", eng.pid
        st.pid_start = proc_start_time(eng.pid)
        # the init is no longer our child to wait for: delete kills it by pid
        steps = [
            ["kill", a, lbl] if k == "kill_wait" else [k, a, lbl]
            for k, a, lbl in ctx.rollback.to_json()
        ]
        st.rollback = steps
        st.exec_fifo = fifo
        store.save(st)
        eng.detach()  # only now may the init outlive us (its parent death signal goes)
    except BaseException:
        if eng is not None:
            eng.abort()
        store.remove(ctx.container_id)
        raise
    return st


def make_exec_fifo(path: str, ops: Sequence[Any]) -> None:
    """The fifo the created init blocks on, writable by the init whatever its uid.

    The init reopens it through ``/proc/self/fd`` after ``setresuid`` -- in a
    user namespace as the container's root, a host uid that is not ours. As
    runc does: mode 0622 (set after mkfifo, whatever the umask) and owned by
    the host uid/gid that container root maps to. The state directory stays
    0700, so only the init's inherited fd reaches the fifo.
    """
    os.mkfifo(path, 0o622)
    os.chmod(path, 0o622)
    uid, gid = host_root_ids(ops)
    if (uid, gid) != (-1, -1):
        os.chown(path, uid, gid)


def host_root_ids(ops: Sequence[Any]) -> tuple[int, int]:
    """(uid, gid) on the host of the container's root, from the plan's id map writes
    (-1 where the plan writes no map, or its map leaves id 0 unmapped)."""
    found = {"uid_map": -1, "gid_map": -1}
    for op in ops:
        if op.name != "write_file":
            continue
        name = op.path.rsplit("/", 1)[-1]
        if name not in found or not op.path.startswith("/proc/"):
            continue
        for line in op.value.splitlines():
            parts = line.split()
            if len(parts) == 3 and all(p.isdigit() for p in parts):
                inside, outside, count = (int(p) for p in parts)
                if inside <= 0 < inside + count:
                    found[name] = outside - inside
    return found["uid_map"], found["gid_map"]


def start(ops: Sequence[Any], ctx: ExecContext, store: StateStore) -> State:
    """Release a created container's init through its exec fifo; run poststart hooks."""
    lock = store.lock(ctx.container_id)
    try:
        st = store.load(ctx.container_id)
        if st.refresh_status() != "created":
            raise state_error(
                message=f"cannot start a container that is {st.status}", code="OCI605"
            )
        ctx.pid = st.pid
        ctx.state_json = state_json(st)
        after = False
        eng = _engine(ops, ctx) if ops else None  # no hooks: no engine to import
        for k, op in enumerate(ops):
            if eng is None or op.phase.command != "start" or eng.runs_in_init(k):
                continue
            if op.name == "start":
                ctx.sys.begin_op(k, op)
                _release(st.exec_fifo)
                ctx.sys.end_op(k, op)
                st.status = "running"
                store.save(st)
                after = True
            elif after and op.name == "hook":
                ctx.state_json = state_json(st)
                eng.apply(k, op)
            else:
                eng.apply(k, op)
        if not after:
            _release(st.exec_fifo)
            st.status = "running"
            store.save(st)
        return st
    finally:
        store.unlock(lock)


def _delete_without_engine(ops: Sequence[Any], ctx: ExecContext) -> list[str]:
    """What :meth:`Engine.delete` does for a plan of cgroup removals only (no poststop
    hooks, no kill op): the undo log, then the cgroups -- with the same messages."""
    problems = ctx.rollback.run()
    for k, op in enumerate(ops):
        try:
            ctx.sys.begin_op(k, op)
            remove_cgroup_tree(ctx.sys, op.path)
            ctx.sys.end_op(k, op)
        except Exception as exc:
            cause = getattr(exc, "message", None) or str(exc)
            problems.append(op_error(k, op, cause).message)
    return problems


def _release(fifo: str) -> None:
    """Release the init, then wait for its execve: the init holds the fifo's write end
    (close-on-exec) until then, so EOF means the process is executed (or the init
    died). runtime-spec: poststart hooks run after the process is executed."""
    fd = os.open(fifo, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.unlink(fifo)
        while os.read(fd, 64):
            pass
    finally:
        os.close(fd)


def state(store: StateStore, cid: str) -> State:
    st = store.load(cid)
    st.refresh_status()
    return st


def apply_live(ops: Sequence[Any], ctx: ExecContext) -> None:
    """Apply a ``live`` plan (update, pause, resume, kill: :mod:`ocitool.runc.live`) to a
    created container, op by op; a failure names the op. Nothing is undone: like runc's,
    a live change that fails half-way stays half applied (the error says which op).
    Only the appliers of these ops are loaded, not the engine (kill is a live plan)."""
    from ocitool.exec.apply import applier_for
    from ocitool.exec.apply.base import apply_op

    for i, op in enumerate(ops):
        apply_op(applier_for(op), i, op, ctx)


def delete(
    ops: Sequence[Any], ctx: ExecContext, store: StateStore, force: bool = False
) -> list[str]:
    """Remove a stopped (or, with force, any) container: processes, cgroups, state."""
    lock = store.lock(ctx.container_id)
    try:
        st = store.load(ctx.container_id)
        status = st.refresh_status()
        if status in ("running",) and not force:
            raise state_error(
                message=f"cannot delete container {ctx.container_id} that is not stopped: {status}",
                code="OCI607",
                hint="use --force",
            )
        if status == "stopped":
            st.rollback = [s for s in st.rollback if s[0] not in ("kill", "kill_wait")]
        ctx.pid = st.pid if status != "stopped" else 0
        ctx.rollback = Rollback.from_json(ctx.sys, st.rollback)
        st.status = "stopped"
        ctx.state_json = state_json(st)
        if all(op.name == "cgroup_remove" for op in ops):
            problems = _delete_without_engine(ops, ctx)
        else:
            problems = _engine(ops, ctx).delete()
        store.remove(ctx.container_id)
        return problems
    finally:
        store.unlock(lock)
