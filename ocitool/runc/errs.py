"""Our error values, created on demand.

``ocitool.errors`` imports dataclasses (and with it inspect, ast, dis, ...),
about 15 ms that every ocitool-runc command would pay before doing anything.
The hot path creates errors through these functions, so the module is only
imported when there is an error to report.
"""

from __future__ import annotations

import sys

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

    from ocitool.errors import OciToolError


def usage_error(message: str, code: str = "OCI010", **extra: Any) -> OciToolError:
    from ocitool.errors import UsageError

    return UsageError(message=message, code=code, **extra)


def state_error(message: str, code: str, **extra: Any) -> OciToolError:
    from ocitool.errors import RuntimeStateError

    return RuntimeStateError(message=message, code=code, **extra)


def exec_error(message: str, code: str, **extra: Any) -> OciToolError:
    from ocitool.errors import ExecError

    return ExecError(message=message, code=code, **extra)


def is_ocitool_error(exc: BaseException) -> bool:
    """isinstance(exc, OciToolError) without importing the module (no import: no such error)."""
    mod = sys.modules.get("ocitool.errors")
    return mod is not None and isinstance(exc, mod.OciToolError)


def error_code(exc: BaseException) -> str:
    return str(getattr(exc, "code", "") or "")
