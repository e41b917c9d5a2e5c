"""hostname and domainname: set inside the container's UTS namespace.

Setting them without a new UTS namespace would rename the host, so that is an
error (runtime-spec config.md: "a runtime MUST generate an error" for hostname
without a uts namespace; runc does the same for domainname).
"""

from __future__ import annotations

from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.namespaces import Setdomainname, Sethostname
from ocitool.spec.model import Spec


def lower_uts(spec: Spec, host: HostInfo, ctx: LowerContext) -> list[Op]:
    ops: list[Op] = []
    for key, value in (("hostname", spec.hostname), ("domainname", spec.domainname)):
        if value is None:
            continue
        if not spec.has_namespace("uts"):
            raise ctx.error(
                spec.at(key),
                f"{key} {value!r} is set but the container has no uts namespace",
                code="OCI360",
                hint='add {"type": "uts"} to linux.namespaces, or drop ' + key,
            )
        if key == "hostname":
            ops.append(Sethostname(phase=Phase.CREATE_INIT, source=spec.at(key), hostname=value))
        else:
            ops.append(
                Setdomainname(phase=Phase.CREATE_INIT, source=spec.at(key), domainname=value)
            )
    return ops
