"""Namespace rules: what the container shares with the host, and what needs a namespace."""

from __future__ import annotations

from collections.abc import Iterator

from ocitool.lint.context import LintContext, as_dict, as_list
from ocitool.lint.registry import Hit, rule


def _host(ctx: LintContext, kind: str, what: str) -> Iterator[Hit]:
    if not ctx.shares_host_ns(kind):
        return
    if kind in ctx.namespaces:
        i = ctx.namespaces[kind][0]
        yield Hit(f"/linux/namespaces/{i}/path", f"joins the host's {kind} namespace: {what}")
    else:
        yield Hit("/linux/namespaces", f"no {kind} namespace: {what}")


@rule("OCS220", "host-pid-namespace", "warning", fix='add {"type": "pid"} to linux.namespaces')
def host_pid(ctx: LintContext) -> Iterator[Hit]:
    """The container shares the host's PID namespace.

    It sees every host process, can signal those running as the same user,
    and reaches their /proc entries (environment, open files, memory maps).
    """
    yield from _host(ctx, "pid", "host processes are visible and signalable")


@rule("OCS221", "host-ipc-namespace", "warning", fix='add {"type": "ipc"} to linux.namespaces')
def host_ipc(ctx: LintContext) -> Iterator[Hit]:
    """The container shares the host's IPC namespace.

    System V shared memory, semaphores and POSIX message queues of the host
    become readable and writable from the container.
    """
    yield from _host(ctx, "ipc", "host shared memory and message queues are reachable")


@rule(
    "OCS222",
    "host-network-namespace",
    "warning",
    fix='add {"type": "network"} to linux.namespaces and give the container its own network',
)
def host_network(ctx: LintContext) -> Iterator[Hit]:
    """The container shares the host's network namespace.

    It can bind host ports, reach services on localhost and abstract unix
    sockets (such as container runtime shims), and sniff traffic with
    CAP_NET_RAW.
    """
    yield from _host(ctx, "network", "host interfaces, ports and abstract sockets are shared")


@rule("OCS223", "host-uts-namespace", "warning", fix='add {"type": "uts"} to linux.namespaces')
def host_uts(ctx: LintContext) -> Iterator[Hit]:
    """The container shares the host's UTS namespace while holding CAP_SYS_ADMIN.

    With CAP_SYS_ADMIN the process can change the host's hostname and NIS
    domain name. Without it a shared UTS namespace is harmless, so the rule
    stays quiet then.
    """
    if "CAP_SYS_ADMIN" in ctx.granted:
        yield from _host(ctx, "uts", "with CAP_SYS_ADMIN the host's hostname can be changed")


@rule(
    "OCS224",
    "no-user-namespace",
    "info",
    fix='add {"type": "user"} with uidMappings/gidMappings so container root is unprivileged',
)
def no_user_ns(ctx: LintContext) -> Iterator[Hit]:
    """The container has no user namespace.

    Container root is then host root (uid 0), limited only by capabilities,
    seccomp and LSMs. A user namespace maps it to an unprivileged host uid,
    which turns many escapes into harmless failures.
    """
    if ctx.shares_host_ns("user"):
        yield Hit("/linux/namespaces", "no user namespace: uid 0 in the container is host uid 0")


@rule("OCS225", "host-cgroup-namespace", "info", fix='add {"type": "cgroup"} to linux.namespaces')
def host_cgroup(ctx: LintContext) -> Iterator[Hit]:
    """The container shares the host's cgroup namespace.

    /proc/self/cgroup and any cgroupfs mount show host cgroup paths, which
    leaks the host's layout and widens what a writable cgroupfs exposes.
    """
    if ctx.linux and ctx.shares_host_ns("cgroup"):
        yield Hit("/linux/namespaces", "no cgroup namespace: host cgroup paths are visible")


@rule("OCS226", "no-mount-namespace", "error", fix='add {"type": "mount"} to linux.namespaces')
def no_mount_ns(ctx: LintContext) -> Iterator[Hit]:
    """The container has no mount namespace of its own.

    Every mount in the config, and pivot_root itself, would then happen in
    the host's mount table: the container would reshape the host filesystem.
    """
    if ctx.linux and ctx.shares_host_ns("mount"):
        yield Hit("/linux/namespaces", "no mount namespace: mounts would change the host")


@rule(
    "OCS227",
    "userns-maps-host-root",
    "warning",
    fix="map container ids to an unprivileged host range (e.g. hostID 100000)",
)
def userns_maps_host_root(ctx: LintContext) -> Iterator[Hit]:
    """A user-namespace mapping includes host uid or gid 0.

    A container id mapped onto host root is host root for every file it
    touches through a bind mount, which undoes most of what the user
    namespace was for.
    """
    if "user" not in ctx.namespaces:
        return
    for key in ("uidMappings", "gidMappings"):
        for i, m in enumerate(as_list(ctx.linux.get(key))):
            m = as_dict(m)
            host, size = m.get("hostID"), m.get("size")
            if isinstance(host, int) and isinstance(size, int) and host <= 0 < host + size:
                yield Hit(f"/linux/{key}/{i}/hostID", f"{key} maps onto host id 0")


@rule(
    "OCR101",
    "hostname-without-uts",
    "error",
    fix='add {"type": "uts"} to linux.namespaces, or remove hostname/domainname',
)
def hostname_without_uts(ctx: LintContext) -> Iterator[Hit]:
    """hostname or domainname is set but the container has no UTS namespace.

    Setting the name would change the host's, so runtimes refuse the config
    (runc: "unable to set hostname without a private UTS namespace").
    """
    if ctx.has_ns("uts"):
        return
    for key in ("hostname", "domainname"):
        if ctx.data.get(key):
            yield Hit(f"/{key}", f"{key} is set but there is no uts namespace")


@rule(
    "OCR102",
    "idmap-without-userns",
    "error",
    fix='add {"type": "user"} to linux.namespaces, or remove the mappings',
)
def idmap_without_userns(ctx: LintContext) -> Iterator[Hit]:
    """uidMappings or gidMappings are set but there is no user namespace.

    Mappings only apply to a new user namespace; without one they are
    ignored or rejected, and the author's intent (unprivileged root) is lost.
    """
    if ctx.has_ns("user"):
        return
    for key in ("uidMappings", "gidMappings"):
        if as_list(ctx.linux.get(key)):
            yield Hit(f"/linux/{key}", f"{key} without a user namespace")


@rule(
    "OCR117",
    "duplicate-namespace",
    "error",
    fix="list each namespace type once",
)
def duplicate_namespace(ctx: LintContext) -> Iterator[Hit]:
    """A namespace type is listed more than once.

    The runtime-spec requires runtimes to reject a config that names a
    namespace type twice.
    """
    seen: set[str] = set()
    for i, ns in enumerate(as_list(ctx.linux.get("namespaces"))):
        kind = as_dict(ns).get("type")
        if isinstance(kind, str):
            if kind in seen:
                yield Hit(f"/linux/namespaces/{i}", f"{kind} namespace listed twice")
            seen.add(kind)


@rule(
    "OCR129",
    "userns-without-mappings",
    "warning",
    fix="add linux.uidMappings and linux.gidMappings for the new user namespace",
)
def userns_without_mappings(ctx: LintContext) -> Iterator[Hit]:
    """A new user namespace is created without uid or gid mappings.

    An unmapped namespace has no valid ids at all: every id shows as the
    overflow id and the process cannot change credentials; runc refuses it.
    """
    if "user" not in ctx.namespaces or ctx.namespaces["user"][1].get("path"):
        return
    for key in ("uidMappings", "gidMappings"):
        if not as_list(ctx.linux.get(key)):
            yield Hit(
                f"/linux/namespaces/{ctx.namespaces['user'][0]}", f"user namespace without {key}"
            )
