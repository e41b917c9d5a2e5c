"""Checks beyond the JSON Schema: rules the runtime-spec states that a schema cannot express.

Duplicate namespace types and rlimits, values that contradict each other
(burst above quota, errnoRet with an action that returns no errno, memory
policy nodes vs mode, soft above hard), an ociVersion newer than 1.3, and
values ocitool's schema accepts because runc and crun do, though the
official runtime-spec schema forbids them (warnings: another runtime or a
validator may refuse the config).
"""

from __future__ import annotations

from typing import Any, TypeGuard

from ocitool.errors import Diagnostic
from ocitool.spec.schema_messages import SEMVER, show

KNOWN_MINOR = 3  # runtime-spec 1.3 is the newest version ocitool knows


def version_checks(
    data: dict[str, Any], kind: str, found: list[tuple[Diagnostic, bool]]
) -> list[Diagnostic]:
    if kind != "config" or any(d.code == "OCI210" for d, _ in found):
        return []
    version = data.get("ociVersion")
    match = SEMVER.match(version) if isinstance(version, str) else None
    if match and match.group(1) == "1" and int(match.group(2)) > KNOWN_MINOR:
        msg = (
            f"ociVersion {version} is newer than runtime-spec 1.{KNOWN_MINOR}, the newest "
            "ocitool knows; fields added later are reported as unknown"
        )
        return [
            Diagnostic(
                code="OCI211",
                message=msg,
                pointer="/ociVersion",
                severity="warning",
                expected=f"1.0.0 to 1.{KNOWN_MINOR}.x",
                hint="1.x versions are backward compatible, so this usually works",
            )  # fmt: skip
        ]
    return []


def _duplicates(items: Any, field: str, base: str, what: str) -> list[Diagnostic]:
    if not isinstance(items, list):
        return []
    first: dict[str, int] = {}
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get(field), str):
            continue
        value = item[field]
        if value in first:
            msg = (
                f"{what} {show(value)} is listed twice ({base}[{first[value]}] and "
                f"{base}[{index}]); runtimes must refuse this"
            )
            pointer = "/" + base.replace(".", "/") + f"/{index}/{field}"
            out.append(
                Diagnostic(
                    code="OCI212",
                    message=msg,
                    pointer=pointer,
                    expected=f"each {what} at most once",
                    hint="merge the entries into one",
                )  # fmt: skip
            )
        else:
            first[value] = index
    return out


def _int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _conflict(message: str, pointer: str, expected: str, hint: str) -> Diagnostic:
    return Diagnostic(code="OCI213", message=message, pointer=pointer, expected=expected, hint=hint)


_NO_ERRNO_ACTIONS = frozenset(
    "SCMP_ACT_" + a
    for a in ("KILL", "KILL_PROCESS", "KILL_THREAD", "TRAP", "ALLOW", "LOG", "NOTIFY")
)
_MPOL_NO_NODES = ("MPOL_DEFAULT", "MPOL_LOCAL")
_MPOL_NEED_NODES = (
    "MPOL_BIND",
    "MPOL_INTERLEAVE",
    "MPOL_WEIGHTED_INTERLEAVE",
    "MPOL_PREFERRED_MANY",
)


def _cpu_checks(cpu: Any) -> list[Diagnostic]:
    if not isinstance(cpu, dict):
        return []
    quota, burst = cpu.get("quota"), cpu.get("burst")
    if _int(quota) and _int(burst) and quota > 0 and burst > quota:
        return [
            _conflict(
                f"linux.resources.cpu.burst ({burst}) is larger than quota ({quota})",
                "/linux/resources/cpu/burst",
                f"a burst of at most {quota}",
                "runtime-spec: burst MUST be no larger than any positive quota",
            )
        ]
    return []


def _seccomp_checks(seccomp: Any) -> list[Diagnostic]:
    """errnoRet only goes with actions that return an errno (the runtime MUST fail otherwise)."""
    if not isinstance(seccomp, dict):
        return []
    out = []
    action = seccomp.get("defaultAction")
    if "defaultErrnoRet" in seccomp and isinstance(action, str) and action in _NO_ERRNO_ACTIONS:
        out.append(
            _conflict(
                f"linux.seccomp.defaultErrnoRet is set but defaultAction {action} returns no errno",
                "/linux/seccomp/defaultErrnoRet",
                "defaultAction SCMP_ACT_ERRNO or SCMP_ACT_TRACE",
                "remove defaultErrnoRet, or use SCMP_ACT_ERRNO as the default action",
            )
        )
    syscalls = seccomp.get("syscalls")
    for index, rule in enumerate(syscalls if isinstance(syscalls, list) else []):
        if not isinstance(rule, dict) or "errnoRet" not in rule:
            continue
        action = rule.get("action")
        if isinstance(action, str) and action in _NO_ERRNO_ACTIONS:
            out.append(
                _conflict(
                    f"linux.seccomp.syscalls[{index}].errnoRet is set but action {action} "
                    "returns no errno",
                    f"/linux/seccomp/syscalls/{index}/errnoRet",
                    "action SCMP_ACT_ERRNO or SCMP_ACT_TRACE",
                    "remove errnoRet, or use SCMP_ACT_ERRNO",
                )
            )
    return out


def _memory_policy_checks(policy: Any) -> list[Diagnostic]:
    """set_mempolicy(2) refuses nodes for some modes and needs them for others."""
    if not isinstance(policy, dict) or not isinstance(policy.get("mode"), str):
        return []
    mode, nodes = policy["mode"], policy.get("nodes")
    has_nodes = isinstance(nodes, str) and nodes != ""
    if mode in _MPOL_NO_NODES and has_nodes:
        return [
            _conflict(
                f"linux.memoryPolicy.nodes is {show(nodes)} but mode {mode} takes no nodes",
                "/linux/memoryPolicy/nodes",
                f"no nodes with {mode}",
                "remove nodes, or choose a mode such as MPOL_BIND",
            )
        ]
    if mode in _MPOL_NEED_NODES and not has_nodes and (nodes is None or isinstance(nodes, str)):
        return [
            _conflict(
                f"linux.memoryPolicy.mode {mode} needs at least one node in 'nodes'",
                "/linux/memoryPolicy/mode",
                f'nodes such as "0-1" with {mode}',
                'add "nodes", e.g. "0-1"',
            )
        ]
    return []


def _rlimit_checks(rlimits: Any) -> list[Diagnostic]:
    out = []
    for index, item in enumerate(rlimits if isinstance(rlimits, list) else []):
        if not isinstance(item, dict):
            continue
        soft, hard = item.get("soft"), item.get("hard")
        if _int(soft) and _int(hard) and soft > hard:
            out.append(
                _conflict(
                    f"process.rlimits[{index}].soft ({soft}) is above its hard limit ({hard})",
                    f"/process/rlimits/{index}/soft",
                    f"a soft limit of at most {hard}",
                    "setrlimit(2) refuses a soft limit above the hard limit; lower soft",
                )
            )
    return out


def consistency_checks(data: dict[str, Any]) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    linux = data.get("linux")
    process = data.get("process")
    if isinstance(linux, dict):
        out += _duplicates(linux.get("namespaces"), "type", "linux.namespaces", "namespace type")
        resources = linux.get("resources")
        out += _cpu_checks(resources.get("cpu") if isinstance(resources, dict) else None)
        out += _seccomp_checks(linux.get("seccomp"))
        out += _memory_policy_checks(linux.get("memoryPolicy"))
    if isinstance(process, dict):
        out += _duplicates(process.get("rlimits"), "type", "process.rlimits", "rlimit")
        out += _rlimit_checks(process.get("rlimits"))
    return out + official_schema_checks(data)


# the official schema (runtime-spec schema/config-linux.json) allows only these
_OFFICIAL_PROPAGATION = ("private", "shared", "slave", "unbindable")
_OFFICIAL_MAX_FILE_MODE = 512  # runtime-spec schema/defs-linux.json FileMode maximum


def _lenient(message: str, pointer: str, expected: str, hint: str) -> Diagnostic:
    return Diagnostic(
        code="OCI214",
        message=message,
        pointer=pointer,
        severity="warning",
        expected=expected,
        hint=hint,
    )


def official_schema_checks(data: dict[str, Any]) -> list[Diagnostic]:
    """Values runc and crun accept that the official runtime-spec schema forbids."""
    linux = data.get("linux")
    if not isinstance(linux, dict):
        return []
    out = []
    prop = linux.get("rootfsPropagation")
    if (
        isinstance(prop, str)
        and prop not in _OFFICIAL_PROPAGATION
        and prop[1:] in _OFFICIAL_PROPAGATION
    ):
        out.append(
            _lenient(
                f"rootfsPropagation {show(prop)} is accepted by runc and crun, but the "
                "runtime-spec schema allows only private, shared, slave and unbindable",
                "/linux/rootfsPropagation",
                ", ".join(_OFFICIAL_PROPAGATION),
                "ocitool, runc and crun apply it as given; a runtime or validator that uses the "
                f"official schema refuses it (use {show(prop[1:])} there)",
            )
        )
    devices = linux.get("devices")
    for index, dev in enumerate(devices if isinstance(devices, list) else []):
        mode = dev.get("fileMode") if isinstance(dev, dict) else None
        if _int(mode) and mode > _OFFICIAL_MAX_FILE_MODE:
            decimal_hint = (
                f"{mode} looks like octal {oct(int(str(mode), 8))[2:]} written in decimal; "
                f"JSON has no octal: write {int(str(mode), 8)}"
                if set(str(mode)) <= set("01234567") and int(str(mode), 8) <= 0o777
                else "keep the permission bits (at most 0o777, 511)"
            )
            out.append(
                _lenient(
                    f"linux.devices[{index}].fileMode {mode} is {oct(mode)}: above 0o777 (the "
                    "runtime-spec schema caps it at 512); runc and crun pass the extra bits on",
                    f"/linux/devices/{index}/fileMode",
                    "a permission mode of at most 0o777 (511)",
                    decimal_hint,
                )
            )
    return out
