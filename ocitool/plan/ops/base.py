"""The Plan IR: lifecycle phases and the ``Op`` base class.

A Plan is an ordered list of ops. Each op says *what* (its ``name`` and
fields), *when and by whom* (its :class:`Phase`), and *why* (``source``: the
JSON pointer of the config value it came from, or None for ops every
container gets). The executor applies ops in order; the printers show them.

Phases follow the runtime-spec lifecycle (runtime.md "Lifecycle") and name the
process that performs the op. In plan order:

=========================  =========  ===============================================
phase                      process    what happens there
=========================  =========  ===============================================
``create.runtime``         runtime    before the init exists: cgroup directories and
                                      limit writes (``ocitool create``)
``create.spawn``           runtime    clone the init (plain fork-like clone), then move
                                      it into the cgroup (cgroup.procs); cgroup ops of
                                      this phase come after the ``clone`` op
``create.namespaces``      init       setns into joined namespaces (user first), then
                                      unshare the new ones (CLONE_NEWUSER with them)
``create.idmap``           runtime    while the init waits: write its setgroups,
                                      uid_map, gid_map; move net devices into its netns
``create.init``            init       fork for a new pid/time ns, unshare cgroup ns
                                      (after the cgroup join), hostname, rlimits,
                                      sysctl, oom_score_adj, rootfs mounts, devices
``hooks.prestart``         runtime    deprecated prestart hooks (runtime namespace)
``hooks.createRuntime``    runtime    createRuntime hooks (runtime namespace)
``hooks.createContainer``  init       createContainer hooks (container namespaces,
                                      started by the init before pivot_root)
``create.pivot``           init       pivot_root, drop the old root, masked/readonly
                                      paths, root ro, console; then the init blocks
                                      until ``start`` (``wait_start``, last op)
``start``                  runtime    ``ocitool start`` releases the waiting init
``hooks.startContainer``   init       startContainer hooks (container namespaces)
``exec``                   init       credentials, capabilities, no_new_privs,
                                      seccomp, execve of the user process
``hooks.poststart``        runtime    poststart hooks, before ``start`` returns
``delete``                 runtime    kill leftovers, remove the cgroup (``delete``)
``hooks.poststop``         runtime    poststop hooks, before ``delete`` returns
``live``                   runtime    a created container changed from outside:
                                      ``update``, ``pause``/``resume``, ``kill --all``
                                      (their own small plans, runc/live.py)
=========================  =========  ===============================================

The init process is the container's pid 1 (or its parent when a pid
namespace needs a fork); it becomes the user process at ``execve``.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from ocitool.redact import quote as quote  # the ops import it from here


class Phase(enum.Enum):
    """Where in the lifecycle an op runs, and which process runs it (see module doc)."""

    CREATE_RUNTIME = "create.runtime"
    CREATE_SPAWN = "create.spawn"
    CREATE_NAMESPACES = "create.namespaces"
    CREATE_IDMAP = "create.idmap"
    CREATE_INIT = "create.init"
    HOOKS_PRESTART = "hooks.prestart"
    HOOKS_CREATE_RUNTIME = "hooks.createRuntime"
    HOOKS_CREATE_CONTAINER = "hooks.createContainer"
    CREATE_PIVOT = "create.pivot"
    START = "start"
    HOOKS_START_CONTAINER = "hooks.startContainer"
    EXEC = "exec"
    HOOKS_POSTSTART = "hooks.poststart"
    DELETE = "delete"
    HOOKS_POSTSTOP = "hooks.poststop"
    LIVE = "live"

    @property
    def order(self) -> int:
        """Position in the lifecycle (plan order sorts by it)."""
        return _ORDER[self]

    @property
    def process(self) -> str:
        """``runtime`` or ``init``: the process that performs ops of this phase."""
        return _PROCESS[self]

    @property
    def command(self) -> str:
        """The runtime command during which the phase happens: create, start or delete."""
        return _COMMAND[self]

    @property
    def description(self) -> str:
        return _DESCRIPTION[self]

    @property
    def is_hook(self) -> bool:
        return self.value.startswith("hooks.")


_ORDER = {phase: i for i, phase in enumerate(Phase)}
_PROCESS = {
    Phase.CREATE_RUNTIME: "runtime",
    Phase.CREATE_SPAWN: "runtime",
    Phase.CREATE_NAMESPACES: "init",
    Phase.CREATE_IDMAP: "runtime",
    Phase.CREATE_INIT: "init",
    Phase.HOOKS_PRESTART: "runtime",
    Phase.HOOKS_CREATE_RUNTIME: "runtime",
    Phase.HOOKS_CREATE_CONTAINER: "init",
    Phase.CREATE_PIVOT: "init",
    Phase.START: "runtime",
    Phase.HOOKS_START_CONTAINER: "init",
    Phase.EXEC: "init",
    Phase.HOOKS_POSTSTART: "runtime",
    Phase.DELETE: "runtime",
    Phase.HOOKS_POSTSTOP: "runtime",
    Phase.LIVE: "runtime",
}
_COMMAND = {
    phase: (
        "live"
        if phase is Phase.LIVE
        else "delete"
        if phase in (Phase.DELETE, Phase.HOOKS_POSTSTOP)
        else "start"
        if phase.order >= _ORDER[Phase.START]
        else "create"
    )
    for phase in Phase
}
_DESCRIPTION = {
    Phase.CREATE_RUNTIME: "runtime prepares the cgroup before the init exists",
    Phase.CREATE_SPAWN: "runtime clones the init and puts it in the cgroup",
    Phase.CREATE_NAMESPACES: "init joins and creates namespaces",
    Phase.CREATE_IDMAP: "runtime writes the init's id maps while it waits",
    Phase.CREATE_INIT: "init, inside the namespaces, before pivot_root",
    Phase.HOOKS_PRESTART: "prestart hooks (deprecated), runtime namespace",
    Phase.HOOKS_CREATE_RUNTIME: "createRuntime hooks, runtime namespace",
    Phase.HOOKS_CREATE_CONTAINER: "createContainer hooks, container namespaces",
    Phase.CREATE_PIVOT: "init switches root and hardens it, then waits for start",
    Phase.START: "start releases the waiting init",
    Phase.HOOKS_START_CONTAINER: "startContainer hooks, container namespaces",
    Phase.EXEC: "init becomes the user process",
    Phase.HOOKS_POSTSTART: "poststart hooks, runtime namespace",
    Phase.DELETE: "delete removes what create made",
    Phase.HOOKS_POSTSTOP: "poststop hooks, runtime namespace",
    Phase.LIVE: "a created container changed from outside (update, pause, resume, kill --all)",
}


def phase_from_value(value: str) -> Phase:
    return Phase(value)


def flags_text(flags: tuple[str, ...] | list[str], empty: str = "0") -> str:
    """``A|B|C`` or ``empty`` when there are no flags."""
    return "|".join(flags) if flags else empty


JSON: TypeAlias = "None | bool | int | float | str | list[JSON] | dict[str, JSON]"
"""A JSON value, as ``json.dumps`` takes it and ``json.loads`` gives it."""


def _jsonable(value: object) -> JSON:
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"op field value {value!r} has no JSON form")


@dataclass(frozen=True, kw_only=True)
class Op:
    """Base of every plan operation.

    Subclasses set the class attribute ``name`` (the op name in JSON), add
    their fields (frozen; tuples, not lists) and implement :meth:`text`.
    Fields whose name starts with ``_`` and fields marked
    ``metadata={"json": False}`` are left out of :meth:`to_json`.
    """

    name: ClassVar[str] = "op"

    phase: Phase
    source: str | None = None

    def text(self) -> str:
        """One strace-like line, e.g. ``sethostname("web")``."""
        args = ", ".join(repr(v) for _, v in self.fields())
        return f"{self.name}({args})"

    def fields(self) -> list[tuple[str, object]]:
        """The op-specific fields (not phase/source), in declaration order."""
        out: list[tuple[str, object]] = []
        for f in dataclasses.fields(self):
            if f.name in ("phase", "source") or f.name.startswith("_"):
                continue
            if f.metadata.get("json", True) is False:
                continue
            out.append((f.name, getattr(self, f.name)))
        return out

    @property
    def process(self) -> str:
        return self.phase.process

    def to_json(self) -> dict[str, JSON]:
        data: dict[str, JSON] = {
            "op": self.name,
            "phase": self.phase.value,
            "source": self.source,
            "text": self.text(),
        }
        for key, value in self.fields():
            data[key] = _jsonable(value)
        return data
