"""The shared writer: turns (controller, file, value, pointer) into checked cgroup_write ops.

It is where "the host cannot honour this field" is decided, once for both
drivers: writing to a controller the host has not mounted (v1) or does not
offer (v2) is a LoweringError naming the field, never a silent skip.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ocitool.lower.cgroups import paths
from ocitool.lower.context import LowerContext
from ocitool.lower.host import HostInfo
from ocitool.plan.ops.base import Op, Phase
from ocitool.plan.ops.cgroup import CgroupWrite

# v2 files whose name does not start with their controller's name.
V2_CORE_PREFIXES = ("cgroup.",)


@dataclass
class Writer:
    ctx: LowerContext
    host: HostInfo
    cgroup_path: str
    driver: str  # "v1" or "v2"
    ops: list[Op] = field(default_factory=list)

    def directory(self, controller: str, pointer: str | None) -> str:
        if self.driver == "v2":
            if controller != "cgroup" and controller not in self.host.unified_controllers:
                raise self.ctx.error(
                    pointer or "",
                    f"this host's cgroup v2 hierarchy does not offer the {controller!r} "
                    "controller, so the setting cannot be honoured",
                    code="OCI320",
                    hint=f"available: {', '.join(self.host.unified_controllers) or 'none'}",
                )
            return paths.v2_dir(self.host, self.cgroup_path)
        directory = paths.v1_dir(self.host, controller, self.cgroup_path)
        if directory is None:
            mounted = ", ".join(sorted(self.host.cgroup_mounts)) or "none"
            raise self.ctx.error(
                pointer or "",
                f"the cgroup v1 {controller!r} controller is not mounted on this host, "
                "so the setting cannot be honoured",
                code="OCI320",
                hint=f"mounted controllers: {mounted}; remove the setting or mount the controller",
            )
        return directory

    def write(self, controller: str, filename: str, value: str, pointer: str | None) -> None:
        if self._not_delegated(controller, pointer):
            return
        directory = self.directory(controller, pointer)
        self.ops.append(
            CgroupWrite(
                phase=Phase.CREATE_RUNTIME,
                source=pointer,
                path=posixpath.join(directory, filename),
                value=value,
            )
        )

    def _not_delegated(self, controller: str, pointer: str | None) -> bool:
        """Rootless on v2: a controller the delegated cgroup does not offer is not the
        user's to use; the limit is reported (warning OCI381), as with no cgroup at all."""
        host = self.host
        if not host.rootless or self.driver != "v2" or controller == "cgroup":
            return False
        if controller in host.unified_controllers:
            return False
        self.ctx.warn(
            pointer or "",
            f"this limit is not applied: the {controller} controller is not delegated to "
            f"this user (the delegated cgroup offers {' '.join(host.unified_controllers) or 'none'})",
            code="OCI381",
            hint="delegate the controller too (systemd: Delegate= in user@.service)",
        )
        return True

    def needs_kernel(self, major: int, minor: int, pointer: str, what: str) -> None:
        if not self.host.kernel_at_least(major, minor):
            kernel = ".".join(map(str, self.host.kernel))
            raise self.ctx.error(
                pointer,
                f"{what} needs Linux {major}.{minor} or later; this host runs {kernel}",
                code="OCI320",
            )
