"""What a check sees: the config (document and typed spec), the plan lowered for this host,
the host's facts, and the two sets of credentials the plan runs with.

The init performs the create-phase ops as the container's root: with a user
namespace that is host uid ``map(0)`` with every capability of that
namespace; without one it is the host's root. The user process (``chdir``
to ``process.cwd`` and ``execve``) runs as ``process.user`` with the
effective capabilities of ``process.capabilities``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any, TypeVar

from ocitool.capabilities import CAPABILITIES, mask_to_names
from ocitool.check.creds import Creds, IdMap, to_host
from ocitool.check.facts import HostFacts
from ocitool.exec.exe import DEFAULT_PATH
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op
from ocitool.plan.ops.fs import Mount
from ocitool.spec.load import Document
from ocitool.spec.model import IDMapping, Spec

OpT = TypeVar("OpT", bound=Op)


def _idmap(entries: tuple[IDMapping, ...]) -> IdMap:
    return tuple((m.container_id, m.host_id, m.size) for m in entries)


class CheckContext:
    """One bundle on one host, ready to be checked."""

    def __init__(
        self,
        spec: Spec,
        ops: Sequence[Op],
        host: HostInfo,
        bundle: str,
        *,
        doc: Document | None = None,
        facts: HostFacts | None = None,
    ) -> None:
        self.spec = spec
        self.ops = ops
        self.host = host
        self.bundle = os.path.abspath(bundle)
        self.doc = doc
        self.facts = facts if facts is not None else HostFacts()
        self.memo: dict[str, Any] = {}  # what several checks derive once (args[0] resolved)

    # ------------------------------------------------------------------ plan
    def each(self, kind: type[OpT]) -> Iterator[tuple[int, OpT]]:
        """(index, op) for every op of class ``kind`` (exactly; subclasses are other ops)."""
        for i, op in enumerate(self.ops):
            if type(op) is kind:
                yield i, op  # type: ignore[misc]

    def made_before(self, index: int, path: str) -> bool:
        """True when an op before ``index`` creates ``path`` or a directory above it on the
        host (the container's cgroup directories, which cgroup mounts bind)."""
        for op in self.ops[:index]:
            made = getattr(op, "path", None) if op.name == "cgroup_mkdir" else None
            if isinstance(made, str) and (path == made or path.startswith(made.rstrip("/") + "/")):
                return True
        return False

    def mounted_over(self, index: int, path: str) -> bool:
        """True when an op before ``index`` mounts something on a directory above the
        container path ``path`` (the op then works on that mount, not in the image)."""
        for op in self.ops[:index]:
            if isinstance(op, Mount) and op.root is not None and op.name != "remount":
                top = op.target.rstrip("/")
                if path.startswith(top + "/"):
                    return True
        return False

    def index_of(self, name: str, *, last: bool = False) -> int | None:
        found = None
        for i, op in enumerate(self.ops):
            if op.name == name:
                if not last:
                    return i
                found = i
        return found

    # ------------------------------------------------------------------ config
    @cached_property
    def rootfs(self) -> str:
        root = self.spec.root
        return os.path.normpath(os.path.join(self.bundle, root.path if root else "rootfs"))

    @cached_property
    def userns(self) -> bool:
        return self.spec.has_namespace("user")

    @cached_property
    def userns_joined(self) -> bool:
        """A user namespace joined by path: its maps are not in the config."""
        ns = self.spec.linux.namespace("user") if self.spec.linux else None
        return ns is not None and bool(ns.path)

    @cached_property
    def uid_map(self) -> IdMap | None:
        if not self.userns or self.spec.linux is None:
            return None
        return _idmap(self.spec.linux.uid_mappings)

    @cached_property
    def gid_map(self) -> IdMap | None:
        if not self.userns or self.spec.linux is None:
            return None
        return _idmap(self.spec.linux.gid_mappings)

    @cached_property
    def init_creds(self) -> Creds | None:
        """The init during create (None: unknown, a joined user namespace, or root unmapped)."""
        if self.userns_joined:
            return None
        uid, gid = to_host(0, self.uid_map), to_host(0, self.gid_map)
        if uid is None or gid is None:
            return None
        label = "the container's root" if self.userns else "the runtime (root)"
        return Creds(
            uid=uid,
            gids=(gid,),
            caps=frozenset(CAPABILITIES),
            uid_map=self.uid_map,
            gid_map=self.gid_map,
            label=label,
        )

    @cached_property
    def process_creds(self) -> Creds | None:
        """The user process at chdir/execve (None: unknown or unmapped ids)."""
        proc = self.spec.process
        if proc is None or self.userns_joined:
            return None
        user = proc.user
        uid = to_host(user.uid, self.uid_map)
        gids = [to_host(g, self.gid_map) for g in (user.gid, *user.additional_gids)]
        if uid is None or any(g is None for g in gids):
            return None
        effective = frozenset(mask_to_names(self._effective_mask()))
        return Creds(
            uid=uid,
            gids=tuple(g for g in gids if g is not None),
            caps=effective,
            uid_map=self.uid_map,
            gid_map=self.gid_map,
            label=f"the container user {user.uid}:{user.gid}",
        )

    def _effective_mask(self) -> int:
        """The effective set the plan's capabilities op gives the process (0 without one)."""
        for op in self.ops:
            if op.name == "capabilities":
                return int(getattr(op, "effective", 0))
        return 0

    @cached_property
    def path_var(self) -> str:
        value = DEFAULT_PATH
        for item in self.spec.process.env if self.spec.process else ():
            if item.startswith("PATH="):
                value = item[5:]
        return value

    def raw(self, pointer: str) -> Any:
        """The config value at ``pointer`` (None when absent or there is no document)."""
        if self.doc is None:
            return None
        value: Any = self.doc.data
        for part in pointer.split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return None
        return value
