"""What every ocitool-runc command shares: global options, runc's wording, argument checks."""

from __future__ import annotations

from ocitool.runc.errs import error_code, usage_error
from ocitool.runc.log import Logger
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from ocitool.errors import OciToolError
    from ocitool.exec.state import State, StateStore

DEFAULT_ROOT = "/run/ocitool"


class Globals:
    """The global flags (before the command)."""

    def __init__(
        self,
        root: str = DEFAULT_ROOT,
        log: Logger | None = None,
        debug: bool = False,
        systemd_cgroup: bool = False,
    ) -> None:
        self.root = root
        self.log = log if log is not None else Logger()
        self.debug = debug
        self.systemd_cgroup = systemd_cgroup  # --systemd-cgroup: new containers get a unit

    def store(self) -> StateStore:
        from ocitool.exec.state import StateStore

        return StateStore(self.root)


def runc_message(err: OciToolError) -> str:
    """The message engines match on (runc 1.1 wording) for our lifecycle errors."""
    code, msg = err.code, err.message
    if code == "OCI603":
        return "container does not exist"
    if code == "OCI602":
        return "container with given ID already exists"
    if code == "OCI605":
        if "running" in msg:
            return "cannot start an already running container"
        if "stopped" in msg:
            return "cannot start a container that has stopped"
        if "paused" in msg:
            return "cannot start a container in the paused state"
    if code == "OCI606":
        return "container not running"
    return msg


def exactly_one(cmd: str, args: list[str]) -> str:
    if len(args) != 1:
        raise usage_error(
            f'"{cmd}" requires exactly 1 argument(s)',
            hint=f"usage: ocitool-runc {cmd} [options] <container-id>",
        )
    return args[0]


def at_least_one(cmd: str, args: list[str]) -> None:
    if not args:
        raise usage_error(
            f'"{cmd}" requires a minimum of 1 argument(s)',
            hint=f"usage: ocitool-runc {cmd} [options] <container-id>",
        )


def parse_signal(text: str) -> int:
    """``KILL``, ``SIGKILL``, ``sigkill`` or ``9``; runc's error for anything else."""
    import _signal as signal  # the C module: "signal" imports enum

    if text.isdigit():
        n = int(text)
        if 0 <= n < 65:  # 0: runc's liveness probe (no signal; fails if the init is gone)
            return n
    else:
        name = text.upper()
        if not name.startswith("SIG"):
            name = "SIG" + name
        if name.startswith("SIGRTMIN+") and name[9:].isdigit():
            return int(signal.SIGRTMIN) + int(name[9:])
        if name.startswith("SIGRTMAX-") and name[9:].isdigit():
            return int(signal.SIGRTMAX) - int(name[9:])
        number = getattr(signal, name, None) if name[3:].isalnum() else None
        if isinstance(number, int):  # SIGTERM, SIGRTMIN, aliases such as SIGCLD (not SIG_DFL)
            return number
    raise usage_error(f"unknown signal {text!r}", hint="a name (KILL, SIGTERM) or a number (9)")


def live_status(st: State) -> str:
    """created/running/stopped from the process, ``paused`` from the freezer."""
    status = st.refresh_status()
    if status in ("running", "created") and st.extra.get("cgroup_dirs"):
        from ocitool.runc.cgroup import is_frozen

        if is_frozen([str(d) for d in st.extra["cgroup_dirs"]]):
            status = st.status = "paused"
    return status


def load_state(store: StateStore, cid: str) -> State:
    """The container's state; a directory without state.json is a container being created."""
    import os

    from ocitool.exec.state import State

    try:
        return store.load(cid)
    except Exception as err:
        if (
            error_code(err) == "OCI603"
            and not cid.startswith(".")
            and os.path.isdir(store.dir(cid))
        ):
            return State(id=cid, bundle="", status="creating")
        raise


MAX_JSON_DEPTH = 32  # a process or resources object nests about 4 levels


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` levels (a loop: no recursion to overflow)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def read_json_object(src: str, what: str, *, dash_is_stdin: bool = False) -> dict[str, Any]:
    """The JSON object in file ``src`` (``-``: standard input, where the command allows
    it), or a usage error naming the file: ``--resources``, ``--process``."""
    from ocitool.inputs import read_input
    from ocitool.jsonlite import loads

    raw = read_input(src, what, stdin=dash_is_stdin)
    try:
        data = loads(raw.decode())
    except (ValueError, RecursionError) as exc:
        raise usage_error(message=f"{src}: invalid JSON: {exc}", code="OCI011") from None
    if not isinstance(data, dict):
        raise usage_error(message=f"{src}: {what} must be a JSON object", code="OCI011")
    if _deeper_than(data, MAX_JSON_DEPTH):
        raise usage_error(
            message=f"{src}: {what} is nested more than {MAX_JSON_DEPTH} levels deep",
            code="OCI011",
            hint="a runtime-spec process or resources object is a few levels deep",
        )
    if b"\\u" in raw:
        from ocitool.spec.load import lone_surrogate

        pointer = lone_surrogate(data)
        if pointer is not None:
            raise usage_error(
                message=f"{src}: {what} holds a lone UTF-16 surrogate at {pointer}",
                code="OCI104",
                pointer=pointer,
            )
    return data
