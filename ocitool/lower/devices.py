"""Device nodes in the container's /dev: the spec's default devices and ``linux.devices``.

runtime-spec config-linux.md "Default Devices": every container gets
/dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty,
/dev/console (with a terminal) and /dev/ptmx (a symlink to pts/ptmx), plus
the /dev/fd, /dev/stdin, /dev/stdout and /dev/stderr symlinks that runc and
crun add (and /dev/core -> /proc/kcore where the host has /proc/kcore, as
runc does). A ``linux.devices`` entry with the same path replaces a default.

How a node is made depends on the user namespace: a process in a user
namespace cannot ``mknod`` a device (the kernel refuses even with
CAP_MKNOD), so there the host's node is bind-mounted onto an empty file,
as runc does; otherwise the node is created with ``mknod`` and, when the
config gives an owner, ``lchown``. FIFOs (``p``) are always created with
mknod, which any user may do.

/dev/console is the terminal's business (the process ops bind the pty
there) and is not made here.

Paths ocitool makes itself are handled as runc's libcontainer does
(rootfs_linux.go: createDevices, setupPtmx, setupDevSymlinks): a
``linux.devices`` entry for /dev/ptmx makes no node (the device cgroup rule
stays; the node would shadow the container's own devpts instance), the
/dev/ptmx -> pts/ptmx symlink is made as always and the plan names the entry
as its source; an entry for /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr or
/dev/core makes its node, and the symlink that would go there is left out.
``podman run --privileged`` passes every host device, /dev/ptmx among them.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from ocitool.lower.context import LowerContext
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.fs import BindMount, Chown, Mkdir, Mknod, Symlink
from ocitool.spec.model import Spec


@dataclass(frozen=True)
class Node:
    path: str
    type: str
    major: int
    minor: int
    mode: int = 0o666
    uid: int | None = None
    gid: int | None = None
    source: str | None = None


DEFAULT_NODES: tuple[Node, ...] = (
    Node("/dev/null", "c", 1, 3),
    Node("/dev/zero", "c", 1, 5),
    Node("/dev/full", "c", 1, 7),
    Node("/dev/random", "c", 1, 8),
    Node("/dev/urandom", "c", 1, 9),
    Node("/dev/tty", "c", 5, 0),
)

PTMX = "/dev/ptmx"

DEV_SYMLINKS: tuple[tuple[str, str], ...] = (
    ("/proc/self/fd", "/dev/fd"),
    ("/proc/self/fd/0", "/dev/stdin"),
    ("/proc/self/fd/1", "/dev/stdout"),
    ("/proc/self/fd/2", "/dev/stderr"),
)


def device_nodes(spec: Spec, ctx: LowerContext) -> list[Node]:
    """Defaults (unless overridden by path) followed by ``linux.devices`` in order."""
    devices = spec.linux.devices if spec.linux is not None else ()
    taken = {posixpath.normpath(d.path) for d in devices}
    nodes = [n for n in DEFAULT_NODES if n.path not in taken]
    for dev in devices:
        path = posixpath.normpath(dev.path)
        if not path.startswith("/"):
            raise ctx.error(
                dev.at("path"), f"device path {dev.path!r} is not absolute", code="OCI312"
            )
        if dev.type not in ("c", "u", "b", "p"):
            raise ctx.error(
                dev.at("type"),
                f"unknown device type {dev.type!r}",
                code="OCI312",
                expected="c, u, b or p",
            )
        if dev.type != "p" and (dev.major is None or dev.minor is None):
            raise ctx.error(
                dev.pointer, f"device {dev.path} needs major and minor numbers", code="OCI312"
            )
        mode = (dev.file_mode if dev.file_mode is not None else 0o666) & 0o7777
        nodes.append(
            Node(
                path=path,
                type=dev.type,
                major=dev.major or 0,
                minor=dev.minor or 0,
                mode=mode,
                uid=dev.uid,
                gid=dev.gid,
                source=dev.pointer,
            )
        )
    return nodes


def device_ops(
    spec: Spec, ctx: LowerContext, rootfs: str, *, dev_is_host: bool = False
) -> list[Op]:
    """Create every device node inside ``rootfs`` (before pivot_root).

    With ``dev_is_host`` (/dev is a bind mount of a host directory) nothing is
    made under /dev, which would change the host; ``linux.devices`` entries
    elsewhere are still made (runtime-spec allows any path).
    """
    # a user namespace (the container's, or the rootless runtime's own) cannot mknod
    in_userns = spec.has_namespace("user") or ctx.host.rootless
    ops: list[Op] = []
    made_dirs: set[str] = {"/dev"}
    nodes = [n for n in device_nodes(spec, ctx) if n.path != PTMX]
    if dev_is_host:
        nodes = [n for n in nodes if n.source is not None and not n.path.startswith("/dev/")]
    for node in nodes:
        parent = posixpath.dirname(node.path)
        if parent not in made_dirs:
            ops.append(Mkdir(phase=Phase.CREATE_INIT, source=node.source, path=parent, root=rootfs))
            made_dirs.add(parent)
        if in_userns and node.type != "p":
            ops.append(
                Mkdir(
                    phase=Phase.CREATE_INIT,
                    source=node.source,
                    path=node.path,
                    root=rootfs,
                    kind="file",
                    mode=0o644,
                )
            )
            ops.append(
                BindMount(
                    phase=Phase.CREATE_INIT,
                    source=node.source,
                    src=node.path,  # the host's node of the same name
                    target=node.path,
                    root=rootfs,
                    flags=("MS_BIND",),
                )
            )
            continue
        ops.append(
            Mknod(
                phase=Phase.CREATE_INIT,
                source=node.source,
                path=node.path,
                root=rootfs,
                type=node.type,
                major=node.major,
                minor=node.minor,
                mode=node.mode,
            )
        )
        if node.uid or node.gid:
            ops.append(
                Chown(
                    phase=Phase.CREATE_INIT,
                    source=node.source,
                    path=node.path,
                    root=rootfs,
                    uid=node.uid or 0,
                    gid=node.gid or 0,
                )
            )
    return ops


def symlink_ops(spec: Spec, ctx: LowerContext, rootfs: str, kcore: bool = False) -> list[Op]:
    """/dev/fd, stdin, stdout, stderr, /dev/core -> /proc/kcore when the host has
    /proc/kcore (as runc), and /dev/ptmx -> pts/ptmx (replacing any node there).

    A symlink whose path a ``linux.devices`` entry names is left out (the node
    stays, as runc's setupDevSymlinks ignores EEXIST); /dev/ptmx is always the
    symlink, with the entry that names it as its source.
    """
    nodes = {n.path: n.source for n in device_nodes(spec, ctx)}
    links = DEV_SYMLINKS + ((("/proc/kcore", "/dev/core"),) if kcore else ())
    ops: list[Op] = [
        Symlink(phase=Phase.CREATE_INIT, source=None, target=target, path=path, root=rootfs)
        for target, path in links
        if path not in nodes
    ]
    ops.append(
        Symlink(
            phase=Phase.CREATE_INIT,
            source=nodes.get(PTMX),
            target="pts/ptmx",
            path=PTMX,
            root=rootfs,
            replace=True,
        )
    )
    return ops
