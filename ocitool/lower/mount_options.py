"""Split a mount's ``options`` into MS_* flags, propagation, recursive attributes and fs data.

The kernel's ``mount(2)`` takes two things: a flags word and an opaque data
string that the filesystem parses. ``mount(8)`` and every OCI runtime sort the
comma-separated option words into those two buckets with one table; an option
the table does not know goes to the filesystem as data (``mode=755``,
``size=64k``, ``newinstance``...). We keep that table here, in one place, so
the plan shows exactly which words became flags and which became data.

Extra buckets beyond mount(8), taken from runc/crun:

* propagation words (``rprivate``, ``shared``...) are never mixed into the
  first ``mount()``; each becomes its own ``mount(NULL, target, NULL, MS_*)``
  call, in the order given;
* recursive attribute words (``rro``, ``rnosuid``...) become one
  ``mount_setattr(AT_RECURSIVE)`` call (Linux 5.12+);
* ``idmap`` / ``ridmap`` ask for an id-mapped mount (``MOUNT_ATTR_IDMAP``);
* ``tmpcopyup`` asks the runtime to copy the directory's old contents into a
  fresh tmpfs;
* words that only mean something to ``/etc/fstab`` handling in mount(8)
  (``auto``, ``noauto``, ``nofail``, ``user``, ``_netdev``, ``x-*``...) never
  reach the kernel there, and are dropped here too, with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ocitool.kernel.constants import MOUNT_ATTR as MOUNT_ATTR_FLAGS
from ocitool.kernel.constants import MS

# The kernel's values (generated from include/uapi/linux/mount.h, see
# ocitool.kernel.constants). Names are what the plan prints; MS_FLAGS is in bit order.
MS_FLAGS: dict[str, int] = MS
MOUNT_ATTR: dict[str, int] = MOUNT_ATTR_FLAGS

# option -> (clear?, MS_* flag names). "clear" options remove the flag again,
# so the last of e.g. "ro" / "rw" wins, as in mount(8).
FLAG_OPTIONS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "defaults": (False, ()),
    "ro": (False, ("MS_RDONLY",)),
    "rw": (True, ("MS_RDONLY",)),
    "nosuid": (False, ("MS_NOSUID",)),
    "suid": (True, ("MS_NOSUID",)),
    "nodev": (False, ("MS_NODEV",)),
    "dev": (True, ("MS_NODEV",)),
    "noexec": (False, ("MS_NOEXEC",)),
    "exec": (True, ("MS_NOEXEC",)),
    "sync": (False, ("MS_SYNCHRONOUS",)),
    "async": (True, ("MS_SYNCHRONOUS",)),
    "dirsync": (False, ("MS_DIRSYNC",)),
    "remount": (False, ("MS_REMOUNT",)),
    "bind": (False, ("MS_BIND",)),
    "rbind": (False, ("MS_BIND", "MS_REC")),
    "mand": (False, ("MS_MANDLOCK",)),
    "nomand": (True, ("MS_MANDLOCK",)),
    "noatime": (False, ("MS_NOATIME",)),
    "atime": (True, ("MS_NOATIME",)),
    "nodiratime": (False, ("MS_NODIRATIME",)),
    "diratime": (True, ("MS_NODIRATIME",)),
    "relatime": (False, ("MS_RELATIME",)),
    "norelatime": (True, ("MS_RELATIME",)),
    "strictatime": (False, ("MS_STRICTATIME",)),
    "nostrictatime": (True, ("MS_STRICTATIME",)),
    "silent": (False, ("MS_SILENT",)),
    "loud": (True, ("MS_SILENT",)),
    "lazytime": (False, ("MS_LAZYTIME",)),
    "nolazytime": (True, ("MS_LAZYTIME",)),
    "iversion": (False, ("MS_I_VERSION",)),
    "noiversion": (True, ("MS_I_VERSION",)),
    "nosymfollow": (False, ("MS_NOSYMFOLLOW",)),
    "symfollow": (True, ("MS_NOSYMFOLLOW",)),
}

PROPAGATION_OPTIONS: dict[str, tuple[str, ...]] = {
    "private": ("MS_PRIVATE",),
    "rprivate": ("MS_REC", "MS_PRIVATE"),
    "shared": ("MS_SHARED",),
    "rshared": ("MS_REC", "MS_SHARED"),
    "slave": ("MS_SLAVE",),
    "rslave": ("MS_REC", "MS_SLAVE"),
    "unbindable": ("MS_UNBINDABLE",),
    "runbindable": ("MS_REC", "MS_UNBINDABLE"),
}

# option -> (clear?, MOUNT_ATTR_* name), applied with mount_setattr(AT_RECURSIVE).
RECURSIVE_OPTIONS: dict[str, tuple[bool, str]] = {
    "rro": (False, "MOUNT_ATTR_RDONLY"),
    "rrw": (True, "MOUNT_ATTR_RDONLY"),
    "rnosuid": (False, "MOUNT_ATTR_NOSUID"),
    "rsuid": (True, "MOUNT_ATTR_NOSUID"),
    "rnodev": (False, "MOUNT_ATTR_NODEV"),
    "rdev": (True, "MOUNT_ATTR_NODEV"),
    "rnoexec": (False, "MOUNT_ATTR_NOEXEC"),
    "rexec": (True, "MOUNT_ATTR_NOEXEC"),
    "rnodiratime": (False, "MOUNT_ATTR_NODIRATIME"),
    "rdiratime": (True, "MOUNT_ATTR_NODIRATIME"),
    "rrelatime": (False, "MOUNT_ATTR_RELATIME"),
    "rnorelatime": (True, "MOUNT_ATTR_RELATIME"),
    "rnoatime": (False, "MOUNT_ATTR_NOATIME"),
    "ratime": (True, "MOUNT_ATTR_NOATIME"),
    "rstrictatime": (False, "MOUNT_ATTR_STRICTATIME"),
    "rnostrictatime": (True, "MOUNT_ATTR_STRICTATIME"),
    "rnosymfollow": (False, "MOUNT_ATTR_NOSYMFOLLOW"),
    "rsymfollow": (True, "MOUNT_ATTR_NOSYMFOLLOW"),
}

ATIME_ATTRS = frozenset({"MOUNT_ATTR_RELATIME", "MOUNT_ATTR_NOATIME", "MOUNT_ATTR_STRICTATIME"})

# Words mount(8) consumes itself (fstab semantics) and never passes to the kernel.
USERSPACE_ONLY = frozenset(
    {"auto", "noauto", "nofail", "user", "nouser", "users", "owner", "group", "_netdev"}
)
USERSPACE_PREFIXES = ("x-", "comment=")


def flag_value(names: list[str] | tuple[str, ...]) -> int:
    """The numeric flags word for a list of MS_* names."""
    value = 0
    for name in names:
        value |= MS_FLAGS[name]
    return value


def flag_names(value: int) -> list[str]:
    """MS_* names for a flags word, in bit order (the order the plan prints)."""
    return [name for name, bit in MS_FLAGS.items() if value & bit]


def attr_value(names: list[str] | tuple[str, ...]) -> int:
    value = 0
    for name in names:
        value |= MOUNT_ATTR[name]
    return value


def format_flags(names: list[str] | tuple[str, ...]) -> str:
    """``MS_A|MS_B`` or ``0``, as strace prints a flags word."""
    return "|".join(names) if names else "0"


@dataclass(frozen=True)
class MountOptions:
    """One mount's options, sorted into what each system call needs."""

    flags: tuple[str, ...] = ()
    cleared: tuple[str, ...] = ()
    data: tuple[str, ...] = ()
    propagation: tuple[tuple[str, ...], ...] = ()
    attr_set: tuple[str, ...] = ()
    attr_clr: tuple[str, ...] = ()
    idmap: str | None = None  # None, "idmap" or "ridmap"
    tmpcopyup: bool = False
    ignored: tuple[str, ...] = ()

    @property
    def flags_value(self) -> int:
        return flag_value(self.flags)

    @property
    def data_string(self) -> str | None:
        """Comma-joined fs data, or None when there is none (strace's NULL)."""
        return ",".join(self.data) if self.data else None

    @property
    def is_bind(self) -> bool:
        return "MS_BIND" in self.flags

    @property
    def is_recursive_bind(self) -> bool:
        return "MS_BIND" in self.flags and "MS_REC" in self.flags

    @property
    def has_recursive_attrs(self) -> bool:
        return bool(self.attr_set or self.attr_clr)


@dataclass
class _Builder:
    flags: int = 0
    cleared: int = 0
    data: list[str] = field(default_factory=list)
    propagation: list[tuple[str, ...]] = field(default_factory=list)
    attr_set: set[str] = field(default_factory=set)
    attr_clr: set[str] = field(default_factory=set)
    idmap: str | None = None
    tmpcopyup: bool = False
    ignored: list[str] = field(default_factory=list)


def _ordered_attrs(names: set[str]) -> tuple[str, ...]:
    return tuple(n for n in MOUNT_ATTR if n in names)


def parse_mount_options(options: list[str] | tuple[str, ...] | None) -> MountOptions:
    """Sort option words the way mount(8) and runc do; later words override earlier ones."""
    b = _Builder()
    for word in options or ():
        if word in FLAG_OPTIONS:
            clear, names = FLAG_OPTIONS[word]
            bits = flag_value(names)
            if clear:
                b.flags &= ~bits
                b.cleared |= bits
            else:
                b.flags |= bits
                b.cleared &= ~bits
        elif word in PROPAGATION_OPTIONS:
            b.propagation.append(PROPAGATION_OPTIONS[word])
        elif word in RECURSIVE_OPTIONS:
            clear, name = RECURSIVE_OPTIONS[word]
            if clear:
                b.attr_clr.add(name)
                b.attr_set.discard(name)
            else:
                b.attr_set.add(name)
                b.attr_clr.discard(name)
            if name in ATIME_ATTRS:
                # mount_setattr(2): the atime modes are an enum; any change of it
                # needs all of MOUNT_ATTR__ATIME in attr_clr (EINVAL otherwise), so
                # ratime/rnostrictatime clear it and set relatime (0), as runc does.
                b.attr_clr.add("MOUNT_ATTR__ATIME")
        elif word in ("idmap", "ridmap"):
            b.idmap = word
        elif word == "tmpcopyup":
            b.tmpcopyup = True
        elif word in USERSPACE_ONLY or word.startswith(USERSPACE_PREFIXES):
            b.ignored.append(word)
        else:
            b.data.append(word)
    return MountOptions(
        flags=tuple(flag_names(b.flags)),
        cleared=tuple(flag_names(b.cleared)),
        data=tuple(b.data),
        propagation=tuple(b.propagation),
        attr_set=_ordered_attrs(b.attr_set),
        attr_clr=_ordered_attrs(b.attr_clr),
        idmap=b.idmap,
        tmpcopyup=b.tmpcopyup,
        ignored=tuple(b.ignored),
    )


# Flags that make a bind mount need a second, remounting call: the first
# mount(MS_BIND) ignores everything but MS_BIND|MS_REC.
BIND_ONLY = frozenset({"MS_BIND", "MS_REC", "MS_REMOUNT"})


def bind_remount_flags(opts: MountOptions) -> list[str] | None:
    """Flags for the ``MS_REMOUNT|MS_BIND`` call after a bind mount, or None if not needed.

    MS_REC is dropped: a bind remount changes only the top mount's per-mount
    flags (recursive changes are what ``rro`` & co. / mount_setattr are for).
    """
    extra = [f for f in opts.flags if f not in BIND_ONLY]
    if not extra:
        return None
    names = set(extra) | {"MS_BIND", "MS_REMOUNT"}
    return [n for n in MS_FLAGS if n in names]
