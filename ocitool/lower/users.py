"""User and groups of the container process: setgroups, setresgid, setresuid, umask.

Order matters: groups before the uid (after setresuid to non-root the process
may no longer change its groups), and PR_SET_KEEPCAPS around the uid change so
the permitted set survives it (the kernel clears it on a 0 -> non-0 switch);
the capabilities op that follows then sets the exact five sets.
"""

from __future__ import annotations

from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.lower.namespaces import maps_id
from ocitool.lower.rootless import setgroups_denied
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.process import KeepCaps, Setgroups, Setresgid, Setresuid, Umask
from ocitool.spec.model import Spec

DEFAULT_UMASK = 0o022
MAX_ID = 2**32 - 2


def lower_users(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    proc = spec.process
    if proc is None:
        return []
    user = proc.user
    ids = [("uid", user.uid, user.at("uid")), ("gid", user.gid, user.at("gid"))]
    ids += [("gid", g, user.at("additionalGids", i)) for i, g in enumerate(user.additional_gids)]
    for kind, value, pointer in ids:
        if not 0 <= value <= MAX_ID:
            raise ctx.error(
                pointer,
                f"{kind} {value} is outside 0..{MAX_ID} ((uid_t)-1 means 'unchanged' to the kernel)",
                code="OCI338",
            )
    linux = spec.linux
    userns = linux.namespace("user") if linux is not None else None
    if linux is not None and userns is not None and userns.path is None:
        checks = [("uid", user.uid, linux.uid_mappings, user.at("uid"))]
        checks.append(("gid", user.gid, linux.gid_mappings, user.at("gid")))
        checks += [
            ("gid", gid, linux.gid_mappings, user.at("additionalGids", i))
            for i, gid in enumerate(user.additional_gids)
        ]
        for kind, value, maps, pointer in checks:
            if not maps_id(maps, value):
                raise ctx.error(
                    pointer,
                    f"{kind} {value} is not mapped in the container's user namespace",
                    code="OCI338",
                    hint=f"add a linux.{kind}Mappings range that covers {value}",
                )
    ops: list[Op] = []
    source = user.pointer
    keep = user.uid != 0
    if keep:
        ops.append(KeepCaps(phase=Phase.EXEC, source=user.at("uid"), enable=True))
    if not setgroups_denied(spec, host):
        ops.append(
            Setgroups(
                phase=Phase.EXEC,
                source=user.at("additionalGids") if user.additional_gids else source,
                gids=user.additional_gids,
            )
        )
    ops.append(
        Setresgid(
            phase=Phase.EXEC, source=user.at("gid"), rgid=user.gid, egid=user.gid, sgid=user.gid
        )
    )
    ops.append(
        Setresuid(
            phase=Phase.EXEC, source=user.at("uid"), ruid=user.uid, euid=user.uid, suid=user.uid
        )
    )
    if keep:
        ops.append(KeepCaps(phase=Phase.EXEC, source=user.at("uid"), enable=False))
    return ops


def lower_umask(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    """process.user.umask, or 0022 when unset so the container never inherits the
    runtime's own umask (runc does the same)."""
    proc = spec.process
    if proc is None:
        return []
    if proc.user.umask is None:
        return [Umask(phase=Phase.EXEC, source=None, mask=DEFAULT_UMASK)]
    mask = proc.user.umask
    if not 0 <= mask <= 0o777:
        raise ctx.error(
            proc.user.at("umask"), f"umask {mask} is outside 0..0777 (511)", code="OCI339"
        )
    return [Umask(phase=Phase.EXEC, source=proc.user.at("umask"), mask=mask)]
