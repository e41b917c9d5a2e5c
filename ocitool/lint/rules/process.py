"""Process rules: privilege escalation, identity, limits and what gets executed."""

from __future__ import annotations

from collections.abc import Iterator

from ocitool.lint.context import LintContext, as_dict, as_list
from ocitool.lint.registry import Hit, rule
from ocitool.redact import env_entry
from ocitool.seccomp.docker import DOCKER_DEFAULT_CAPS

# Docker's default capability set: the usual bar for "broad".
DEFAULT_CAPS = frozenset(DOCKER_DEFAULT_CAPS)


@rule(
    "OCS250",
    "no-new-privileges-disabled",
    "warning",
    fix="set process.noNewPrivileges to true",
)
def no_new_privileges(ctx: LintContext) -> Iterator[Hit]:
    """process.noNewPrivileges is not true.

    Without no_new_privs, setuid binaries and file capabilities in the image
    can raise the process's privileges (up to the bounding set) at execve,
    which turns any such binary into an escalation path.
    """
    if ctx.process and not ctx.no_new_privileges:
        pointer = "/process/noNewPrivileges" if "noNewPrivileges" in ctx.process else "/process"
        yield Hit(pointer, "noNewPrivileges is not set: setuid binaries can gain privileges")


@rule(
    "OCS251",
    "root-with-broad-caps",
    "warning",
    fix="run as a non-root user, add a user namespace, or trim capabilities to what is needed",
)
def root_broad_caps(ctx: LintContext) -> Iterator[Hit]:
    """The process runs as host root with more capabilities than the usual default set.

    uid 0 without a user namespace plus capabilities beyond Docker's default
    fourteen leaves little between the workload and the host kernel.
    """
    if ctx.privileged or not ctx.shares_host_ns("user") or ctx.uid not in (0, None):
        return
    if not ctx.process:
        return
    extra = sorted(c for c in ctx.granted if c not in DEFAULT_CAPS)
    if len(ctx.granted) > len(DEFAULT_CAPS) or len(extra) > 2:
        yield Hit(
            "/process/user/uid" if "user" in ctx.process else "/process",
            f"root with {len(ctx.granted)} capabilities, beyond the default set: {', '.join(extra)}",
        )


@rule(
    "OCS252",
    "mac-unconfined",
    "warning",
    fix="use the runtime's default AppArmor profile or SELinux type (e.g. container_t)",
)
def mac_unconfined(ctx: LintContext) -> Iterator[Hit]:
    """The AppArmor profile or SELinux label is explicitly unconfined.

    An unconfined MAC context removes the LSM layer that stops many
    escapes even after capabilities and namespaces fail.
    """
    if ctx.process.get("apparmorProfile") == "unconfined":
        yield Hit("/process/apparmorProfile", "AppArmor profile is unconfined")
    label = ctx.process.get("selinuxLabel")
    if isinstance(label, str) and any(t in label.split(":") for t in ("spc_t", "unconfined_t")):
        yield Hit("/process/selinuxLabel", f"SELinux label {label} is unconfined")


@rule(
    "OCS253",
    "no-mac-profile",
    "info",
    fix="set process.apparmorProfile or process.selinuxLabel",
)
def no_mac_profile(ctx: LintContext) -> Iterator[Hit]:
    """Neither an AppArmor profile nor an SELinux label is set.

    A mandatory access control policy is the last line of defence when a
    capability or namespace misconfiguration slips through.
    """
    if (
        ctx.process
        and not ctx.process.get("apparmorProfile")
        and not ctx.process.get("selinuxLabel")
    ):
        yield Hit("/process", "no AppArmor profile or SELinux label")


@rule("OCR107", "rlimit-soft-above-hard", "error", fix="make soft less than or equal to hard")
def rlimit_soft_above_hard(ctx: LintContext) -> Iterator[Hit]:
    """An rlimit's soft value is above its hard value.

    setrlimit(2) fails with EINVAL when soft exceeds hard, so the process
    never starts.
    """
    for i, rl in enumerate(as_list(ctx.process.get("rlimits"))):
        rl = as_dict(rl)
        soft, hard = rl.get("soft"), rl.get("hard")
        if isinstance(soft, int) and isinstance(hard, int) and soft > hard:
            yield Hit(f"/process/rlimits/{i}/soft", f"{rl.get('type')}: soft {soft} > hard {hard}")


@rule("OCR124", "duplicate-rlimit", "error", fix="keep one entry per rlimit type")
def duplicate_rlimit(ctx: LintContext) -> Iterator[Hit]:
    """The same rlimit type is listed twice.

    The runtime-spec requires runtimes to reject duplicated rlimit types;
    some used to let the last one win silently.
    """
    seen: set[str] = set()
    for i, rl in enumerate(as_list(ctx.process.get("rlimits"))):
        kind = as_dict(rl).get("type")
        if isinstance(kind, str):
            if kind in seen:
                yield Hit(f"/process/rlimits/{i}/type", f"{kind} listed twice")
            seen.add(kind)


@rule("OCR120", "cwd-not-absolute", "error", fix='make process.cwd an absolute path such as "/"')
def cwd_not_absolute(ctx: LintContext) -> Iterator[Hit]:
    """process.cwd is not an absolute path.

    The runtime-spec requires an absolute cwd; runtimes reject a relative
    one or resolve it differently.
    """
    cwd = ctx.process.get("cwd")
    if isinstance(cwd, str) and not cwd.startswith("/"):
        yield Hit("/process/cwd", f"cwd {cwd!r} is not absolute")


@rule("OCR121", "args-empty", "error", fix="set process.args to the command and its arguments")
def args_empty(ctx: LintContext) -> Iterator[Hit]:
    """process.args is missing or empty.

    On Linux the runtime-spec requires at least one entry, used like execvp's
    file: without it there is nothing to execute.
    """
    if ctx.process and not as_list(ctx.process.get("args")) and "commandLine" not in ctx.process:
        yield Hit("/process/args" if "args" in ctx.process else "/process", "no command to run")


@rule("OCR122", "env-malformed", "warning", fix="write every env entry as NAME=value")
def env_malformed(ctx: LintContext) -> Iterator[Hit]:
    """A process.env entry has no '='.

    Entries must have the form NAME=value; other strings end up in the
    environment block as garbage that most programs ignore or misparse.
    """
    for i, entry in enumerate(as_list(ctx.process.get("env"))):
        if isinstance(entry, str) and "=" not in entry.lstrip("="):
            yield Hit(f"/process/env/{i}", f"env entry {env_entry(entry)!r} is not NAME=value")


@rule("OCR123", "oom-score-adj-range", "error", fix="use a value from -1000 to 1000")
def oom_score_adj_range(ctx: LintContext) -> Iterator[Hit]:
    """process.oomScoreAdj is outside -1000..1000.

    The kernel rejects values outside that range when the runtime writes
    /proc/self/oom_score_adj.
    """
    value = ctx.process.get("oomScoreAdj")
    if isinstance(value, int) and not -1000 <= value <= 1000:
        yield Hit("/process/oomScoreAdj", f"oomScoreAdj {value} is outside -1000..1000")
