"""A cache of lowered plans, so a repeated ``ocitool exec`` skips load/validate/lower.

The plan that runs is still the plan lowering produced (DESIGN.md: the plan
printed is the plan that runs); it is only stored, as plain data, and read
back without importing the spec model, the lowering or the op classes --
those imports cost far more than starting the container itself.

The key covers everything lowering reads: the config bytes, the bundle path,
the host facts HostInfo.detect() looks at (kernel, arch, euid, cgroup
mounts, namespaces, LSMs, last capability, /proc/kcore, the rootless facts) and the ocitool code (file
mtimes of the spec, lower and plan packages). The container id is stored as
a placeholder and substituted on load, so one entry serves every id; an id
that also occurs in the config text is not cached (the substitution could
not tell them apart).
"""

from __future__ import annotations

import marshal

import ocitool
from ocitool import lightos as os
from ocitool.exec.syscalls import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

PLACEHOLDER = "\x00ocitool-container-id\x00"
_CODE_DIRS = (
    ".",
    "spec",
    "lower",
    "lower/cgroups",
    "plan",
    "plan/ops",
    "seccomp",
    "seccomp/tables",
)
FORMAT = 3


class FastPhase:
    """What the executor asks of a phase: its value, order, process and command."""

    __slots__ = ("value", "order", "process", "command")

    def __init__(self, value: str, order: int, process: str, command: str) -> None:
        self.value, self.order, self.process, self.command = value, order, process, command


class FastOp:
    """A stored op: the same name, phase, source, text line and fields as the original."""

    def __init__(
        self, name: str, phase: FastPhase, source: str | None, text: str, fields: dict[str, Any]
    ) -> None:
        self.__dict__.update(fields)
        self.name, self.phase, self.source, self._text = name, phase, source, text

    def text(self) -> str:
        return self._text


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def host_fingerprint() -> bytes:
    """The facts HostInfo.detect() depends on, as bytes (no parsing: any change misses)."""
    u = os.uname()
    parts = [
        u.release.encode(),
        u.machine.encode(),
        str(os.geteuid()).encode(),
        _read("/proc/sys/kernel/cap_last_cap"),
        _read("/sys/kernel/security/lsm"),
        " ".join(sorted(os.listdir("/proc/self/ns"))).encode(),
    ]
    mounts = _read("/proc/self/mountinfo")
    parts += [line for line in mounts.split(b"\n") if b"cgroup" in line or b"resctrl" in line]
    parts.append(_read("/sys/module/apparmor/parameters/enabled"))
    parts.append(b"selinux" if os.path.exists("/sys/fs/selinux/enforce") else b"")
    parts.append(b"kcore" if os.path.exists("/proc/kcore") else b"")
    parts.append(b"systemd" if os.path.isdir("/run/systemd/system") else b"")
    parts.append(_read("/sys/fs/cgroup/cgroup.controllers"))
    parts.append(_read("/sys/fs/cgroup/unified/cgroup.controllers"))
    # rootless mode (lower/rootless_host.py): the user namespace, the egid, and then the
    # runtime's own cgroups (a rootless plan binds them and checks their owner)
    uid_map = _read("/proc/self/uid_map")
    parts += [uid_map, str(os.getegid()).encode()]
    if os.geteuid() != 0 or uid_map.split() != [b"0", b"0", b"4294967295"]:
        parts.append(_read("/proc/self/cgroup"))
    return b"\n".join(parts)


def code_fingerprint() -> bytes:
    base = os.path.dirname(ocitool.__file__)
    stamps = [getattr(ocitool, "__version__", "").encode()]
    for sub in _CODE_DIRS:
        try:
            entries = sorted(os.scandir(os.path.join(base, sub)), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".py"):
                stamps.append(f"{sub}/{entry.name}:{entry.stat().st_mtime_ns}".encode())
    return b"\n".join(stamps)


def cache_key(config: bytes, bundle: str, driver: str = "cgroupfs") -> tuple[str, bytes]:
    """(entry name, fingerprint). The entry is named after the bundle; the whole
    fingerprint is stored in it and compared on load, so no hash (and no hashing
    module's import) is needed and a collision can only cause a miss. ``driver``:
    the cgroup driver the plan was lowered for (``cgroupfs`` or ``systemd``)."""
    parts = [config, bundle.encode(), host_fingerprint(), code_fingerprint(), driver.encode()]
    blob = b"\0".join(parts)
    name = bundle.strip("/").replace("%", "%25").replace("/", "%2F") or "%2F"
    return name[-200:], blob


def install_tag() -> str:
    """Which ocitool installation this is (FNV-1a of its package directory), so two
    installs sharing a state root (a site-packages copy and a checkout) keep an entry
    each instead of evicting each other's on every run."""
    h = 0x811C9DC5
    for byte in os.path.dirname(os.path.abspath(ocitool.__file__)).encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


def cache_path(root: str, name: str) -> str:
    """The entry ``name`` of this installation (see :func:`install_tag`)."""
    return os.path.join(root, ".plans", f"{install_tag()}-{name}")


def _swap(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list | tuple):
        return type(value)(_swap(v, old, new) for v in value)
    if isinstance(value, dict):
        return {k: _swap(v, old, new) for k, v in value.items()}
    return value


def _contains(value: Any, needle: str) -> bool:
    if isinstance(value, str):
        return needle in value
    if isinstance(value, list | tuple):
        return any(_contains(v, needle) for v in value)
    if isinstance(value, dict):
        return any(_contains(v, needle) for v in value.values())
    return False


def op_fields(op: Any) -> dict[str, Any]:
    """An op's own fields (not its phase and source), as stored in a cache row."""
    import dataclasses

    return {
        f.name: getattr(op, f.name)
        for f in dataclasses.fields(op)
        if f.name not in ("phase", "source")
    }


def store(
    root: str, key: tuple[str, bytes], ops: Any, container_id: str, meta: dict[str, Any]
) -> None:
    """Save ``ops`` (real op objects) and ``meta`` with ``container_id`` as the placeholder."""
    rows = []
    for op in ops:
        fields = op_fields(op)
        ph = op.phase
        text = op.text()
        has_id = container_id in text or _contains(fields, container_id)
        if has_id:  # only these ops need the id filled in when loaded
            text = text.replace(container_id, PLACEHOLDER)
            fields = _swap(fields, container_id, PLACEHOLDER)
        phase = (ph.value, ph.order, ph.process, ph.command)
        rows.append((op.name, phase, op.source, text, fields, has_id))
    write_entry(root, key[0], FORMAT, key[1], _swap(meta, container_id, PLACEHOLDER), rows)


def write_entry(root: str, name: str, fmt: int, blob: bytes, meta: Any, rows: list[Any]) -> bool:
    """Store one cache entry (this plan cache's, or a plan template) atomically; False
    when a field is of a type marshal cannot store (then there is just no entry)."""
    try:
        data = marshal.dumps((fmt, blob, meta, rows))
    except ValueError:
        return False
    path = cache_path(root, name)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    _prune(os.path.dirname(path))
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)
    return True


def read_entry(root: str, name: str, fmt: int, blob: bytes) -> tuple[Any, list[Any]] | None:
    """(meta, rows) of the entry ``name`` when it is in format ``fmt`` and was stored for
    exactly ``blob`` (the whole key is compared, so a name collision is only a miss)."""
    data = _read(cache_path(root, name))
    if not data:
        return None
    try:
        got_fmt, got_blob, meta, rows = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    if got_fmt != fmt or got_blob != blob:
        return None
    return meta, rows


MAX_ENTRIES = 64


def _prune(directory: str) -> None:
    """Keep the cache small: drop the least recently stored entries beyond MAX_ENTRIES."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.stat().st_mtime_ns)
    except OSError:
        return
    for entry in entries[: max(0, len(entries) - MAX_ENTRIES + 1)]:
        try:  # noqa: SIM105
            os.unlink(entry.path)
        except OSError:
            pass


def load(
    root: str, key: tuple[str, bytes], container_id: str
) -> tuple[list[FastOp], dict[str, Any]] | None:
    """(ops, meta) for ``key`` with ``container_id`` filled in, or None."""
    entry = read_entry(root, key[0], FORMAT, key[1])
    if entry is None:
        return None
    meta, rows = entry
    phases: dict[str, FastPhase] = {}
    ops = []
    for name, (value, order, process, command), source, text, fields, has_id in rows:
        phase = phases.get(value)
        if phase is None:
            phase = phases[value] = FastPhase(value, order, process, command)
        if has_id:
            text = text.replace(PLACEHOLDER, container_id)
            fields = _swap(fields, PLACEHOLDER, container_id)
        ops.append(FastOp(name, phase, source, text, fields))
    return ops, _swap(meta, PLACEHOLDER, container_id)
