"""Build the demo bundle: a rootfs from the host's busybox-static, or read-only binds of the host.

Nothing is downloaded. With a static busybox the rootfs is a copy of that one
binary plus applet symlinks; without one, the config bind-mounts the host's
/usr, /bin, /lib* read-only into an empty root (merged-/usr symlinks are
recreated as symlinks, so /bin/sh resolves the way it does on the host).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocitool.errors import UsageError

BUSYBOX_CANDIDATES = ("/bin/busybox", "/usr/bin/busybox", "/usr/lib/busybox/busybox-static")
APPLETS = ("sh", "cat", "grep", "head", "hostname", "id", "ls", "wc", "echo", "true", "sleep")
MOUNT_POINTS = ("proc", "dev", "sys", "tmp", "etc", "run")
HOST_ROOT_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
DEMO_HOSTNAME = "ocitool-demo"


@dataclass(frozen=True)
class DemoBundle:
    path: Path
    rootfs_kind: str  # "busybox" or "host-binds"


def find_static_busybox() -> str | None:
    """A busybox binary that needs no shared libraries (so a bare rootfs can run it)."""
    for candidate in BUSYBOX_CANDIDATES:
        try:
            with open(candidate, "rb") as fh:
                head = fh.read(1 << 16)
        except OSError:
            continue
        # A dynamically linked ELF names its interpreter (PT_INTERP) near the start.
        if head.startswith(b"\x7fELF") and b"ld-linux" not in head and b"/lib64/ld" not in head:
            return candidate
    return None


def _make_rootfs_dirs(rootfs: Path) -> None:
    rootfs.mkdir(mode=0o755)
    for name in MOUNT_POINTS:
        (rootfs / name).mkdir(mode=0o755)
    (rootfs / "tmp").chmod(0o1777)
    (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\n")
    (rootfs / "etc" / "group").write_text("root:x:0:\n")


def busybox_rootfs(rootfs: Path, busybox: str) -> None:
    _make_rootfs_dirs(rootfs)
    bindir = rootfs / "bin"
    bindir.mkdir(mode=0o755)
    shutil.copy2(busybox, bindir / "busybox")
    (bindir / "busybox").chmod(0o755)
    for applet in APPLETS:
        (bindir / applet).symlink_to("busybox")


def host_bind_mounts(rootfs: Path) -> list[dict[str, Any]]:
    """Mount entries binding the host's system dirs read-only (and recreating symlinked ones)."""
    _make_rootfs_dirs(rootfs)
    mounts = []
    for name in HOST_ROOT_DIRS:
        host = Path("/") / name
        if host.is_symlink():
            (rootfs / name).symlink_to(os.readlink(host))
        elif host.is_dir():
            (rootfs / name).mkdir(mode=0o755)
            mounts.append(
                {
                    "destination": f"/{name}",
                    "type": "bind",
                    "source": str(host),
                    "options": ["rbind", "ro", "nosuid", "nodev"],
                }
            )
    return mounts


def open_path_to(path: Path) -> None:
    """Let a user-namespaced root (host uid 100000) traverse down to the bundle."""
    for parent in [path, *path.parents]:
        try:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)
        except OSError:
            return


ROOTFS_KINDS = ("auto", "busybox", "host-binds")


def prepare_rootfs(bundle: Path, kind: str = "auto") -> tuple[str, list[dict[str, Any]]]:
    """Fill ``bundle/rootfs``; returns the rootfs kind used and extra mounts the config needs.

    ``auto`` prefers a static busybox and falls back to binds of the host.
    """
    rootfs = bundle / "rootfs"
    busybox = find_static_busybox() if kind in ("auto", "busybox") else None
    if busybox is not None:
        busybox_rootfs(rootfs, busybox)
        return "busybox", []
    if kind == "busybox":
        raise UsageError(
            message="no static busybox found (looked at " + ", ".join(BUSYBOX_CANDIDATES) + ")",
            code="OCI061",
            hint="install busybox-static, or use --rootfs host-binds",
        )
    return "host-binds", host_bind_mounts(rootfs)
