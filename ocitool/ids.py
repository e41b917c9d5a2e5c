"""The one container-id check, for every command and every path (plan cache or not).

runc's rule (libcontainer's validateID): ASCII letters, digits and ``_``,
``+``, ``,``, ``-``, ``.`` (its character class ``[\\w+-\\.]`` is a range from
``+`` to ``.``), and not ``.`` or ``..``. The id names a directory (state,
cgroup), so we also bound its length by NAME_MAX: runc 1.1 fails later, with
ENAMETOOLONG from lstat, on a longer one.
"""

from __future__ import annotations

from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from ocitool.errors import OciToolError

MAX_ID_LENGTH = 255  # NAME_MAX: the id is one path component
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+,-.")
RULE = "1 to 255 ASCII letters, digits and _ + , - . (as runc), not '.' or '..'"


def id_problem(cid: str) -> str | None:
    """Why ``cid`` is not a valid container id, or None when it is."""
    if not cid:
        return "empty"
    if len(cid) > MAX_ID_LENGTH:
        return f"{len(cid)} characters, more than {MAX_ID_LENGTH}"
    if cid in (".", ".."):
        return "'.' and '..' name directories"
    if not _ALLOWED.issuperset(cid):
        return "has a character other than letters, digits and _ + , - ."
    return None


def shown_id(cid: str) -> str:
    """The id as an error message may show it: escaped and cut, never a 1 MB line."""
    text = ascii(cid[:64])
    return text + "..." if len(cid) > 64 else text


def check_id(cid: str, error: type[OciToolError] | None = None, code: str = "OCI601") -> None:
    """Raise ``error`` (default: RuntimeStateError OCI601, runc's "invalid container ID
    format") unless ``cid`` is valid; lowering raises its own LoweringError OCI312."""
    problem = id_problem(cid)
    if problem is not None:
        from ocitool.errors import RuntimeStateError

        raise (error or RuntimeStateError)(
            message=f"invalid container ID format: {shown_id(cid)} ({problem})",
            code=code,
            expected=RULE,
        )
