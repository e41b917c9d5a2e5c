"""The plan cache: a lowered plan's own JSON, stored per bundle, read back as real op objects.

Lowering a config means importing the spec model, the lowering and the seccomp
compiler, which costs far more than starting the container; ``ocitool exec``
and ``ocitool-runc create``/``run`` start the same bundle again and again.
So the plan lowering produced is stored -- as the ops' own ``to_json()``, the
form ``ocitool plan --json`` prints -- and a later run with the same inputs
rebuilds the very same op objects from it (:func:`op_from_json`; a unit test
checks ``op_from_json(op.to_json()) == op`` for every op of the golden plans).
The plan that runs is still the plan lowering printed (DESIGN.md).

The key (:class:`Key`) holds everything lowering reads: the config bytes, the
bundle path, the host facts (:meth:`ocitool.host.HostInfo.detect`), the
lowering options (cgroup driver, ``--no-pivot``, ``--no-new-keyring``) and the
code (:func:`code_version`). The whole key is stored in the entry and compared
on load, so a name collision is only a miss. An unreadable or corrupt entry is
a miss too: the caller lowers again and overwrites it.

Ids that vary per request are ``tokens``: they are replaced by placeholders
when storing and filled in when loading, so one entry serves every container
id (and, for :mod:`ocitool.plan.template`, every id an engine writes into its
per-container configs). A token that also occurs elsewhere in the inputs
would be ambiguous; callers do not cache such requests.

Two installs of ocitool sharing a state root (a site-packages copy and a
checkout) would evict each other's entry on every run; the entry's file name
therefore starts with a tag of the installation (:func:`install_tag`).

Entries are ``marshal``-encoded (a builtin module: no import on the start path)
and written atomically (temporary file + rename).
"""

from __future__ import annotations

import marshal
import os

import ocitool
from ocitool.plan.ops import op_types
from ocitool.plan.ops.base import phase_from_value
from ocitool.records import Record
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from ocitool.host import HostInfo
    from ocitool.plan.ops.base import JSON, Op

FORMAT = 4
"""Bumped whenever the entry layout or the ops' JSON form changes incompatibly."""

MAX_ENTRIES = 64
"""Entries kept per state root; the least recently stored go first."""

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
"""The package directories whose modules lowering runs (``.``: host, records, kernel data)."""

_NOT_FIELDS = frozenset({"op", "phase", "source", "text"})


def placeholder(i: int) -> str:
    """The stand-in for the ``i``-th token in a stored entry (NUL never occurs in JSON text
    that came from a valid config, so it cannot clash with real content)."""
    return f"\x00ocitool-t{i}\x00"


class Key(Record):
    """Where an entry lives (``name``), what it was made from (``blob``) and which strings
    of the request are tokens (``tokens``: placeholders in the entry)."""

    name: str
    blob: bytes
    tokens: tuple[str, ...]


def code_version() -> bytes:
    """The ocitool version and the modification time of every module lowering uses."""
    base = os.path.dirname(ocitool.__file__)
    stamps = [ocitool.__version__.encode()]
    for sub in _CODE_DIRS:
        try:
            entries = sorted(os.scandir(os.path.join(base, sub)), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".py"):
                stamps.append(f"{sub}/{entry.name}:{entry.stat().st_mtime_ns}".encode())
    return b"\n".join(stamps)


def lowering_options(
    systemd_cgroup: bool, no_pivot: bool = False, no_new_keyring: bool = False
) -> tuple[str, ...]:
    """The lowering options as a plan cache key component (one definition for
    ``ocitool exec`` and ocitool-runc)."""
    return (
        "systemd" if systemd_cgroup else "cgroupfs",
        *(["no_pivot"] if no_pivot else []),
        *(["no_new_keyring"] if no_new_keyring else []),
    )


def make_key(
    inputs: tuple[bytes | str, ...],
    bundle: str,
    host: HostInfo,
    options: tuple[str, ...],
    tokens: tuple[str, ...],
    name: str | None = None,
) -> Key:
    """The key of a request: ``inputs`` (the config, or a template's normalized text),
    ``bundle``, ``host`` (HostInfo.detect()), the lowering ``options`` and the code.
    ``name`` defaults to one derived from the bundle path."""
    blob = marshal.dumps((FORMAT, inputs, bundle, host.to_json(), options, code_version()))
    if name is None:
        name = bundle.strip("/").replace("%", "%25").replace("/", "%2F")[-200:] or "%2F"
    return Key(name=name, blob=blob, tokens=tokens)


def install_tag() -> str:
    """Which ocitool installation this is (FNV-1a of its package directory)."""
    h = 0x811C9DC5
    for byte in os.path.dirname(os.path.abspath(ocitool.__file__)).encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


def entry_path(root: str, key: Key) -> str:
    """The file of ``key``'s entry under the state root ``root``, for this installation."""
    return os.path.join(root, ".plans", f"{install_tag()}-{key.name}")


def _walk(value: Any, fn: Any) -> Any:
    """``value`` (JSON data) with ``fn`` applied to every string in it."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list | tuple):
        return [_walk(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, fn) for k, v in value.items()}
    return value


def _tuples(value: Any) -> Any:
    """JSON arrays back to the tuples op fields hold."""
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def op_from_json(data: dict[str, JSON], types: dict[str, type[Op]] | None = None) -> Op:
    """The op whose ``to_json()`` is ``data`` (its ``text`` is recomputed, not read);
    ``types``: :func:`ocitool.plan.ops.op_types`, when the caller has it already."""
    cls = (types or op_types())[str(data["op"])]
    fields: dict[str, Any] = {k: _tuples(v) if type(v) is list else v for k, v in data.items()}
    for name in _NOT_FIELDS:
        fields.pop(name, None)
    for field, key in cls.json_names.items():
        if key in fields:
            fields[field] = fields.pop(key)
    source = data.get("source")
    fields["phase"] = phase_from_value(str(data["phase"]))
    fields["source"] = source if isinstance(source, str) else None
    return cls(**fields)


def _hide(tokens: tuple[str, ...]) -> Any:
    def hide(s: str) -> str:
        for i, tok in enumerate(tokens):
            s = s.replace(tok, placeholder(i))
        return s

    return hide


def _fill(tokens: tuple[str, ...]) -> Any:
    def fill(s: str) -> str:
        if "\x00" in s:
            for i, tok in enumerate(tokens):
                s = s.replace(placeholder(i), tok)
        return s

    return fill


def stored_form(
    ops: list[Op] | tuple[Op, ...], meta: dict[str, Any], tokens: tuple[str, ...]
) -> tuple[list[tuple[bool, JSON]], Any]:
    """(rows, meta) as an entry holds them: each op's JSON with ``tokens`` as placeholders,
    and whether it has any (only those are filled in on load)."""
    hide = _hide(tokens)
    rows: list[tuple[bool, JSON]] = []
    for op in ops:
        data = op.to_json()
        hidden = _walk(data, hide)
        rows.append((hidden != data, hidden))
    return rows, _walk(meta, hide)


def store(root: str, key: Key, ops: list[Op] | tuple[Op, ...], meta: dict[str, Any]) -> bool:
    """Save the plan ``ops`` and ``meta`` (plain data) under ``key``; False when a value
    cannot be stored (then there is just no entry). OSError when ``root`` is unwritable."""
    rows, hidden_meta = stored_form(ops, meta, key.tokens)
    return write_rows(root, key, rows, hidden_meta)


def write_rows(root: str, key: Key, rows: list[tuple[bool, JSON]], meta: Any) -> bool:
    """Write an entry already in stored form (:func:`stored_form`), atomically."""
    try:
        data = marshal.dumps((FORMAT, key.blob, meta, rows))
    except ValueError:
        return False
    path = entry_path(root, key)
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    _prune(directory)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)
    return True


def load(root: str, key: Key) -> tuple[list[Op], dict[str, Any]] | None:
    """(ops, meta) stored under ``key`` with its tokens filled in, or None: no entry, an
    entry for other inputs, or one that cannot be read back (corrupt, old format)."""
    try:
        with open(entry_path(root, key), "rb") as f:
            raw = f.read()
    except OSError:
        return None
    fill = _fill(key.tokens)
    try:
        fmt, blob, meta, rows = marshal.loads(raw)
        if fmt != FORMAT or blob != key.blob:
            return None
        types = op_types()
        ops = [op_from_json(_walk(data, fill) if marked else data, types) for marked, data in rows]
    except (ValueError, EOFError, TypeError, KeyError, AttributeError):
        return None
    return ops, _walk(meta, fill)


def _prune(directory: str) -> None:
    """Keep at most MAX_ENTRIES entries: drop the least recently stored ones."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.stat().st_mtime_ns)
    except OSError:
        return
    for entry in entries[: max(0, len(entries) - MAX_ENTRIES + 1)]:
        try:  # noqa: SIM105 - contextlib is an import on the start path
            os.unlink(entry.path)
        except OSError:
            pass


def request_key(config: bytes, bundle: str, cid: str, options: tuple[str, ...]) -> Key | None:
    """The key for lowering ``config`` in ``bundle`` as container ``cid`` on this host with
    ``options``, or None when the request is not cached: no config, an id that also
    occurs in the config or the bundle path (the placeholder could not tell them
    apart), or a caller that is not root."""
    if not config or cid.encode() in config or cid in bundle or os.geteuid() != 0:
        return None
    from ocitool.host import HostInfo

    return make_key((config,), bundle, HostInfo.detect(), options, (cid,))
