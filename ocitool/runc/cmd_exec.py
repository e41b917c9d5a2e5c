"""``exec``: run a new process in a running container (what podman exec and ctr task exec call)."""

from __future__ import annotations

import os
import sys
import time

from ocitool.runc import container as C
from ocitool.runc.args import BOOL, MULTI, VALUE, Flag, parse
from ocitool.runc.common import Globals, at_least_one, live_status, load_state, read_json_object
from ocitool.runc.errs import state_error, usage_error
from ocitool.runc.outputs import check_console_socket, check_pid_file, console_error, pid_file_error
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

EXEC_FLAGS = (
    Flag(("process", "p"), VALUE, help="path to a process.json (replaces ARGS and the flags)"),
    Flag(("detach", "d"), BOOL, help="return once the process started"),
    Flag(("pid-file",), VALUE, help="file to write the process's pid to"),
    Flag(("tty", "t"), BOOL, help="allocate a pty (needs --console-socket)"),
    Flag(("console-socket",), VALUE, help="unix socket that receives the pty master"),
    Flag(("cwd",), VALUE, help="working directory in the container"),
    Flag(("env", "e"), MULTI, help="set an environment variable (repeatable)"),
    Flag(("user", "u"), VALUE, help="UID[:GID]"),
    Flag(("additional-gids", "g"), MULTI, help="additional group ids (repeatable)"),
    Flag(("cap", "c"), MULTI, help="add a capability (repeatable)"),
    Flag(("no-new-privs",), BOOL, help="set no_new_privs"),
    Flag(("preserve-fds",), VALUE, "0", help="pass N extra fds to the process"),
    Flag(("ignore-paused",), BOOL, help="allow exec into a paused container"),
    Flag(("process-label",), VALUE, help="SELinux label of the process (process.selinuxLabel)"),
    Flag(("apparmor",), VALUE, help="AppArmor profile of the process (process.apparmorProfile)"),
    Flag(("cgroup",), MULTI, help="PATH or CONTROLLER[,CONTROLLER]:PATH: an existing sub-cgroup"),
)


def exec_cgroup_procs(dirs: list[str], specs: list[str]) -> list[str]:
    """The cgroup.procs files the exec'd process joins (runc exec --cgroup).

    Without ``--cgroup``: the container's own cgroups. ``PATH`` puts the process
    in that existing sub-cgroup of every hierarchy; ``CONTROLLER[,...]:PATH`` only
    in those controllers' hierarchies (cgroup v1: a hierarchy matches when one of
    the controllers is among its mount's names, e.g. ``cpu`` for ``cpu,cpuacct``).
    The path stays below the container's cgroup and must exist, as with runc.
    """
    subs: dict[str, str] = {}
    whole: str | None = None
    for spec in specs:
        ctrls, sep, path = spec.rpartition(":")
        path = path.strip("/")
        parts = path.split("/")
        if not path or ".." in parts or "." in parts:
            raise usage_error(message=f"invalid --cgroup path {spec!r}", code="OCI010")
        if not sep:
            whole = path
            continue
        for ctrl in ctrls.split(","):
            subs[ctrl] = path
    out = []
    for d in dirs:
        names = _hierarchy_names(d)
        sub = next((subs[n] for n in names if n in subs), whole)
        target = os.path.join(d, sub) if sub else d
        if sub and not os.path.isdir(target):
            raise usage_error(message=f"cgroup {target} does not exist", code="OCI010")
        out.append(os.path.join(target, "cgroup.procs"))
    if subs and not any(n in subs for d in dirs for n in _hierarchy_names(d)):
        raise usage_error(message=f"no cgroup hierarchy for --cgroup {specs!r}", code="OCI010")
    return out


def _hierarchy_names(cgroup_dir: str) -> list[str]:
    """Controllers of a v1 hierarchy from its mount's name (/sys/fs/cgroup/cpu,cpuacct/...);
    on v2 (one hierarchy) the empty name matches only a plain PATH."""
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        return []
    rel = cgroup_dir.removeprefix("/sys/fs/cgroup/")
    head = rel.split("/", 1)[0] if rel != cgroup_dir else ""
    return [n.removeprefix("name=") for n in head.split(",") if n]


def _process_from_flags(base: dict[str, Any], p: Any, argv: list[str]) -> dict[str, Any]:
    """runc's newProcess: the container's process with the flags applied (engines pass
    --process instead, so copy is imported here, not by every exec)."""
    import copy

    proc = copy.deepcopy(base)
    proc["args"] = argv
    proc["terminal"] = p.on("tty")
    if p.value("cwd"):
        proc["cwd"] = p.value("cwd")
    env = list(proc.get("env") or [])
    for item in p.values("env"):
        key = item.split("=", 1)[0]
        env = [e for e in env if e.split("=", 1)[0] != key] + [item]
    proc["env"] = env
    user = p.value("user")
    if user:
        uid, _, gid = user.partition(":")
        try:
            proc["user"] = {"uid": int(uid), "gid": int(gid or 0)}
        except ValueError:
            raise usage_error(
                message=f"parsing {user} as UID[:GID]: not numbers", code="OCI010"
            ) from None
    gids = p.values("additional_gids")
    if gids:
        try:
            proc.setdefault("user", {})["additionalGids"] = [int(x) for x in gids]
        except ValueError:
            raise usage_error(message="--additional-gids takes numbers", code="OCI010") from None
    caps = p.values("cap")
    if caps:
        sets = proc.setdefault("capabilities", {})
        for key in ("bounding", "effective", "permitted"):
            have = list(sets.get(key) or [])
            sets[key] = have + [c for c in caps if c not in have]
    if p.on("no_new_privs"):
        proc["noNewPrivileges"] = True
    if p.value("apparmor"):
        proc["apparmorProfile"] = p.value("apparmor")
    if p.value("process_label"):
        proc["selinuxLabel"] = p.value("process_label")
    return proc


def exec_ops(ops: list[Any]) -> list[Any]:
    """The ops a joining process applies: rlimits, then the exec phase (execve last)."""
    rlimits = [op for op in ops if op.name == "setrlimit"]
    return rlimits + [op for op in ops if op.phase.value == "exec"]


def _after_init_exec(store: Any, st: Any) -> Any:
    """The state once the init of a foreground run that did not seal has exec'd: until
    then it is the runtime's own unsealed interpreter (ocitool/exec/sealed.py), which a
    joined process must not see. A few milliseconds in practice."""
    from ocitool.exec.sealed import INIT_UNSEALED

    deadline = time.monotonic() + 10
    while st.extra.get(INIT_UNSEALED) and live_status(st) in ("created", "running"):
        if time.monotonic() > deadline:
            raise state_error(message="the container is still starting", code="OCI606")
        time.sleep(0.002)
        st = load_state(store, st.id)
    return st


def cmd_exec(g: Globals, argv: list[str]) -> int:
    p = parse(argv, EXEC_FLAGS)
    at_least_one("exec", p.args)
    cid, rest = p.args[0], p.args[1:]
    store = g.store()
    st = _after_init_exec(store, load_state(store, cid))
    status = live_status(st)
    if status == "paused" and not p.on("ignore_paused"):
        raise state_error(
            message="cannot exec in a paused container (use --ignore-paused)", code="OCI606"
        )
    if status not in ("created", "running", "paused"):
        raise state_error(message="cannot exec in a stopped container", code="OCI611")
    config = C.saved_config(store, st)
    if p.value("process"):
        process = read_json_object(str(p.value("process")), "a process")
    else:
        if not rest:
            raise usage_error(message="exec: no command given (ARGS or --process)", code="OCI010")
        process = _process_from_flags(config.get("process") or {}, p, rest)
    terminal = bool(process.get("terminal"))
    sock_path = p.value("console_socket")
    relay = None
    if terminal and not sock_path:
        if p.on("detach") or not os.isatty(0):
            raise usage_error(
                message="cannot allocate tty if runc will detach without setting console socket",
                code="OCI010",
            )
        from ocitool.exec.tty import HostPty  # runc exec -t in the foreground: we relay

        relay = HostPty()
    if sock_path and not terminal:
        raise usage_error(
            message="cannot use console socket if runc will not detach or allocate tty",
            code="OCI010",
        )
    try:
        preserve = int(p.value("preserve_fds") or 0)
    except ValueError:
        raise usage_error(message="--preserve-fds needs a number", code="OCI010") from None
    pid_file = p.value("pid_file")
    check_pid_file(pid_file)  # before anything starts: a bad flag starts nothing
    check_console_socket(sock_path if terminal else None)
    data = dict(config)
    data["process"] = process
    path = p.value("process") or os.path.join(st.bundle, "config.json")
    no_new_keyring = bool(st.extra.get("no_new_keyring"))
    ops = exec_ops(
        C.config_ops(data, path, cid, st.bundle, g.root, C.systemd_driver(st), no_new_keyring)
    )

    from ocitool.exec import join
    from ocitool.exec.context import ExecContext
    from ocitool.exec.lifecycle import state_json
    from ocitool.exec.linux import LinuxSyscalls

    ctx = ExecContext(sys=LinuxSyscalls(), container_id=cid, bundle=st.bundle, rootfs=st.rootfs)
    console = None
    if terminal and sock_path:
        try:
            console = ctx.sys.unix_connect(os.path.abspath(sock_path))
        except Exception as exc:
            code = getattr(exc, "errno", None)
            if not isinstance(code, int):
                raise
            raise console_error(sock_path, OSError(code, os.strerror(code))) from None
    size = process.get("consoleSize") or {}
    req = join.JoinRequest(
        pid=st.pid,
        pid_start=st.pid_start,
        ops=ops,
        cgroup_procs=exec_cgroup_procs(C.cgroup_dirs(st), p.values("cgroup")),
        console=console,
        terminal=terminal,
        console_size=(size.get("width"), size.get("height")),
        preserve_fds=preserve,
        state_json=state_json(st),
        pty_slave=relay.slave if relay is not None else -1,
    )
    try:
        pid = join.spawn(req, ctx)
    finally:
        if console is not None:
            console.close()
    g.log.debug(f"exec: process {pid} started in {cid}")
    if pid_file:
        from ocitool.runc.files import write_pid_file

        try:
            write_pid_file(pid_file, pid)
        except OSError as exc:  # a late failure (full disk): undo the start, as runc does
            join.kill_and_reap(ctx.sys, pid)
            raise pid_file_error(pid_file, exc) from None
    if p.on("detach"):
        return 0
    sys.stdout.flush()
    if relay is not None:
        relay.pump()
    return join.wait(ctx.sys, pid)
