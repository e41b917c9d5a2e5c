"""LowerContext: the per-run facts and the diagnostics sink shared by concern modules.

Concern modules are functions ``lower_x(spec, host, ctx) -> list[Op]``. What
they need besides the spec and the host (the container id, where the bundle
and rootfs are, the resolved cgroup path) lives here, computed once, with no
I/O. Warnings go to :meth:`warn`; errors are raised as LoweringError via
:meth:`error` so every error carries the pointer that caused it.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ocitool.errors import Diagnostic, LoweringError
from ocitool.lower.host import HostInfo
from ocitool.spec.model import Spec

if TYPE_CHECKING:
    from ocitool.lower.cgroups.systemd_names import SystemdUnit

DEFAULT_CGROUP_PARENT = "/ocitool"


@dataclass
class LowerContext:
    """Inputs shared by every concern and the warnings they produce."""

    spec: Spec
    host: HostInfo
    container_id: str
    bundle: str  # absolute path of the bundle directory
    diagnostics: list[Diagnostic] = field(default_factory=list)
    systemd_cgroup: bool = False  # --systemd-cgroup: systemd makes the cgroup (a transient unit)
    no_new_keyring: bool = False  # --no-new-keyring: the process keeps the runtime's keyring

    # ------------------------------------------------------------------ paths

    @property
    def rootfs(self) -> str:
        """Absolute host path of the container's root filesystem (``root.path`` is
        relative to the bundle unless absolute; runtime-spec config.md "Root")."""
        path = self.spec.root.path if self.spec.root is not None else "rootfs"
        return posixpath.normpath(posixpath.join(self.bundle, path))

    @property
    def cgroup_path(self) -> str:
        """The container's cgroup path, relative to each hierarchy's root, starting with '/'.

        ``linux.cgroupsPath`` absolute: used as given. Relative: taken below
        ``/ocitool`` (the spec leaves the base to the runtime; runc uses the
        root, which mixes containers with system slices). Absent:
        ``/ocitool/<container id>``. ``a:b:c`` systemd-style paths are not
        paths belong to the systemd driver and are refused without it. With
        ``--systemd-cgroup`` the path is the unit's (:attr:`systemd_unit`).
        """
        if self.systemd_cgroup:
            return self.systemd_unit.cgroup_path
        linux = self.spec.linux
        raw = linux.cgroups_path if linux is not None else None
        if not raw:
            return posixpath.join(DEFAULT_CGROUP_PARENT, self.container_id)
        if ":" in raw and not raw.startswith("/"):
            assert linux is not None
            raise self.error(
                linux.at("cgroupsPath"),
                f"cgroupsPath {raw!r} is in systemd slice:prefix:name form",
                hint="use a path like /machine/web, or the systemd cgroup driver "
                "(--systemd-cgroup)",
                code="OCI311",
            )
        if raw.startswith("/"):
            return posixpath.normpath(raw)
        return posixpath.normpath(posixpath.join(DEFAULT_CGROUP_PARENT, raw))

    @property
    def systemd_unit(self) -> SystemdUnit:
        """The transient unit of the systemd driver: name, slice and cgroup path."""
        from ocitool.lower.cgroups import systemd_names  # cgroups imports this module

        linux = self.spec.linux
        raw = linux.cgroups_path if linux is not None else None
        try:
            return systemd_names.resolve(raw, self.container_id)
        except systemd_names.SystemdNameError as err:
            raise self.error(
                linux.at("cgroupsPath") if linux is not None else "",
                str(err),
                code="OCI317",
                expected="slice:prefix:name, e.g. machine.slice:libpod:web (or no cgroupsPath)",
                hint="the systemd cgroup driver takes no absolute path; without "
                "--systemd-cgroup, /machine/web is a cgroupfs path",
            ) from None

    # ------------------------------------------------------------------ diagnostics

    def warn(
        self, pointer: str, message: str, *, code: str = "OCI350", hint: str | None = None
    ) -> None:
        """Record a warning: the plan is still produced, but the user should know."""
        self.diagnostics.append(
            Diagnostic(code=code, message=message, pointer=pointer, severity="warning", hint=hint)
        )

    def info(self, pointer: str, message: str, *, code: str = "OCI351") -> None:
        self.diagnostics.append(
            Diagnostic(code=code, message=message, pointer=pointer, severity="info")
        )

    def error(
        self,
        pointer: str,
        message: str,
        *,
        code: str = "OCI310",
        hint: str | None = None,
        expected: str | None = None,
    ) -> LoweringError:
        """A LoweringError for ``pointer`` (the caller raises it)."""
        return LoweringError(
            message=message, code=code, pointer=pointer, hint=hint, expected=expected
        )
