"""What a rule sees: the raw config dict with type-safe accessors and cached facts.

Rules read the raw dict (through JSON pointers) rather than the typed model so
that they work on any document the loader accepted. Every accessor checks the
type it expects and falls back to an empty value, so a rule never crashes on
an odd config (schema validation reports the oddity itself).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from ocitool.capabilities import CAPABILITIES
from ocitool.lint.host import HostFacts
from ocitool.spec.load import Document

if TYPE_CHECKING:
    from ocitool.spec.model import Spec

CAP_SETS = ("effective", "permitted", "inheritable", "ambient", "bounding")
DENY_ACTIONS = frozenset(
    {
        "SCMP_ACT_KILL",
        "SCMP_ACT_KILL_PROCESS",
        "SCMP_ACT_KILL_THREAD",
        "SCMP_ACT_TRAP",
        "SCMP_ACT_ERRNO",
        "SCMP_ACT_TRACE",
    }
)
ALLOW_ACTIONS = frozenset({"SCMP_ACT_ALLOW", "SCMP_ACT_LOG"})
_HOST_NS_PREFIXES = ("/proc/1/ns/", "/proc/self/ns/")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def norm_cap(name: Any) -> str:
    if not isinstance(name, str):
        return ""
    upper = name.strip().upper()
    return upper if upper.startswith("CAP_") else "CAP_" + upper


def normpath(path: str) -> str:
    """Lexically normalised absolute path (no symlinks: lint reads no files)."""
    if (
        path[:1] == "/"
        and "//" not in path
        and "/." not in path
        and (path == "/" or path[-1] != "/")
    ):
        return path  # already normal: the common case
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def is_under(path: str, parent: str) -> bool:
    return path == parent or parent == "/" or path.startswith(parent.rstrip("/") + "/")


def covered_by(path: str, covers: frozenset[str]) -> bool:
    """True when normalised ``path`` or one of its ancestors is in ``covers``."""
    if "/" in covers:
        return True
    probe = path
    while probe:
        if probe in covers:
            return True
        probe = probe[: probe.rfind("/")]
    return False


class MountInfo(NamedTuple):
    """One mount with the facts several rules need, computed once."""

    position: int
    raw: dict[str, Any]
    type: Any
    options: list[str]
    bind: bool
    readonly: bool
    host_source: str | None  # normalised host path of a bind (/var/run folded into /run)


def mount_info(index: int, mount: dict[str, Any]) -> MountInfo:
    opts = [o for o in as_list(mount.get("options")) if isinstance(o, str)]
    kind = mount.get("type")
    bind = kind in ("bind", "rbind") or "bind" in opts or "rbind" in opts
    readonly = False
    for o in opts:
        if o == "ro":
            readonly = True
        elif o == "rw":
            readonly = False
    host_source = None
    source = mount.get("source")
    if bind and isinstance(source, str) and source.startswith("/"):
        host_source = normpath(source)
        if is_under(host_source, "/var/run"):
            host_source = "/run" + host_source[len("/var/run") :]
    return MountInfo(index, mount, kind, opts, bind, readonly, host_source)


class LintContext:
    """One document under lint, with the derived facts many rules share."""

    def __init__(self, doc: Document, host: HostFacts | None = None) -> None:
        self.doc = doc
        self.data: dict[str, Any] = as_dict(doc.data)
        self.host = host

    @cached_property
    def spec(self) -> Spec | None:
        """The typed model, for rules that reuse lowering's helpers; None when the
        document does not fit the model (schema validation reports why)."""
        from ocitool.errors import OciToolError
        from ocitool.spec.build import build_spec

        try:
            return build_spec(self.doc)
        except OciToolError:
            return None

    # -- plain sections -------------------------------------------------------
    @cached_property
    def process(self) -> dict[str, Any]:
        return as_dict(self.data.get("process"))

    @cached_property
    def linux(self) -> dict[str, Any]:
        return as_dict(self.data.get("linux"))

    @cached_property
    def resources(self) -> dict[str, Any]:
        return as_dict(self.linux.get("resources"))

    @cached_property
    def root(self) -> dict[str, Any]:
        return as_dict(self.data.get("root"))

    @cached_property
    def annotations(self) -> dict[str, Any]:
        return as_dict(self.data.get("annotations"))

    @cached_property
    def no_new_privileges(self) -> bool:
        return self.process.get("noNewPrivileges") is True

    @cached_property
    def uid(self) -> int | None:
        uid = as_dict(self.process.get("user")).get("uid")
        return uid if isinstance(uid, int) and not isinstance(uid, bool) else None

    # -- namespaces -----------------------------------------------------------
    @cached_property
    def namespaces(self) -> dict[str, tuple[int, dict[str, Any]]]:
        """Namespace type -> (index, entry), first occurrence of each type."""
        out: dict[str, tuple[int, dict[str, Any]]] = {}
        for i, ns in enumerate(as_list(self.linux.get("namespaces"))):
            ns = as_dict(ns)
            kind = ns.get("type")
            if isinstance(kind, str) and kind not in out:
                out[kind] = (i, ns)
        return out

    def has_ns(self, kind: str) -> bool:
        """True when the container gets (or joins) a namespace of this type."""
        return kind in self.namespaces

    def shares_host_ns(self, kind: str) -> bool:
        """True when the namespace is the host's: not listed, or joined through /proc/1|self."""
        if kind not in self.namespaces:
            return True
        path = self.namespaces[kind][1].get("path")
        return isinstance(path, str) and path.startswith(_HOST_NS_PREFIXES)

    @cached_property
    def safe_userns(self) -> bool:
        """A user namespace of the container's own whose mappings leave out host uid/gid 0.

        Container root is then an unprivileged host user: the host's own file
        permissions bound what it can read or write through a bind mount.
        """
        if self.shares_host_ns("user"):
            return False
        for key in ("uidMappings", "gidMappings"):
            for m in as_list(self.linux.get(key)):
                m = as_dict(m)
                host, size = m.get("hostID"), m.get("size")
                if not isinstance(host, int) or not isinstance(size, int):
                    return False
                if host <= 0 < host + size:
                    return False
        return True

    # -- capabilities ---------------------------------------------------------
    @cached_property
    def caps(self) -> dict[str, dict[str, int]]:
        """Set name -> {normalised cap name: index in the list}."""
        capsd = as_dict(self.process.get("capabilities"))
        out: dict[str, dict[str, int]] = {}
        for set_name in CAP_SETS:
            entries: dict[str, int] = {}
            for i, cap in enumerate(as_list(capsd.get(set_name))):
                name = norm_cap(cap)
                if name and name not in entries:
                    entries[name] = i
            out[set_name] = entries
        return out

    @cached_property
    def granted(self) -> dict[str, str]:
        """Caps the process holds or can gain -> pointer of the entry that grants it.

        Effective, permitted and ambient caps are held; a bounding cap can be
        gained through a setuid-root or file-capability binary unless
        no_new_privs is set.
        """
        out: dict[str, str] = {}
        sets = ["effective", "permitted", "ambient"]
        if not self.no_new_privileges:
            sets.append("bounding")
        for set_name in sets:
            for cap, i in self.caps[set_name].items():
                out.setdefault(cap, f"/process/capabilities/{set_name}/{i}")
        return out

    @cached_property
    def privileged(self) -> bool:
        """All, or all but a few, of the known capabilities are granted."""
        known = sum(1 for c in self.granted if c in _KNOWN)
        return known >= len(CAPABILITIES) - 4

    # -- mounts ---------------------------------------------------------------
    @cached_property
    def mounts(self) -> list[MountInfo]:
        return [mount_info(i, as_dict(m)) for i, m in enumerate(as_list(self.data.get("mounts")))]

    @cached_property
    def masked_paths(self) -> frozenset[str]:
        paths = as_list(self.linux.get("maskedPaths"))
        return frozenset(normpath(p) for p in paths if isinstance(p, str) and p)

    @cached_property
    def readonly_paths(self) -> frozenset[str]:
        paths = as_list(self.linux.get("readonlyPaths"))
        return frozenset(normpath(p) for p in paths if isinstance(p, str) and p)

    @cached_property
    def destinations(self) -> list[tuple[int, str, str]]:
        """(index, destination as written, normalised) of every mount with a string destination."""
        out = []
        for m in self.mounts:
            d = m.raw.get("destination")
            if isinstance(d, str) and d:
                out.append((m.position, d, normpath(d) if d.startswith("/") else d))
        return out

    @cached_property
    def mounts_proc(self) -> bool:
        return any(m.type == "proc" for m in self.mounts)

    # -- seccomp --------------------------------------------------------------
    @cached_property
    def seccomp(self) -> dict[str, Any] | None:
        value = self.linux.get("seccomp")
        return value if isinstance(value, dict) else None

    @cached_property
    def seccomp_default(self) -> str | None:
        action = (self.seccomp or {}).get("defaultAction")
        return action if isinstance(action, str) else None

    @cached_property
    def syscall_rules(self) -> list[tuple[int, int, str, str, bool]]:
        """(rule index, name index, name, action, has argument conditions) per named syscall.

        The pointer of a name is ``syscall_pointer(i, j)``; it is built only for findings.
        """
        out = []
        for i, entry in enumerate(as_list((self.seccomp or {}).get("syscalls"))):
            entry = as_dict(entry)
            action = entry.get("action")
            if not isinstance(action, str):
                continue
            has_args = bool(as_list(entry.get("args")))
            for j, name in enumerate(as_list(entry.get("names"))):
                if isinstance(name, str):
                    out.append((i, j, name, action, has_args))
        return out


def syscall_pointer(i: int, j: int) -> str:
    return f"/linux/seccomp/syscalls/{i}/names/{j}"


_KNOWN = frozenset(CAPABILITIES)
