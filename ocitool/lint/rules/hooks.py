"""Hook rules: hooks run on the host with the runtime's privileges, so they must be exact."""

from __future__ import annotations

from collections.abc import Iterator

from ocitool.lint.context import LintContext, as_dict, as_list
from ocitool.lint.registry import Hit, rule
from ocitool.spec.facts import HOOK_KINDS


def _hooks(ctx: LintContext) -> Iterator[tuple[str, dict]]:
    hooks = as_dict(ctx.data.get("hooks"))
    for kind in HOOK_KINDS:
        for i, hook in enumerate(as_list(hooks.get(kind))):
            yield f"/hooks/{kind}/{i}", as_dict(hook)


@rule("OCR110", "relative-hook-path", "error", fix="give the hook's absolute path")
def relative_hook_path(ctx: LintContext) -> Iterator[Hit]:
    """A hook's path is not absolute.

    The runtime-spec requires an absolute path; a relative one is resolved
    against the runtime's working directory (or $PATH) and can run a
    different binary than intended, as root on the host.
    """
    for pointer, hook in _hooks(ctx):
        path = hook.get("path")
        if isinstance(path, str) and not path.startswith("/"):
            yield Hit(f"{pointer}/path", f"hook path {path!r} is not absolute")


@rule(
    "OCR128",
    "hook-timeout-not-positive",
    "error",
    fix="use a timeout greater than zero, or omit it",
)
def hook_timeout(ctx: LintContext) -> Iterator[Hit]:
    """A hook's timeout is zero or negative.

    The runtime-spec requires timeout > 0 when it is given.
    """
    for pointer, hook in _hooks(ctx):
        timeout = hook.get("timeout")
        if isinstance(timeout, int) and timeout <= 0:
            yield Hit(f"{pointer}/timeout", f"hook timeout {timeout} is not positive")


@rule(
    "OCP313",
    "deprecated-prestart-hook",
    "info",
    fix="move prestart hooks to createRuntime",
)
def deprecated_prestart(ctx: LintContext) -> Iterator[Hit]:
    """prestart hooks are used.

    The runtime-spec deprecates prestart in favour of createRuntime; newer
    runtimes may drop it.
    """
    if as_list(as_dict(ctx.data.get("hooks")).get("prestart")):
        yield Hit("/hooks/prestart", "prestart is deprecated")
