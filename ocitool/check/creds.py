"""Who performs an op, as the kernel's permission checks see it: host ids and capabilities.

The container's ids are translated through the config's uid/gid maps (a
user namespace) into the host ids the kernel compares with a file's owner.
Capabilities only override permissions on files whose owner and group are
mapped into the caller's user namespace (capable_wrt_inode_uidgid), which is
why a container root mapped to host uid 100000 cannot enter a 0700 directory
owned by the host's root, while the real root can.
"""

from __future__ import annotations

from ocitool.records import Record

R_OK, W_OK, X_OK = 4, 2, 1
IdMap = tuple[tuple[int, int, int], ...]  # (container id, host id, size)


def to_host(ident: int, mapping: IdMap | None) -> int | None:
    """The host id of container id ``ident`` (None: not mapped); no map means no user ns."""
    if mapping is None:
        return ident
    for inside, outside, size in mapping:
        if inside <= ident < inside + size:
            return outside + ident - inside
    return None


def to_container(host_id: int, mapping: IdMap | None) -> int | None:
    """The container id a host id appears as (None: unmapped, shown as the overflow id)."""
    if mapping is None:
        return host_id
    for inside, outside, size in mapping:
        if outside <= host_id < outside + size:
            return inside + host_id - outside
    return None


class Creds(Record):
    """One process's view for permission checks.

    ``uid``/``gids`` are host ids (``gids[0]`` is the primary group);
    ``caps`` are the effective capabilities that bypass permission checks
    (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH); ``uid_map``/``gid_map`` are the
    user namespace's maps (None: the host's namespace, where caps apply to
    every file).
    """

    uid: int
    gids: tuple[int, ...]
    caps: frozenset[str] = frozenset()
    uid_map: IdMap | None = None
    gid_map: IdMap | None = None
    label: str = "the container"

    def describe(self) -> str:
        """``the container's root (host uid 100000, gid 100000)``."""
        return f"{self.label} (host uid {self.uid}, gid {self.gids[0] if self.gids else '?'})"

    def _caps_apply(self, owner: int, group: int) -> bool:
        return (
            to_container(owner, self.uid_map) is not None
            and to_container(group, self.gid_map) is not None
        )

    def may(self, mode: int, owner: int, group: int, want: int, *, is_dir: bool) -> bool:
        """generic_permission(): may these creds ``want`` (R_OK|W_OK|X_OK) this inode?"""
        if self.uid == owner:
            bits = (mode >> 6) & 7
        elif group in self.gids:
            bits = (mode >> 3) & 7
        else:
            bits = mode & 7
        if bits & want == want:
            return True
        if not self._caps_apply(owner, group):
            return False
        # CAP_DAC_OVERRIDE: execute on a file still needs one x bit somewhere
        if "CAP_DAC_OVERRIDE" in self.caps and (is_dir or not want & X_OK or mode & 0o111):
            return True
        if "CAP_DAC_READ_SEARCH" in self.caps:
            return not want & W_OK and (is_dir or not want & X_OK)
        return False
