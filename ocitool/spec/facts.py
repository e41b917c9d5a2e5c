"""Facts of the runtime-spec and the kernel that lint and lowering both need.

Kept free of imports so that lint can use them without loading the model or
the lowering (which would cost tens of milliseconds at start-up).
"""

from __future__ import annotations

# The hook kinds, in the order the runtime-spec lifecycle runs them.
HOOK_KINDS: tuple[str, ...] = (
    "prestart",
    "createRuntime",
    "createContainer",
    "startContainer",
    "poststart",
    "poststop",
)

# The CLONE_NEW* flag that makes each runtime-spec namespace type (namespaces(7)).
NAMESPACE_FLAGS: dict[str, str] = {
    "user": "CLONE_NEWUSER",
    "mount": "CLONE_NEWNS",
    "uts": "CLONE_NEWUTS",
    "ipc": "CLONE_NEWIPC",
    "network": "CLONE_NEWNET",
    "pid": "CLONE_NEWPID",
    "cgroup": "CLONE_NEWCGROUP",
    "time": "CLONE_NEWTIME",
}

# sysctls the kernel scopes to a namespace (runc's validator, libcontainer/configs/validate).
IPC_SYSCTLS = frozenset(
    {
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    }
)
UTS_SYSCTLS = frozenset({"kernel.hostname", "kernel.domainname"})


def sysctl_namespace(key: str) -> str | None:
    """The namespace type that makes ``key`` per-container, or None when it is host-wide."""
    dotted = key.replace("/", ".")
    if dotted in IPC_SYSCTLS or dotted.startswith("fs.mqueue."):
        return "ipc"
    if dotted in UTS_SYSCTLS:
        return "uts"
    if dotted.startswith("net."):
        return "network"
    return None


# setrlimit(2): an infinite limit, and what a negative or too large OCI value means.
RLIM_INFINITY = 2**64 - 1

# sched_setattr(2) policy numbers (include/uapi/linux/sched.h).
SCHED_POLICIES = {
    "SCHED_OTHER": 0,
    "SCHED_FIFO": 1,
    "SCHED_RR": 2,
    "SCHED_BATCH": 3,
    "SCHED_ISO": 4,
    "SCHED_IDLE": 5,
    "SCHED_DEADLINE": 6,
}

# set_mempolicy(2) modes (enum in include/uapi/linux/mempolicy.h; kept here because
# MPOL_WEIGHTED_INTERLEAVE, Linux 6.9, is newer than the headers CI builds with).
MPOL_MODES = {
    "MPOL_DEFAULT": 0,
    "MPOL_PREFERRED": 1,
    "MPOL_BIND": 2,
    "MPOL_INTERLEAVE": 3,
    "MPOL_LOCAL": 4,
    "MPOL_PREFERRED_MANY": 5,
    "MPOL_WEIGHTED_INTERLEAVE": 6,
}
