"""Rule families; importing this package registers every rule with the registry."""

from __future__ import annotations

from ocitool.lint.rules import (  # noqa: F401 - imported for registration
    capabilities,
    devices,
    hooks,
    host,
    mounts,
    namespaces,
    portability,
    process,
    resources,
    seccomp,
    sysctl,
)
