"""``ocitool spec``: write a config.json from a profile (default, hardened, rootless) and flags.

The command only gathers input: the host facts a profile depends on (user
ids, whether user namespaces are allowed, the architecture) and the files
named by flags. Building the config is pure (``ocitool.spec.profiles`` and
``ocitool.spec.customize``); the result is checked against ocitool's schema
before anything is written.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from ocitool.cli.common import ArgumentParser
from ocitool.errors import LoadError, OciToolError, UsageError, ValidationError
from ocitool.spec import customize as cz
from ocitool.spec.profiles import PROFILES, ProfileParams, build_profile

EXISTS = "OCI051"
SECCOMP_FILE = "OCI052"
HARDENED_POLICY = "seccomp/default.policy"

EPILOG = """\
examples:
  ocitool spec                                   # ./config.json, same as 'runc spec'
  ocitool spec --profile hardened --bundle b/ -- /bin/sh -c 'echo hi'
  ocitool spec -o - --args 'sleep 10' --memory 512M --cpus 1.5 --pids-limit 100
  ocitool spec --caps 'cap_chown,cap_kill=ep' --bind /data:/data:ro --net host
"""


def _parser() -> ArgumentParser:
    p = ArgumentParser(
        prog="ocitool spec",
        description="Write a config.json from a profile and flags.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = p.add_argument
    add("--profile", choices=PROFILES, default="default", help="starting point (default: default)")
    add("--bundle", "-b", default=".", metavar="DIR", help="write DIR/config.json (default: .)")
    add("--rootless", action="store_true",
        help="the rootless profile (runc spec --rootless); same as --profile rootless")  # fmt: skip
    add("-o", "--output", metavar="FILE", help="write FILE instead; '-' for standard output")
    add("--force", action="store_true", help="overwrite an existing file")
    add("--args", metavar="CMD", help="the command, split like a shell does (or give it after --)")
    add("--env", action="append", default=[], metavar="K=V", help="set a variable (repeatable)")
    add("--cwd", help="working directory (absolute)")
    add("--user", metavar="UID[:GID]", help="numeric user (and group) of the process")
    add("--hostname", help="the container's host name")
    add("--terminal", action=argparse.BooleanOptionalAction, default=None,
        help="attach a terminal (runc run then needs a tty)")  # fmt: skip
    add(
        "--cap-add",
        action="append",
        default=[],
        metavar="CAP",
        help="add capabilities (repeatable)",
    )
    add("--cap-drop", action="append", default=[], metavar="CAP",
        help="drop capabilities from all five sets; 'all' drops every one (repeatable)")  # fmt: skip
    add("--caps", metavar="TEXT", help="all sets from libcap text, e.g. 'cap_chown,cap_kill=ep'")
    add("--memory", metavar="SIZE", help="memory limit, e.g. 512M (K, M, G, T = powers of 1024)")
    add("--cpus", metavar="N", help="CPU limit, e.g. 1.5 (quota/period 150000/100000)")
    add("--pids-limit", metavar="N", help="maximum number of processes")
    add(
        "--bind",
        action="append",
        default=[],
        metavar="SRC:DST[:ro]",
        help="bind mount (repeatable)",
    )
    add(
        "--tmpfs",
        action="append",
        default=[],
        metavar="DST[:OPTS]",
        help="tmpfs mount (repeatable)",
    )
    add("--net", choices=("host", "none"), help="host: share the host network; none: own, empty")
    add("--readonly", action=argparse.BooleanOptionalAction, default=None,
        help="read-only root filesystem")  # fmt: skip
    add("--seccomp", metavar="PROFILE",
        help="'unconfined', a .policy file, an OCI seccomp JSON or a Docker profile")  # fmt: skip
    add("--userns", choices=("auto", "yes", "no"), default="auto",
        help="hardened: use a user namespace (auto: if /proc/sys/user/max_user_namespaces > 0)")  # fmt: skip
    add("--arch", help="architecture for Docker seccomp profiles (default: this machine's)")
    return p


def main(argv: list[str]) -> int:
    command: list[str] | None = None
    if "--" in argv:
        at = argv.index("--")
        argv, command = argv[:at], argv[at + 1 :]
    args = _parser().parse_args(argv)
    if args.rootless:
        if args.profile not in ("default", "rootless"):
            raise cz.bad("--rootless", f"--rootless and --profile {args.profile} disagree")
        args.profile = "rootless"
    if command is not None and args.args is not None:
        raise cz.bad("--args", "give the command with --args or after --, not both")
    if command is not None and not command:
        raise cz.bad("--", "no command after --", expected="a program and its arguments")
    opts = options_from_args(args, command)
    params = ProfileParams(
        uid=os.geteuid(),
        gid=os.getegid(),
        userns=_userns_allowed(args.userns),
        seccomp=_hardened_seccomp()
        if args.profile == "hardened" and opts.seccomp is None
        else None,
    )
    arch = args.arch or platform.machine()
    spec = cz.customize(build_profile(args.profile, params), opts, arch=arch)
    text = json.dumps(spec, indent="\t")
    check_valid(text)
    write_output(text, args.output, args.bundle, args.force)
    return 0


def options_from_args(args: argparse.Namespace, command: list[str] | None) -> cz.SpecOptions:
    """Parse every flag value (raising a UsageError that names the flag)."""
    opts = cz.SpecOptions()
    if args.args is not None:
        opts.args = cz.parse_args(args.args)
    elif command:
        opts.args = command
    opts.env = [cz.parse_env(e) for e in args.env]
    opts.cwd = cz.parse_cwd(args.cwd) if args.cwd is not None else None
    opts.user = cz.parse_user(args.user) if args.user is not None else None
    opts.hostname = cz.parse_hostname(args.hostname) if args.hostname is not None else None
    opts.terminal = args.terminal
    if args.caps is not None:
        from ocitool.captext import parse_captext

        sets = parse_captext(args.caps, source="--caps")
        if sets.effective & ~sets.permitted:
            from ocitool.capabilities import mask_to_names

            lone = ",".join(n.lower() for n in mask_to_names(sets.effective & ~sets.permitted))
            raise cz.bad("--caps", f"{lone} would be effective but not permitted",
                         hint=f"the kernel refuses that; raise p too, e.g. {lone}+ep")  # fmt: skip
        opts.caps = sets.to_oci()
    opts.cap_add = [c for text in args.cap_add for c in cz.parse_cap_names("--cap-add", text)]
    opts.cap_drop = [c for text in args.cap_drop for c in cz.parse_cap_names("--cap-drop", text)]
    opts.memory = cz.parse_memory(args.memory) if args.memory is not None else None
    opts.cpus = cz.parse_cpus(args.cpus) if args.cpus is not None else None
    opts.pids_limit = cz.parse_pids_limit(args.pids_limit) if args.pids_limit is not None else None
    opts.mounts = [cz.parse_bind(_abs_source(b)) for b in args.bind]
    opts.mounts += [cz.parse_tmpfs(t) for t in args.tmpfs]
    opts.net = args.net
    opts.readonly = args.readonly
    opts.seccomp = load_seccomp(args.seccomp) if args.seccomp is not None else None
    return opts


def _abs_source(bind: str) -> str:
    """Make a relative bind source absolute (from the current directory), as docker -v does."""
    src, sep, rest = bind.partition(":")
    if sep and src and not src.startswith("/"):
        return f"{os.path.abspath(src)}:{rest}"
    return bind


def _userns_allowed(choice: str, proc: Path = Path("/proc")) -> bool:
    """Whether the hardened profile gets a user namespace.

    auto: the host allows one when /proc/sys/user/max_user_namespaces is above
    0 and, for a non-root user on kernels with Debian's switch,
    /proc/sys/kernel/unprivileged_userns_clone is not 0.
    """
    if choice != "auto":
        return choice == "yes"
    return detect_userns(proc, os.geteuid())


def detect_userns(proc: Path, euid: int) -> bool:
    def number(rel: str) -> int | None:
        try:
            return int((proc / rel).read_text().strip())
        except (OSError, ValueError):
            return None

    if (number("sys/user/max_user_namespaces") or 0) <= 0:
        return False
    return euid == 0 or number("sys/kernel/unprivileged_userns_clone") != 0


def _hardened_seccomp() -> dict[str, Any]:
    from ocitool.spec.profiles import shipped_policy

    policy = shipped_policy()
    if policy is None:
        raise UsageError(
            message=f"the hardened profile's seccomp policy profiles/{HARDENED_POLICY} is missing",
            code=SECCOMP_FILE,
            path="ocitool spec",
            hint="reinstall ocitool, or pass --seccomp PROFILE (or unconfined)",
        )
    return policy


def load_seccomp(value: str) -> cz.Seccomp:
    """Read what ``--seccomp`` names: unconfined, a .policy, an OCI or a Docker JSON profile."""
    if value == "unconfined":
        return cz.Seccomp("unconfined")
    path = Path(value)
    if path.suffix == ".policy":
        from ocitool.seccomp.policy import load_policy

        return cz.Seccomp("oci", load_policy(path))
    from ocitool.inputs import read_input

    try:
        raw = read_input(value, "seccomp profile")
    except UsageError as exc:
        raise _seccomp_error(value, f"cannot read it: {exc.message}") from None
    from ocitool.spec.load import decode_bytes, parse_text

    try:
        document = parse_text(decode_bytes(raw, value), value)
    except LoadError as err:
        where = f" (line {err.line}, column {err.column})" if err.line else ""
        raise _seccomp_error(value, f"not JSON: {err.message}{where}") from None
    data = document.data
    from ocitool.seccomp.docker import is_docker_profile

    base = ""
    if (
        isinstance(data, dict)
        and isinstance(data.get("linux"), dict)
        and "seccomp" in data["linux"]
    ):
        data = data["linux"]["seccomp"]  # a whole config.json: take its seccomp object
        base = "/linux/seccomp"
    if is_docker_profile(data):
        return cz.Seccomp("docker", data, source=document, base=base)
    if isinstance(data, dict) and "defaultAction" in data:
        return cz.Seccomp("oci", data)
    raise _seccomp_error(value, "neither an OCI seccomp object nor a Docker profile")


def _seccomp_error(value: str, why: str) -> UsageError:
    return UsageError(
        message=f"--seccomp: {value}: {why}",
        code=SECCOMP_FILE,
        path="ocitool spec",
        expected="'unconfined', a .policy file, or a JSON seccomp profile (OCI or Docker)",
    )


def check_valid(text: str) -> None:
    """Refuse to write a config our own schema rejects (e.g. from a bad seccomp profile)."""
    from ocitool.spec.load import parse_text
    from ocitool.spec.schema import validate_config

    doc = parse_text(text, "<generated config.json>")
    errors = [d for d in validate_config(doc) if d.severity == "error"]
    if errors:
        raise ValidationError(
            message="the generated config does not validate",
            code=errors[0].code,
            diagnostics=errors,
        )


def write_output(text: str, output: str | None, bundle: str, force: bool) -> None:
    """Write like runc does (tab-indented); refuse to overwrite unless ``force``."""
    if output == "-":
        sys.stdout.write(text + "\n")
        return
    if output is not None:
        target = Path(output)
    else:
        directory = Path(bundle)
        if not directory.is_dir():
            raise UsageError(
                message=f"--bundle: {bundle} is not a directory",
                code="OCI050",
                path="ocitool spec",
                hint=f"create it first: mkdir -p {bundle}",
            )
        target = directory / "config.json"
    if target.exists() and not force:
        raise UsageError(
            message=f"{target} already exists",
            code=EXISTS,
            path="ocitool spec",
            hint="pass --force to overwrite it",
        )
    try:
        if force:
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            try:
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
        else:
            with open(target, "x", encoding="utf-8") as handle:
                handle.write(text)
    except FileExistsError:
        raise UsageError(message=f"{target} already exists", code=EXISTS, path="ocitool spec",
                         hint="pass --force to overwrite it") from None  # fmt: skip
    except OSError as exc:
        raise OciToolError(
            message=f"cannot write {target}: {exc.strerror or exc}",
            code="OCI003",
            path="ocitool spec",
        ) from None
