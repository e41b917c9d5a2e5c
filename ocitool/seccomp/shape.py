"""JSON types of an OCI seccomp object, checked before anything reads its values.

Values (action names, ops, numbers' ranges) are the compiler's business; this
only makes sure each member has the JSON type the compiler will assume, so a
library caller passing ``{"defaultAction": []}`` gets a located SeccompError
instead of a TypeError, and ``names: "read"`` is not iterated character by
character. It imports nothing heavy: the compiler calls it on every profile.
"""

from __future__ import annotations

from typing import Any

from ocitool.errors import SeccompError
from ocitool.seccomp.docker import json_list, json_object, json_string, json_strings, json_type


def check_shape(seccomp: dict[str, Any], base: str = "") -> None:
    """Refuse members of the wrong JSON type before anything reads them (values are checked
    by the compiler): ``names: "read"`` would otherwise match ``pread64`` as a substring."""
    json_string(seccomp.get("defaultAction"), f"{base}/defaultAction")
    for key in ("defaultErrnoRet",):
        _integer(seccomp.get(key), f"{base}/{key}")
    for key in ("architectures", "flags"):
        json_strings(seccomp.get(key), f"{base}/{key}")
    for key in ("listenerPath", "listenerMetadata"):
        if seccomp.get(key) is not None:
            json_string(seccomp[key], f"{base}/{key}")
    for i, rule in enumerate(json_list(seccomp.get("syscalls"), f"{base}/syscalls")):
        ptr = f"{base}/syscalls/{i}"
        rule = json_object(rule, ptr, optional=False)
        json_strings(rule.get("names"), f"{ptr}/names")
        json_string(rule.get("action"), f"{ptr}/action")
        _integer(rule.get("errnoRet"), f"{ptr}/errnoRet")
        for j, cond in enumerate(json_list(rule.get("args"), f"{ptr}/args")):
            cond = json_object(cond, f"{ptr}/args/{j}", optional=False)
            for key in ("index", "value", "valueTwo"):
                _integer(cond.get(key), f"{ptr}/args/{j}/{key}")
            json_string(cond.get("op"), f"{ptr}/args/{j}/op")


def _integer(value: Any, ptr: str) -> None:
    """An optional integer member (JSON booleans are not numbers here)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise SeccompError(
            message=f"expected an integer, not {json_type(value)}",
            code="OCI460",
            pointer=ptr,
            expected="an integer",
        )
