"""Mount rules: host paths exposed, kernel interfaces left writable, masks and overlaps."""

from __future__ import annotations

from collections.abc import Iterator

from ocitool.lint.context import LintContext, covered_by, is_under
from ocitool.lint.registry import Hit, rule

# Host paths whose exposure hands the container control of (or secrets of) the host.
SENSITIVE_SOURCES = frozenset(
    {
        "/",
        "/etc",
        "/dev",
        "/boot",
        "/root",
        "/run",
        "/lib/modules",
        "/var/lib/docker",
        "/var/lib/containerd",
        "/var/lib/kubelet",
        "/var/lib/containers",
    }
)
SENSITIVE_TREES = ("/proc", "/sys")
RUNTIME_SOCKETS = frozenset(
    {
        "docker.sock",
        "containerd.sock",
        "podman.sock",
        "crio.sock",
        "buildkitd.sock",
        "dockershim.sock",
        "containerd-shim.sock",
    }
)
RUNTIME_DIRS = frozenset({"/run/docker", "/run/containerd", "/run/podman", "/run/crio"})
USUAL_MASKED = (
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
)
USUAL_READONLY = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger")


def _is_runtime_socket(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in RUNTIME_SOCKETS or path in RUNTIME_DIRS


@rule(
    "OCS230",
    "sensitive-host-mount",
    "warning",
    fix="bind only the specific files or directories the workload needs, read-only",
)
def sensitive_host_mount(ctx: LintContext) -> Iterator[Hit]:
    """A sensitive host path is bind-mounted into the container.

    The host's /, /etc, /dev, /proc, /sys, /boot, /root, /run or a container
    runtime's state directory hold credentials, device nodes and kernel
    controls; a container that sees them can read secrets or reconfigure the
    host (a writable /etc gives root at the next login or cron run). Inside a
    user namespace that does not map host root, a read-only bind only shows
    what any unprivileged host user may read, so only writable binds count.
    """
    for m in ctx.mounts:
        path = m.host_source
        if path is None or _is_runtime_socket(path):
            continue
        readonly = m.readonly
        if readonly and ctx.safe_userns:
            continue
        if path in SENSITIVE_SOURCES or any(is_under(path, t) for t in SENSITIVE_TREES):
            mode = "read-only" if readonly else "writable"
            yield Hit(f"/mounts/{m.position}/source", f"host {path} is bind-mounted ({mode})")


@rule(
    "OCS231",
    "runtime-socket-mount",
    "error",
    fix="do not mount the container runtime's API socket; use a narrowly scoped proxy if needed",
)
def runtime_socket_mount(ctx: LintContext) -> Iterator[Hit]:
    """A container runtime's API socket (docker, containerd, podman, CRI-O) is mounted.

    Whoever can talk to the runtime API can start a privileged container with
    the host's / mounted: the socket is root on the host, read-only or not.
    """
    for m in ctx.mounts:
        path = m.host_source
        if path is not None and _is_runtime_socket(path):
            yield Hit(f"/mounts/{m.position}/source", f"container runtime socket {path} is mounted")


@rule("OCS232", "sysfs-writable", "warning", fix='add "ro" to the sysfs mount options')
def sysfs_writable(ctx: LintContext) -> Iterator[Hit]:
    """/sys is mounted writable without a user namespace.

    A writable sysfs lets container root change kernel and device settings
    that are not namespaced (block devices, power, kernel tunables in
    /sys/kernel). Inside a user namespace the files stay owned by host root,
    so the rule only fires without one.
    """
    if not ctx.shares_host_ns("user"):
        return
    for m in ctx.mounts:
        if m.type == "sysfs" and not m.readonly:
            yield Hit(f"/mounts/{m.position}", "sysfs is mounted read-write")


@rule(
    "OCS233",
    "proc-sys-writable",
    "warning",
    fix='add "/proc/sys" to linux.readonlyPaths',
)
def proc_sys_writable(ctx: LintContext) -> Iterator[Hit]:
    """/proc/sys stays writable in a container without a user namespace.

    Most of /proc/sys is global: container root could change kernel.core_pattern
    (a host-side code execution primitive), vm and fs tunables for the whole
    machine. The runtime-spec's readonlyPaths exists for exactly this.
    """
    if not ctx.mounts_proc or not ctx.shares_host_ns("user"):
        return
    if not covered_by("/proc/sys", ctx.readonly_paths | ctx.masked_paths):
        yield Hit("/linux/readonlyPaths", "/proc/sys is writable")


@rule(
    "OCS234",
    "masked-paths-incomplete",
    "warning",
    fix="add the missing entries to linux.maskedPaths (runc spec lists the usual set)",
)
def masked_paths_incomplete(ctx: LintContext) -> Iterator[Hit]:
    """maskedPaths misses entries that runtimes mask by default.

    /proc/kcore, /proc/keys, /proc/timer_list, /proc/sched_debug,
    /sys/firmware and friends expose kernel memory, keys, addresses and
    firmware tables that help an attacker and serve no workload.
    """
    if not ctx.mounts_proc:
        return
    has_sysfs = any(m.type == "sysfs" for m in ctx.mounts)
    wanted = [p for p in USUAL_MASKED if has_sysfs or not p.startswith("/sys/")]
    missing = [p for p in wanted if not covered_by(p, ctx.masked_paths)]
    if missing:
        pointer = "/linux/maskedPaths" if "maskedPaths" in ctx.linux else "/linux"
        yield Hit(pointer, f"maskedPaths misses {', '.join(missing)}")


@rule(
    "OCS235",
    "readonly-paths-incomplete",
    "warning",
    fix="add the missing entries to linux.readonlyPaths",
)
def readonly_paths_incomplete(ctx: LintContext) -> Iterator[Hit]:
    """readonlyPaths misses /proc entries that runtimes make read-only by default.

    /proc/sysrq-trigger can reboot or crash the host, /proc/irq and /proc/bus
    change interrupt routing and device settings, /proc/fs tunes filesystems
    for everyone.
    """
    if not ctx.mounts_proc:
        return
    covers = ctx.readonly_paths | ctx.masked_paths
    missing = [p for p in USUAL_READONLY if not covered_by(p, covers)]
    if missing:
        pointer = "/linux/readonlyPaths" if "readonlyPaths" in ctx.linux else "/linux"
        yield Hit(pointer, f"readonlyPaths misses {', '.join(missing)}")


@rule(
    "OCS236",
    "shared-bind-propagation",
    "warning",
    fix="use private or slave propagation on host binds (rprivate / rslave)",
)
def shared_propagation(ctx: LintContext) -> Iterator[Hit]:
    """A host bind mount uses shared propagation.

    With (r)shared propagation on a bind of a host directory, mounts made
    inside the container under that path appear on the host: the container
    can plant mounts in host trees. (rootfsPropagation "shared" is different:
    it starts a new peer group and is not shared with the host.)
    """
    for m in ctx.mounts:
        if m.bind:
            for j, opt in enumerate(m.options):
                if opt in ("shared", "rshared"):
                    yield Hit(
                        f"/mounts/{m.position}/options/{j}", f"bind mount uses {opt} propagation"
                    )


@rule("OCS237", "cgroupfs-writable", "warning", fix='add "ro" to the cgroup mount options')
def cgroupfs_writable(ctx: LintContext) -> Iterator[Hit]:
    """The cgroup filesystem is mounted writable without user or cgroup namespaces.

    A writable cgroupfs lets container root raise its own limits, move
    processes, and on cgroup v1 set release_agent: a documented escape.
    """
    if not ctx.shares_host_ns("user") or not ctx.shares_host_ns("cgroup"):
        return
    for m in ctx.mounts:
        if m.type in ("cgroup", "cgroup2") and not m.readonly:
            yield Hit(f"/mounts/{m.position}", f"{m.type} is mounted read-write")


@rule(
    "OCS238",
    "writable-root-with-host-binds",
    "warning",
    fix='set root.readonly to true, or make the host binds read-only ("ro")',
)
def writable_root_with_binds(ctx: LintContext) -> Iterator[Hit]:
    """The root filesystem is writable and host directories are bind-mounted writable.

    Together they let a compromised process both persist in the image and
    write into the host through the binds; either read-only root or
    read-only binds breaks the chain.
    """
    if ctx.root.get("readonly") is True:
        return
    for m in ctx.mounts:
        if m.host_source is not None and not m.readonly:
            yield Hit(
                f"/mounts/{m.position}",
                f"writable host bind of {m.host_source} with a writable root",
            )


@rule(
    "OCS239",
    "writable-rootfs",
    "info",
    fix="set root.readonly to true and mount tmpfs where writes are needed",
)
def writable_rootfs(ctx: LintContext) -> Iterator[Hit]:
    """The root filesystem is writable.

    A read-only root keeps an attacker from replacing binaries or libraries
    and makes the container's state explicit (only declared mounts change).
    """
    if ctx.root and ctx.root.get("readonly") is not True:
        yield Hit("/root", "root filesystem is writable")


@rule(
    "OCR108",
    "duplicate-mount-destination",
    "warning",
    fix="remove or merge the duplicate mount",
)
def duplicate_destination(ctx: LintContext) -> Iterator[Hit]:
    """Two mounts have the same destination.

    The later mount hides the earlier one completely; usually one of them is
    a leftover, and the config does not do what it reads like.
    """
    seen: dict[str, int] = {}
    for i, dest, key in ctx.destinations:
        if key in seen:
            yield Hit(
                f"/mounts/{i}/destination", f"{dest} is already mounted by /mounts/{seen[key]}"
            )
        else:
            seen[key] = i


@rule(
    "OCR109",
    "mount-over-masked-path",
    "warning",
    fix="mount somewhere else, or remove the path from maskedPaths",
)
def mount_over_masked(ctx: LintContext) -> Iterator[Hit]:
    """A mount's destination lies at or under a masked path.

    Masking happens after the mounts, so the mount is hidden behind
    /dev/null or an empty tmpfs and never visible to the process.
    """
    masked = ctx.masked_paths - {"/"}
    if not masked:
        return
    for i, dest, path in ctx.destinations:
        if path.startswith("/") and covered_by(path, masked):
            probe = path
            while probe not in masked:
                probe = probe[: probe.rfind("/")]
            yield Hit(f"/mounts/{i}/destination", f"{dest} is under masked path {probe}")


@rule(
    "OCR118",
    "relative-mount-destination",
    "warning",
    fix="write the destination as an absolute path inside the container",
)
def relative_destination(ctx: LintContext) -> Iterator[Hit]:
    """A mount destination is not an absolute path.

    Older runtime-spec versions required absolute destinations and runtimes
    still differ on what a relative one is relative to.
    """
    for i, dest, _ in ctx.destinations:
        if not dest.startswith("/"):
            yield Hit(f"/mounts/{i}/destination", f"destination {dest!r} is relative")


@rule(
    "OCP311",
    "idmapped-mount",
    "info",
    fix="check that every target host runs Linux 5.12+ and a runtime with idmapped mounts",
)
def idmapped_mount(ctx: LintContext) -> Iterator[Hit]:
    """A mount uses id mappings (an idmapped mount).

    Idmapped mounts need Linux 5.12 or later, a filesystem that supports
    them and a runtime that implements runtime-spec 1.1's mount mappings.
    """
    for m in ctx.mounts:
        if (
            m.raw.get("uidMappings")
            or m.raw.get("gidMappings")
            or {"idmap", "ridmap"} & set(m.options)
        ):
            yield Hit(f"/mounts/{m.position}", "idmapped mount")
