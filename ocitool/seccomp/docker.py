"""Docker / containers-common seccomp profiles -> OCI seccomp objects.

Docker's profile format extends the OCI one with ``archMap`` and per-rule
``includes``/``excludes`` (by capability, architecture and minimum kernel),
which the engine resolves when it writes ``config.json``. We resolve them the
same way (moby/profiles ``setupSeccomp``), so a profile can be compiled or
compared without a Docker daemon:

* ``archMap``: only the entry for the target arch counts; it contributes the
  arch and its sub-arches (x86_64 -> x86_64, x86, x32).
* a rule is dropped if any ``excludes.caps`` is in the capability set, if
  ``excludes.arches`` names the target arch, or the kernel is at least
  ``excludes.minKernel``; it is kept only if every ``includes.caps`` is in
  the set, ``includes.arches`` (if any) names the arch, and the kernel is at
  least ``includes.minKernel``. Arch names here are libseccomp's (amd64,
  arm64, ...), not OCI's.
* ``name`` is the old spelling of ``names: [name]``; ``errno``/``defaultErrno``
  (containers-common) name an errno when ``errnoRet`` is absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocitool.errors import SeccompError
from ocitool.seccomp.constants import ERRNO

BAD_PROFILE = "OCI460"

#: Docker's default capability set (moby oci/caps/defaults.go), the bounding set
#: Docker gives a container without --cap-add/--cap-drop.
DOCKER_DEFAULT_CAPS: tuple[str, ...] = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)

# ocitool arch name -> (libseccomp/Docker native name, OCI arch name)
_ARCHES: dict[str, tuple[str, str]] = {
    "x86_64": ("amd64", "SCMP_ARCH_X86_64"),
    "x86": ("x86", "SCMP_ARCH_X86"),
    "x32": ("x32", "SCMP_ARCH_X32"),
    "aarch64": ("arm64", "SCMP_ARCH_AARCH64"),
    "arm": ("arm", "SCMP_ARCH_ARM"),
    "riscv64": ("riscv64", "SCMP_ARCH_RISCV64"),
    "ppc64le": ("ppc64le", "SCMP_ARCH_PPC64LE"),
    "s390x": ("s390x", "SCMP_ARCH_S390X"),
    "mips64": ("mips64", "SCMP_ARCH_MIPS64"),
    "mipsel": ("mipsel", "SCMP_ARCH_MIPSEL"),
    "loongarch64": ("loongarch64", "SCMP_ARCH_LOONGARCH64"),
}
_NATIVE_TO_ARCH = {native: arch for arch, (native, _) in _ARCHES.items()}

# Keys of the OCI object that Docker copies through unchanged.
_COPIED = ("defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath",
           "listenerMetadata")  # fmt: skip


@dataclass(frozen=True)
class Conversion:
    """The OCI object plus, for each of its rules, the index of the profile rule it came from."""

    seccomp: dict[str, Any]
    origins: list[int]


def is_docker_profile(obj: Any) -> bool:
    """True for Docker/containers-common profiles (as opposed to plain OCI objects)."""
    if not isinstance(obj, dict):
        return False
    if "archMap" in obj or "defaultErrno" in obj:
        return True
    rules = obj.get("syscalls")
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, dict) and ({"includes", "excludes", "name", "comment"} & rule.keys()):
            return True
    return False


def normalize_arch(arch: str) -> str:
    """Accept ocitool, OCI and Docker spellings (x86_64, SCMP_ARCH_X86_64, amd64)."""
    if arch in _ARCHES:
        return arch
    if arch in _NATIVE_TO_ARCH:
        return _NATIVE_TO_ARCH[arch]
    for name, (_, oci) in _ARCHES.items():
        if arch == oci:
            return name
    from ocitool.seccomp.arch import normalize_arch as compiler_arch

    try:  # the compiler's spellings too: uname -m (armv7l, i686), GOARCH (386)
        return compiler_arch(arch)
    except SeccompError:
        pass
    raise SeccompError(
        message=f"unknown architecture {arch!r}",
        code=BAD_PROFILE,
        expected="one of " + ", ".join(_ARCHES),
    )


def docker_to_oci(
    profile: dict[str, Any],
    caps: list[str] | None = None,
    arch: str = "x86_64",
    kernel: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """Resolve a Docker-format profile for one container into an OCI seccomp object.

    ``caps`` is the container's bounding set (default: Docker's default set);
    ``kernel`` is (major, minor) of the host kernel, or None to treat every
    ``minKernel`` as satisfied (a current kernel).
    """
    return convert(profile, caps, arch, kernel).seccomp


def convert(
    profile: dict[str, Any],
    caps: list[str] | None = None,
    arch: str = "x86_64",
    kernel: tuple[int, int] | None = None,
) -> Conversion:
    """:func:`docker_to_oci` that also says where each output rule came from."""
    if not isinstance(profile, dict):
        raise _bad("", "the profile is not a JSON object")
    arch = normalize_arch(arch)
    native, oci_arch = _ARCHES[arch]
    capset = set(DOCKER_DEFAULT_CAPS if caps is None else (_cap_name(c) for c in caps))
    if profile.get("architectures") and profile.get("archMap"):
        raise _bad(
            "/archMap",
            "both 'architectures' and 'archMap' are set",
            hint="a Docker profile uses one or the other",
        )
    out: dict[str, Any] = {k: profile[k] for k in _COPIED if profile.get(k) is not None}
    if "defaultAction" not in out:
        raise _bad("/defaultAction", "the profile has no defaultAction")
    json_string(out["defaultAction"], "/defaultAction")
    if "defaultErrnoRet" not in out and profile.get("defaultErrno"):
        out["defaultErrnoRet"] = _errno(profile["defaultErrno"], "/defaultErrno")
    for i, entry in enumerate(json_list(profile.get("archMap"), "/archMap")):
        entry = json_object(entry, f"/archMap/{i}", optional=False)
        if entry.get("architecture") == oci_arch:
            subs = json_strings(entry.get("subArchitectures"), f"/archMap/{i}/subArchitectures")
            out["architectures"] = [oci_arch, *subs]
            break
    rules: list[dict[str, Any]] = []
    origins: list[int] = []
    for i, rule in enumerate(json_list(profile.get("syscalls"), "/syscalls")):
        ptr = f"/syscalls/{i}"
        rule = json_object(rule, ptr, optional=False)
        if not _selected(rule, ptr, native, capset, kernel):
            continue
        rules.append(_oci_rule(rule, ptr))
        origins.append(i)
    out["syscalls"] = rules
    return Conversion(out, origins)


def _selected(
    rule: dict[str, Any], ptr: str, native: str, caps: set[str], kernel: tuple[int, int] | None
) -> bool:
    excludes = json_object(rule.get("excludes"), ptr + "/excludes")
    includes = json_object(rule.get("includes"), ptr + "/includes")
    if native in json_strings(excludes.get("arches"), ptr + "/excludes/arches"):
        return False
    if any(
        _cap_name(c) in caps for c in json_strings(excludes.get("caps"), ptr + "/excludes/caps")
    ):
        return False
    if excludes.get("minKernel") and _kernel_at_least(
        kernel, excludes["minKernel"], ptr + "/excludes/minKernel"
    ):
        return False
    arches = json_strings(includes.get("arches"), ptr + "/includes/arches")
    if arches and native not in arches:
        return False
    if any(
        _cap_name(c) not in caps for c in json_strings(includes.get("caps"), ptr + "/includes/caps")
    ):
        return False
    return not (
        includes.get("minKernel")
        and not _kernel_at_least(kernel, includes["minKernel"], ptr + "/includes/minKernel")
    )


def _oci_rule(rule: dict[str, Any], ptr: str) -> dict[str, Any]:
    names = json_strings(rule.get("names"), ptr + "/names")
    if rule.get("name"):
        if names:
            raise _bad(ptr, "both 'name' and 'names' are set", hint="use 'names'")
        names = json_strings([rule["name"]], ptr + "/name")
    if not names:
        raise _bad(ptr + "/names", "the rule names no syscall")
    if "action" not in rule:
        raise _bad(ptr + "/action", "the rule has no action")
    out: dict[str, Any] = {"names": names, "action": json_string(rule["action"], ptr + "/action")}
    if rule.get("errnoRet") is not None:
        out["errnoRet"] = rule["errnoRet"]
    elif rule.get("errno") and rule["action"] in ("SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"):
        out["errnoRet"] = _errno(rule["errno"], ptr + "/errno")
    if rule.get("args"):
        args = json_list(rule["args"], ptr + "/args")
        out["args"] = [
            dict(json_object(a, f"{ptr}/args/{j}", optional=False)) for j, a in enumerate(args)
        ]
    return out


def json_object(value: Any, ptr: str, *, optional: bool = True) -> dict[str, Any]:
    """``value`` as a JSON object (if ``optional``, absent or null: empty), else an error."""
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise _bad(ptr, f"expected an object, not {json_type(value)}", expected="a JSON object")
    return value


def json_list(value: Any, ptr: str) -> list[Any]:
    """``value`` as a JSON array (absent or null: empty), else an error at ``ptr``."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad(ptr, f"expected an array, not {json_type(value)}", expected="a JSON array")
    return value


def json_string(value: Any, ptr: str) -> str:
    """``value`` as a string (Docker's Go structs take nothing else here)."""
    if not isinstance(value, str):
        found = "missing" if value is None else f"not {json_type(value)}"
        raise _bad(ptr, f"expected a string, {found}", expected="a string")
    return value


def json_strings(value: Any, ptr: str) -> list[str]:
    """``value`` as an array of strings, else an error at the first bad item."""
    return [json_string(item, f"{ptr}/{i}") for i, item in enumerate(json_list(value, ptr))]


def json_type(value: Any) -> str:
    """``an object``, ``a string``, ``null`` ... -- a value's JSON type, for messages."""
    from ocitool.spec.schema_messages import json_type as bare

    name = bare(value)
    return name if name == "null" else ("an " if name[0] in "aeiou" else "a ") + name


def _errno(name: Any, ptr: str) -> int:
    if isinstance(name, bool):
        raise _bad(ptr, f"unknown errno {name!r}", expected="an errno name such as EPERM")
    if isinstance(name, int):
        return name
    if isinstance(name, str) and name in ERRNO:
        return ERRNO[name]
    raise _bad(ptr, f"unknown errno {name!r}", expected="an errno name such as EPERM")


def _kernel_at_least(kernel: tuple[int, int] | None, want: Any, ptr: str) -> bool:
    parts = str(want).split(".")
    try:
        if len(parts) != 2:
            raise ValueError
        need = (int(parts[0]), int(parts[1]))
    except ValueError:
        raise _bad(ptr, f"bad kernel version {want!r}", expected='"<kernel>.<major>"') from None
    if kernel is None:
        return True
    return tuple(kernel[:2]) >= need


def _cap_name(cap: str) -> str:
    cap = cap.strip().upper()
    return cap if cap.startswith("CAP_") else "CAP_" + cap


def _bad(ptr: str, message: str, **kw: Any) -> SeccompError:
    return SeccompError(message=message, code=BAD_PROFILE, pointer=ptr, **kw)
