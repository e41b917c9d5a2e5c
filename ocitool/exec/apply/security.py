"""Appliers for :mod:`ocitool.plan.ops.security`: capabilities, no_new_privs, seccomp, LSM labels."""

from __future__ import annotations

import errno as _errno
import os

from ocitool.exec import flags as F
from ocitool.exec.apply.base import CAP_SETPCAP, applies
from ocitool.exec.context import ExecContext
from ocitool.exec.syscalls import (
    PR_CAP_AMBIENT,
    PR_CAP_AMBIENT_CLEAR_ALL,
    PR_CAP_AMBIENT_RAISE,
    PR_CAPBSET_DROP,
    PR_SET_NO_NEW_PRIVS,
    SECCOMP_FILTER_FLAG_NEW_LISTENER,
    SECCOMP_SET_MODE_FILTER,
    error_errno,
    sys_error,
)
from ocitool.jsonlite import dumps
from ocitool.plan.ops.security import (
    LsmExecLabel,
    NoNewPrivs,
    SeccompLoad,
    SessionKeyring,
    SetCapabilities,
)


# ---------------------------------------------------------------- security
@applies(SetCapabilities)
def capabilities(op: SetCapabilities, ctx: ExecContext) -> None:
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


@applies(NoNewPrivs)
def no_new_privs(op: NoNewPrivs, ctx: ExecContext) -> None:
    ctx.sys.prctl(PR_SET_NO_NEW_PRIVS, 1)


@applies(SeccompLoad)
def seccomp_load(op: SeccompLoad, ctx: ExecContext) -> None:
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


@applies(LsmExecLabel)
def lsm_label(op: LsmExecLabel, ctx: ExecContext) -> None:
    ctx.sys.write_file(op.path, op.value.encode())


@applies(SessionKeyring)
def session_keyring(op: SessionKeyring, ctx: ExecContext) -> None:
    """runc's: join the ring, then add search permission (keeping the others).

    A kernel without keyrings (ENOSYS) is tolerated, as runc does: the ring only
    narrows what the process can reach by key search.
    """
    sys = ctx.sys
    try:
        ring = sys.join_session_keyring(op.keyring)
    except Exception as exc:
        if error_errno(exc) == _errno.ENOSYS:
            return
        raise
    sys.keyring_setperm(ring, sys.keyring_perm(ring) | op.search_perm)
