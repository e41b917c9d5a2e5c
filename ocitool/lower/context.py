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

from ocitool.errors import Diagnostic, LoweringError
from ocitool.lower.host import HostInfo
from ocitool.spec.model import Spec

DEFAULT_CGROUP_PARENT = "/ocitool"


@dataclass
class LowerContext:
    """Inputs shared by every concern and the warnings they produce."""

    spec: Spec
    host: HostInfo
    container_id: str
    bundle: str  # absolute path of the bundle directory
    diagnostics: list[Diagnostic] = field(default_factory=list)

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
        supported by this runtime (no systemd cgroup driver) and are refused.
        """
        linux = self.spec.linux
        raw = linux.cgroups_path if linux is not None else None
        if not raw:
            return posixpath.join(DEFAULT_CGROUP_PARENT, self.container_id)
        if ":" in raw and not raw.startswith("/"):
            assert linux is not None
            raise self.error(
                linux.at("cgroupsPath"),
                f"cgroupsPath {raw!r} is in systemd slice:prefix:name form",
                hint="use a path like /machine/web; the systemd cgroup driver is not supported",
                code="OCI311",
            )
        if raw.startswith("/"):
            return posixpath.normpath(raw)
        return posixpath.normpath(posixpath.join(DEFAULT_CGROUP_PARENT, raw))

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
