"""Apply ``ocitool spec`` flags to a profile's config: pure, typed, one function per flag.

Flag values are parsed here too (``512M``, ``1.5``, ``SRC:DST:ro``...) so that
every bad value becomes a :class:`UsageError` that names its flag, and so the
whole of ``ocitool spec`` minus file I/O can be tested without a shell.
"""

from __future__ import annotations

import copy
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from ocitool.capabilities import CAPABILITIES, cap_number
from ocitool.errors import UsageError

BAD_VALUE = "OCI050"
CPU_PERIOD = 100_000  # microseconds; the CFS default, what docker --cpus uses
MIN_CPU_QUOTA = 1_000  # the kernel refuses a quota under 1 ms
MAX_ID = 2**32 - 2  # (uid_t)-1 is "no change", so it cannot be a real id
MAX_INT64 = 2**63 - 1  # memory, pids and quota are int64 in runtime-spec

_SIZE = re.compile(r"(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[kmgt]?)(?:i?b)?", re.I | re.A)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")  # fmt: skip
_ENV_KEY = re.compile(r"[^=\0]+")


def bad(
    flag: str, message: str, expected: str | None = None, hint: str | None = None
) -> UsageError:
    """A usage error about one flag's value."""
    return UsageError(
        message=f"{flag}: {message}",
        code=BAD_VALUE,
        path="ocitool spec",
        expected=expected,
        hint=hint,
    )


# ---------------------------------------------------------------- value parsers


def parse_args(text: str) -> list[str]:
    """``--args 'sh -c "echo hi"'`` -> argv, split as a POSIX shell would."""
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise bad("--args", f"cannot split {text!r}: {exc}", hint="check the quotes") from None
    if not argv:
        raise bad("--args", "the command is empty", expected="a program and its arguments")
    return argv


def parse_env(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not _ENV_KEY.fullmatch(key) or "\0" in value:
        raise bad("--env", f"{text!r} is not KEY=VALUE", expected="KEY=VALUE, e.g. LANG=C.UTF-8")
    return key, value


def parse_cwd(text: str) -> str:
    if not text.startswith("/"):
        raise bad("--cwd", f"{text!r} is not an absolute path", expected="a path starting with /")
    return text


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also accepts '²' and '١', which int() refuses or misreads."""
    return text.isascii() and text.isdigit()


def _id(flag: str, text: str, what: str) -> int:
    if not _digits(text):
        raise bad(flag, f"{what} {text!r} is not a number", expected="UID[:GID], e.g. 1000:1000",
                  hint="names are not resolved: the container's /etc/passwd is not read")  # fmt: skip
    value = int(text)
    if value > MAX_ID:
        raise bad(flag, f"{what} {value} is too large", expected=f"0..{MAX_ID}")
    return value


def parse_user(text: str) -> tuple[int, int | None]:
    """``UID[:GID]``; a missing GID leaves the profile's gid."""
    uid_text, sep, gid_text = text.partition(":")
    uid = _id("--user", uid_text, "uid")
    gid = _id("--user", gid_text, "gid") if sep else None
    return uid, gid


def parse_hostname(text: str) -> str:
    if len(text) > 64 or not _HOSTNAME.fullmatch(text):
        raise bad("--hostname", f"{text!r} is not a valid host name",
                  expected="letters, digits, '-' and '.', at most 64 characters")  # fmt: skip
    return text


def parse_cap_names(flag: str, text: str) -> list[str]:
    """``chown,CAP_KILL,all`` -> canonical names (``all`` -> every known capability)."""
    names: list[str] = []
    for word in text.split(","):
        word = word.strip()
        if word.lower() in ("all", "cap_all"):
            names.extend(CAPABILITIES)
            continue
        number = cap_number(word) if word else None
        if number is None:
            raise bad(flag, f"unknown capability {word!r}", expected="a name such as CAP_NET_ADMIN",
                      hint="'ocitool caps decode 0x1ffffffffff' lists every name")  # fmt: skip
        names.append(CAPABILITIES[number])
    return names


def parse_memory(text: str) -> int:
    """``512M`` -> bytes (K, M, G, T are powers of 1024; a plain number is bytes)."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise bad("--memory", f"{text!r} is not a size",
                  expected="a number with an optional K, M, G or T suffix, e.g. 512M")  # fmt: skip
    value = int(float(match["num"]) * _UNITS[match["unit"].lower()])
    if value < 1024 * 1024:
        raise bad("--memory", f"{text!r} is below 1M", expected="at least 1M",
                  hint="the kernel and runtimes refuse tiny memory limits")  # fmt: skip
    if value > MAX_INT64:
        raise bad("--memory", f"{text!r} is too large", expected="at most 2^63-1 bytes")
    return value


def parse_cpus(text: str) -> tuple[int, int]:
    """``1.5`` -> (quota, period) = (150000, 100000) microseconds."""
    try:
        cpus = float(text)
    except ValueError:
        cpus = float("nan")
    if not cpus > 0 or cpus == float("inf"):
        raise bad("--cpus", f"{text!r} is not a positive number of CPUs", expected="e.g. 0.5 or 2")
    if cpus * CPU_PERIOD > MAX_INT64:
        raise bad("--cpus", f"{text!r} is too large", expected="a number of CPUs, e.g. 0.5 or 2")
    quota = round(cpus * CPU_PERIOD)
    if quota < MIN_CPU_QUOTA:
        raise bad("--cpus", f"{text!r} is below 0.01 CPU", expected="at least 0.01",
                  hint="the kernel refuses a CFS quota under 1 ms per 100 ms")  # fmt: skip
    return quota, CPU_PERIOD


def parse_pids_limit(text: str) -> int:
    value = int(text) if _digits(text.strip()) else 0
    if value < 1:
        raise bad("--pids-limit", f"{text!r} is not a positive whole number", expected="e.g. 100")
    if value > MAX_INT64:
        raise bad("--pids-limit", f"{text!r} is too large", expected=f"at most {MAX_INT64}")
    return value


def _abs_dest(flag: str, dest: str, spec_text: str) -> str:
    if not dest.startswith("/"):
        raise bad(flag, f"destination {dest!r} in {spec_text!r} is not an absolute path",
                  expected="an absolute path inside the container")  # fmt: skip
    return dest


def parse_bind(text: str) -> dict[str, Any]:
    """``SRC:DST[:ro|rw]`` -> a bind mount (recursive, private)."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise bad("--bind", f"{text!r} is not SRC:DST[:ro]", expected="SRC:DST or SRC:DST:ro")
    src, dest = parts[0], _abs_dest("--bind", parts[1], text)
    mode = parts[2] if len(parts) == 3 else "rw"
    if mode not in ("ro", "rw"):
        raise bad("--bind", f"mode {mode!r} in {text!r} is not ro or rw", expected="ro or rw")
    return {"destination": dest, "type": "bind", "source": src,
            "options": ["rbind", "rprivate", mode]}  # fmt: skip


DEFAULT_TMPFS_OPTIONS = ["nosuid", "nodev", "noexec", "mode=1777", "size=65536k"]

# tmpfs(5) options whose values the kernel parses: checked here so a typo fails at
# 'ocitool spec' time, with the flag named, instead of at mount time in the container.
_TMPFS_VALUES = {
    "size": (re.compile(r"[0-9]+[kmgtpe%]?", re.I), "bytes with an optional k/m/g suffix or a %"),
    "nr_blocks": (re.compile(r"[0-9]+[kmgtpe]?", re.I), "a block count, e.g. 1024 or 4k"),
    "nr_inodes": (re.compile(r"[0-9]+[kmgtpe]?", re.I), "an inode count, e.g. 1024 or 4k"),
    "mode": (re.compile(r"[0-7]{1,4}"), "octal permissions, e.g. 1777"),
    "uid": (re.compile(r"[0-9]+"), "a numeric uid"),
    "gid": (re.compile(r"[0-9]+"), "a numeric gid"),
}


def parse_tmpfs(text: str) -> dict[str, Any]:
    """``DST[:opt,opt]`` -> a tmpfs mount (default options: nosuid,nodev,noexec,1777,64M)."""
    dest, sep, opts = text.partition(":")
    _abs_dest("--tmpfs", dest, text)
    options = [o.strip() for o in opts.split(",")] if sep else list(DEFAULT_TMPFS_OPTIONS)
    if any(not o for o in options):
        raise bad("--tmpfs", f"empty option in {text!r}", expected="DST[:opt,opt,...]")
    for option in options:
        key, _, value = option.partition("=")
        if key in _TMPFS_VALUES and not _TMPFS_VALUES[key][0].fullmatch(value):
            raise bad("--tmpfs", f"bad value in {option!r}", expected=_TMPFS_VALUES[key][1])
    return {"destination": dest, "type": "tmpfs", "source": "tmpfs", "options": options}


# ---------------------------------------------------------------- the options


@dataclass
class Seccomp:
    """What ``--seccomp`` chose: ``unconfined``, an OCI object, or a Docker profile to resolve."""

    kind: str  # "unconfined" | "oci" | "docker"
    profile: dict[str, Any] | None = None
    source: Any = None  # the loaded Document, to locate a Docker profile's errors
    base: str = ""  # the profile's pointer in that document ("" or /linux/seccomp)


@dataclass
class SpecOptions:
    """Every ``ocitool spec`` flag, parsed; None / empty means "keep the profile's"."""

    args: list[str] | None = None
    env: list[tuple[str, str]] = field(default_factory=list)
    cwd: str | None = None
    user: tuple[int, int | None] | None = None
    hostname: str | None = None
    terminal: bool | None = None
    caps: dict[str, list[str]] | None = None
    cap_drop: list[str] = field(default_factory=list)
    cap_add: list[str] = field(default_factory=list)
    memory: int | None = None
    cpus: tuple[int, int] | None = None
    pids_limit: int | None = None
    mounts: list[dict[str, Any]] = field(default_factory=list)
    net: str | None = None  # "host" | "none"
    readonly: bool | None = None
    seccomp: Seccomp | None = None


CAP_SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")


def customize(spec: dict[str, Any], opts: SpecOptions, *, arch: str = "x86_64") -> dict[str, Any]:
    """A copy of ``spec`` with the flags applied (``arch`` resolves Docker seccomp profiles)."""
    out = copy.deepcopy(spec)
    process = out.setdefault("process", {})
    if opts.args is not None:
        process["args"] = list(opts.args)
    for key, value in opts.env:
        process["env"] = _set_env(process.get("env", []), key, value)
    if opts.cwd is not None:
        process["cwd"] = opts.cwd
    if opts.user is not None:
        user = process.setdefault("user", {"uid": 0, "gid": 0})
        user["uid"] = opts.user[0]
        if opts.user[1] is not None:
            user["gid"] = opts.user[1]
    if opts.hostname is not None:
        out["hostname"] = opts.hostname
    if opts.terminal is not None:
        process["terminal"] = opts.terminal
    _apply_caps(process, opts)
    _apply_resources(out, opts)
    _apply_mounts(out, opts.mounts)
    if opts.net is not None:
        _apply_net(out, opts.net)
    if opts.readonly is not None:
        out.setdefault("root", {"path": "rootfs"})["readonly"] = opts.readonly
    if opts.seccomp is not None:
        _apply_seccomp(out, opts.seccomp, arch)
    from ocitool.spec.profiles import runc_order

    return runc_order(out)


def _set_env(env: list[str], key: str, value: str) -> list[str]:
    """Replace KEY in place (keeping the list's order), or append it."""
    entry = f"{key}={value}"
    out = [entry if e.partition("=")[0] == key else e for e in env]
    return out if entry in out else [*out, entry]


def _apply_caps(process: dict[str, Any], opts: SpecOptions) -> None:
    """--caps replaces the sets, then --cap-drop removes from all five, then --cap-add adds.

    Adding puts a capability in bounding, effective and permitted, and in
    ambient when that set is in use (runc's default lists ambient; hardened
    and capability texts do not), so a profile's shape is kept. Inheritable is
    only ever what the profile or --caps says.
    """
    if opts.caps is None and not opts.cap_drop and not opts.cap_add:
        return
    current = process.get("capabilities") or {}
    sets = {name: list(current.get(name, [])) for name in CAP_SETS}
    present = {name for name in CAP_SETS if name in current}
    if opts.caps is not None:
        sets = {name: list(opts.caps.get(name, [])) for name in CAP_SETS}
        present = set(CAP_SETS)
    dropped = set(opts.cap_drop)
    for name in CAP_SETS:
        sets[name] = [c for c in sets[name] if c not in dropped]
    targets = ["bounding", "effective", "permitted"]
    if sets["ambient"]:
        targets.append("ambient")
    for cap in opts.cap_add:
        for name in targets:
            if cap not in sets[name]:
                sets[name].append(cap)
            present.add(name)
    # sorted by name, as runc writes its default lists
    process["capabilities"] = {
        name: sorted(set(sets[name])) for name in CAP_SETS if name in present
    }


def _apply_resources(spec: dict[str, Any], opts: SpecOptions) -> None:
    if opts.memory is None and opts.cpus is None and opts.pids_limit is None:
        return
    resources = spec.setdefault("linux", {}).setdefault("resources", {})
    if opts.memory is not None:
        resources.setdefault("memory", {})["limit"] = opts.memory
    if opts.cpus is not None:
        cpu = resources.setdefault("cpu", {})
        cpu["quota"], cpu["period"] = opts.cpus
    if opts.pids_limit is not None:
        resources.setdefault("pids", {})["limit"] = opts.pids_limit


def _apply_mounts(spec: dict[str, Any], mounts: list[dict[str, Any]]) -> None:
    """Add mounts; one at a destination the profile already mounts replaces it there."""
    existing = spec.setdefault("mounts", [])
    for mount in mounts:
        dest = mount["destination"].rstrip("/") or "/"
        for i, old in enumerate(existing):
            if (old.get("destination", "").rstrip("/") or "/") == dest:
                existing[i] = copy.deepcopy(mount)
                break
        else:
            existing.append(copy.deepcopy(mount))


def _apply_net(spec: dict[str, Any], net: str) -> None:
    """host: share the host's network (no network namespace); none: a new, empty one.

    Without its own network namespace a user-namespaced container cannot mount
    sysfs, so /sys then becomes a read-only recursive bind, as runc's rootless
    conversion does.
    """
    linux = spec.setdefault("linux", {})
    namespaces = linux.setdefault("namespaces", [])
    if net == "host":
        linux["namespaces"] = [ns for ns in namespaces if ns.get("type") != "network"]
        if any(ns.get("type") == "user" for ns in namespaces):
            for mount in spec.get("mounts", []):
                if (
                    mount.get("destination", "").rstrip("/") == "/sys"
                    and mount.get("type") == "sysfs"
                ):
                    mount.update(type="none", source="/sys",
                                 options=["rbind", "nosuid", "noexec", "nodev", "ro"])  # fmt: skip
    elif net == "none":
        if not any(ns.get("type") == "network" for ns in namespaces):
            namespaces.append({"type": "network"})
    else:
        raise bad("--net", f"{net!r} is not host or none", expected="host or none")


def _apply_seccomp(spec: dict[str, Any], choice: Seccomp, arch: str) -> None:
    linux = spec.setdefault("linux", {})
    if choice.kind == "unconfined":
        linux.pop("seccomp", None)
        return
    assert choice.profile is not None
    if choice.kind == "docker":
        from ocitool.errors import SeccompError
        from ocitool.seccomp.docker import docker_to_oci

        bounding = (spec.get("process", {}).get("capabilities") or {}).get("bounding", [])
        try:
            linux["seccomp"] = docker_to_oci(choice.profile, list(bounding), arch)
        except SeccompError as err:
            raise _located(err, choice) from None
    else:
        linux["seccomp"] = copy.deepcopy(choice.profile)


def _located(err: Any, choice: Seccomp) -> Any:
    """Point an error about a Docker profile at its file, line and column."""
    doc = choice.source
    if doc is None:
        return err
    err.path = err.path or doc.path
    if err.pointer is not None:
        err.pointer = choice.base + err.pointer
        err.line, err.column = doc.position(err.pointer) or (None, None)
    return err
