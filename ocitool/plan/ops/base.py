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
                                      ``update``, ``pause``/``resume``, ``kill``
                                      (their own small plans, runc/live.py)
=========================  =========  ===============================================

The init process is the container's pid 1 (or its parent when a pid
namespace needs a fork); it becomes the user process at ``execve``.
"""

from __future__ import annotations

from ocitool.records import Record, is_record, values
from ocitool.redact import quote as quote  # the ops import it from here
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import ClassVar, TypeAlias


class _PhaseType(type):
    """Lets ``for phase in Phase`` walk the phases in lifecycle order, like an enum."""

    def __iter__(cls) -> Iterator[Phase]:
        return iter(PHASES)


class Phase(metaclass=_PhaseType):
    """Where in the lifecycle an op runs, and which process runs it (see module doc).

    A closed set of constants (``Phase.CREATE_INIT``), one object each, so ``is``
    compares them. Not an ``enum.Enum``: importing ``enum`` is a noticeable part of
    starting a container from a cached plan (ocitool.records' module doc).
    """

    __slots__ = ("name", "value", "order", "process", "command", "description")

    CREATE_RUNTIME: ClassVar[Phase]
    CREATE_SPAWN: ClassVar[Phase]
    CREATE_NAMESPACES: ClassVar[Phase]
    CREATE_IDMAP: ClassVar[Phase]
    CREATE_INIT: ClassVar[Phase]
    HOOKS_PRESTART: ClassVar[Phase]
    HOOKS_CREATE_RUNTIME: ClassVar[Phase]
    HOOKS_CREATE_CONTAINER: ClassVar[Phase]
    CREATE_PIVOT: ClassVar[Phase]
    START: ClassVar[Phase]
    HOOKS_START_CONTAINER: ClassVar[Phase]
    EXEC: ClassVar[Phase]
    HOOKS_POSTSTART: ClassVar[Phase]
    DELETE: ClassVar[Phase]
    HOOKS_POSTSTOP: ClassVar[Phase]
    LIVE: ClassVar[Phase]

    name: str
    value: str
    order: int
    """Position in the lifecycle (plan order sorts by it)."""
    process: str
    """``runtime`` or ``init``: the process that performs ops of this phase."""
    command: str
    """The runtime command during which the phase happens: create, start, delete or live."""
    description: str

    def __init__(
        self, name: str, value: str, order: int, process: str, command: str, description: str
    ) -> None:
        for slot, item in zip(
            self.__slots__, (name, value, order, process, command, description), strict=True
        ):
            object.__setattr__(self, slot, item)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Phase constants are immutable")

    def __repr__(self) -> str:
        return f"<Phase.{self.name}: {self.value!r}>"

    def __reduce__(self) -> tuple[object, ...]:
        return (phase_from_value, (self.value,))

    @property
    def is_hook(self) -> bool:
        return self.value.startswith("hooks.")


_TABLE = (  # name, value, process, description; in lifecycle order
    (
        "CREATE_RUNTIME",
        "create.runtime",
        "runtime",
        "runtime prepares the cgroup before the init exists",
    ),
    (
        "CREATE_SPAWN",
        "create.spawn",
        "runtime",
        "runtime clones the init and puts it in the cgroup",
    ),
    ("CREATE_NAMESPACES", "create.namespaces", "init", "init joins and creates namespaces"),
    ("CREATE_IDMAP", "create.idmap", "runtime", "runtime writes the init's id maps while it waits"),
    ("CREATE_INIT", "create.init", "init", "init, inside the namespaces, before pivot_root"),
    (
        "HOOKS_PRESTART",
        "hooks.prestart",
        "runtime",
        "prestart hooks (deprecated), runtime namespace",
    ),
    (
        "HOOKS_CREATE_RUNTIME",
        "hooks.createRuntime",
        "runtime",
        "createRuntime hooks, runtime namespace",
    ),
    (
        "HOOKS_CREATE_CONTAINER",
        "hooks.createContainer",
        "init",
        "createContainer hooks, container namespaces",
    ),
    (
        "CREATE_PIVOT",
        "create.pivot",
        "init",
        "init switches root and hardens it, then waits for start",
    ),
    ("START", "start", "runtime", "start releases the waiting init"),
    (
        "HOOKS_START_CONTAINER",
        "hooks.startContainer",
        "init",
        "startContainer hooks, container namespaces",
    ),
    ("EXEC", "exec", "init", "init becomes the user process"),
    ("HOOKS_POSTSTART", "hooks.poststart", "runtime", "poststart hooks, runtime namespace"),
    ("DELETE", "delete", "runtime", "delete removes what create made"),
    ("HOOKS_POSTSTOP", "hooks.poststop", "runtime", "poststop hooks, runtime namespace"),
    (
        "LIVE",
        "live",
        "runtime",
        "a created container changed from outside (update, pause, resume, kill)",
    ),
)


def _command(name: str, order: int, start: int) -> str:
    if name == "LIVE":
        return "live"
    if name in ("DELETE", "HOOKS_POSTSTOP"):
        return "delete"
    return "start" if order >= start else "create"


_START = next(i for i, row in enumerate(_TABLE) if row[0] == "START")
PHASES: tuple[Phase, ...] = tuple(
    Phase(name, value, i, process, _command(name, i, _START), description)
    for i, (name, value, process, description) in enumerate(_TABLE)
)
"""Every phase, in lifecycle order."""
_BY_VALUE = {phase.value: phase for phase in PHASES}
for _phase in PHASES:
    type.__setattr__(Phase, _phase.name, _phase)


def phase_from_value(value: str) -> Phase:
    """The phase whose value (``create.init``) is ``value``; KeyError for no such phase."""
    return _BY_VALUE[value]


def flags_text(flags: tuple[str, ...] | list[str], empty: str = "0") -> str:
    """``A|B|C`` or ``empty`` when there are no flags."""
    return "|".join(flags) if flags else empty


JSON: TypeAlias = "None | bool | int | float | str | list[JSON] | dict[str, JSON]"
"""A JSON value, as ``json.dumps`` takes it and ``json.loads`` gives it."""


def _jsonable(value: object) -> JSON:
    if isinstance(value, Phase):
        return value.value
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    items = getattr(value, "items", None)
    if callable(items):  # a dict or a read-only mapping (HostInfo.cgroup_mounts)
        return {str(k): _jsonable(v) for k, v in items()}
    if is_record(value):
        return {k: _jsonable(v) for k, v in values(value).items()}  # type: ignore[arg-type]
    if isinstance(value, bytes):
        return value.hex()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"op field value {value!r} has no JSON form")


class Op(Record):
    """Base of every plan operation.

    Subclasses set the class attribute ``name`` (the op name in JSON), add
    their fields (frozen; tuples, not lists) and implement :meth:`text`.
    Fields whose name starts with ``_`` are left out of :meth:`to_json`.
    Ops are :class:`ocitool.records.Record` s: frozen and keyword-only.
    """

    name: ClassVar[str] = "op"
    json_names: ClassVar[dict[str, str]] = {}
    """Fields whose JSON key differs from the field name (``hostname`` -> ``name``)."""

    phase: Phase
    source: str | None = None

    def text(self) -> str:
        """One strace-like line, e.g. ``sethostname("web")``."""
        args = ", ".join(repr(v) for _, v in self.fields())
        return f"{self.name}({args})"

    def fields(self) -> list[tuple[str, object]]:
        """The op-specific fields (not phase/source), in declaration order."""
        out: list[tuple[str, object]] = []
        for name, value in values(self).items():
            if name in ("phase", "source") or name.startswith("_"):
                continue
            out.append((name, value))
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
        names = self.json_names
        for key, value in self.fields():
            data[names.get(key, key)] = _jsonable(value)
        return data
