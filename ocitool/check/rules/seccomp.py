"""A seccomp profile that stops the container before its program runs.

The filter is loaded just before ``execve`` (or, for ``noNewPrivileges:
false`` without CAP_SYS_ADMIN, before the credential change): every call
the runtime still makes after the load must pass it. A profile that denies
``execve`` makes the container fail with EPERM (or be killed) with nothing
pointing at the profile. The check runs the compiled program of the plan's
``seccomp_load`` op in ocitool's own BPF emulator for each of those calls.
"""

from __future__ import annotations

from collections.abc import Iterator

from ocitool.check.context import CheckContext
from ocitool.check.registry import Finding, check
from ocitool.plan.ops.security import SeccompLoad

# the calls the executor makes between the filter load and the new program
_LAST_STEPS: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("rt_sigaction", ()),
    ("rt_sigprocmask", ()),
    ("execve", ()),
)
# what each op between an early load and execve calls (name -> (syscall, args))
_OP_CALLS: dict[str, tuple[tuple[str, tuple[int, ...]], ...]] = {
    "setgroups": (("setgroups", ()),),
    "setresgid": (("setresgid", ()),),
    "setresuid": (("setresuid", ()),),
    "keep_caps": (("prctl", (8,)),),  # PR_SET_KEEPCAPS
    "capabilities": (("capset", ()), ("prctl", (24,))),  # PR_CAPBSET_DROP
    "no_new_privs": (("prctl", (38,)),),  # PR_SET_NO_NEW_PRIVS
    "umask": (("umask", ()),),
    "chdir": (("chdir", ()),),
}
_PASSES = frozenset({"ALLOW", "LOG", "USER_NOTIF"})


def _verdicts(
    ctx: CheckContext, program: bytes, calls: tuple[tuple[str, tuple[int, ...]], ...]
) -> Iterator[tuple[str, str]]:
    from ocitool.seccomp.emulator import emulate
    from ocitool.seccomp.tables import syscall_number

    for name, args in calls:
        nr = syscall_number(ctx.host.arch, name)
        if nr is None:
            continue
        result = emulate(program, ctx.host.arch, nr, args)
        if result.action not in _PASSES:
            how = f"ERRNO({result.errno})" if result.action == "ERRNO" else result.action
            yield name, how


@check(
    "OCH401",
    "seccomp-blocks-start",
    "error",
    fix="allow the call in the seccomp profile (execve and the other calls named), or set "
    "noNewPrivileges: true so the filter is loaded after the setup calls",
)
def seccomp_blocks_start(ctx: CheckContext) -> Iterator[Finding]:
    """The seccomp profile denies a call the container must make to start at all.

    After the filter is loaded the init still calls execve for the user's
    program (and, with an early load, setresuid, capset and prctl). A denial
    there fails the start with EPERM, or kills the init with SIGSYS, and no
    message says the profile did it.
    """
    found = next(iter(ctx.each(SeccompLoad)), None)
    if found is None or found[1].program is None or ctx.host.arch not in _arches():
        return
    index, op = found
    program = bytes.fromhex(found[1].program)
    pointer = op.source or "/linux/seccomp"
    for k in range(index + 1, len(ctx.ops)):
        later = ctx.ops[k]
        if later.phase.value != "exec":
            continue
        calls = _LAST_STEPS if later.name == "execve" else _OP_CALLS.get(later.name, ())
        for name, how in _verdicts(ctx, program, calls):
            yield Finding(
                pointer,
                f"the profile's verdict for {name} is {how}: the container cannot start "
                f"(op #{k} {later.name} needs it)",
                k,
            )
        if later.name == "execve":
            return


def _arches() -> tuple[str, ...]:
    from ocitool.seccomp.tables import ARCHES

    return ARCHES
