"""``ocitool-runc run`` in the foreground: create, start, wait, delete in one process.

Like :func:`ocitool.exec.lifecycle.run`, plus what runc's ``run`` does
between create and start: the state is saved as ``created`` (so ``state``,
``kill`` and ``exec`` from other processes see the container), then a
caller-supplied step runs (write ``--pid-file``, save annotations), then
the init is released. ``--keep`` leaves the stopped container for a later
``delete``.
"""

from __future__ import annotations

from ocitool.exec import sealed
from ocitool.exec.apply import APPLIERS
from ocitool.exec.context import ExecContext
from ocitool.exec.lifecycle import new_state, save_creating, state_json
from ocitool.exec.process import Engine
from ocitool.exec.state import State, StateStore, proc_start_time
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


def run(
    ops: Sequence[Any],
    ctx: ExecContext,
    store: StateStore,
    *,
    annotations: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    on_created: Callable[[State], None] | None = None,
    keep: bool = False,
    relay: Any = None,
) -> int:
    """Returns the container's exit status (128+N for signal N).

    ``relay`` (a :class:`ocitool.exec.tty.HostPty` whose slave is in
    ``ctx.fds["pty_slave"]``) pumps the terminal until the container closes it.
    """
    store.reserve(ctx.container_id)
    st = ctx.state = new_state(ctx, annotations, extra)
    ctx.state_json = state_json(st)
    eng = Engine(ops, ctx, APPLIERS)
    unsealed = not sealed.is_sealed()
    try:
        save_creating(store, st, ops)
        eng.create()
        st.status, st.pid = "created", eng.pid
        st.pid_start = proc_start_time(eng.pid)
        st.rollback = ctx.rollback.to_json()
        if unsealed:  # exec waits until the init has exec'd (ocitool/exec/sealed.py)
            st.extra[sealed.INIT_UNSEALED] = True
        store.save(st)
        if on_created is not None:
            on_created(st)
        ctx.state_json = state_json(st)
        st.status = "running"
        store.save(st)
        eng.start()
        if unsealed:  # exec'd: no runtime process is left in the container
            del st.extra[sealed.INIT_UNSEALED]
            store.save(st)
    except BaseException:
        eng.abort()
        store.remove(ctx.container_id)
        raise
    try:
        if relay is not None:
            relay.pump()
        code = eng.wait(forward_signals=True)
    finally:
        st.status = "stopped"
        ctx.state_json = state_json(st)
        if keep:
            st.rollback = [s for s in ctx.rollback.to_json() if s[0] not in ("kill", "kill_wait")]
            st.pid = 0
            store.save(st)
        else:
            eng.delete()
            store.remove(ctx.container_id)
    return code
