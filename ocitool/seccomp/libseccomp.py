"""libseccomp as an optional backend and as the test oracle: OCI seccomp -> BPF, runc's way.

Mirrors runc's libcontainer/seccomp: the native arch is always in the filter, extra
arches are added before rules, rules whose action is the default are skipped, names
libseccomp cannot resolve are skipped, and several tests of one argument in one rule
become separate rules. pyseccomp is imported lazily (it is optional at run time).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ocitool.errors import SeccompError
from ocitool.seccomp.actions import action_value
from ocitool.seccomp.arch import arch_info, host_arch, normalize_arch

_OPS = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}
_BAD_NAME = -1  # __NR_SCMP_ERROR


@dataclass
class LibseccompResult:
    raw: bytes
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (rule, name, error)


def build(
    seccomp: Mapping[str, Any], arch: str | None = None, *, optimize: int | None = None
) -> LibseccompResult:
    """Build and export libseccomp's filter; rules libseccomp refuses are listed, not fatal.

    ``optimize=2`` selects libseccomp's binary-tree layout (SCMP_FLTATR_CTL_OPTIMIZE, what
    runc asks for); None keeps libseccomp's default linear layout (what crun uses).
    """
    try:
        import pyseccomp as ps
    except ImportError as exc:  # pragma: no cover - depends on the host
        raise SeccompError(
            "the libseccomp backend needs pyseccomp", code="OCI430", hint="pip install pyseccomp"
        ) from exc
    target = normalize_arch(arch) if arch else host_arch()
    dflt = action_value(seccomp["defaultAction"], seccomp.get("defaultErrnoRet"))
    f = ps.SyscallFilter(dflt)
    if optimize is not None:
        f.set_attr(ps.Attr.CTL_OPTIMIZE, optimize)
    native = host_arch()
    if target != native:
        f.remove_arch(ps.Arch.NATIVE)
        f.add_arch(arch_info(target).scmp_token)
    for name in seccomp.get("architectures") or []:
        tok = getattr(ps.Arch, str(name).removeprefix("SCMP_ARCH_"), None)
        if tok is None:
            tok = arch_info(name).scmp_token
        try:
            if not f.exist_arch(tok):
                f.add_arch(tok)
        except OSError:  # e.g. a big-endian arch next to a little-endian one (EDOM)
            continue
    rejected: list[tuple[int, str, str]] = []
    for i, sc in enumerate(seccomp.get("syscalls") or []):
        ret = action_value(sc["action"], sc.get("errnoRet"))
        if ret == dflt:
            continue
        conds = [
            ps.Arg(a["index"], _OPS[a["op"]], a.get("value", 0), a.get("valueTwo", 0))
            for a in sc.get("args") or []
        ]
        idx = [a["index"] for a in sc.get("args") or []]
        groups = [[c] for c in conds] if len(set(idx)) != len(idx) else [conds]
        for name in sc.get("names") or [sc.get("name")]:
            nr = ps.resolve_syscall(ps.Arch.NATIVE, name)
            if nr == _BAD_NAME:
                continue
            for g in groups:
                try:
                    f.add_rule(ret, nr, *g)
                except OSError as exc:
                    rejected.append((i, name, exc.strerror or str(exc)))
    r, w = os.pipe()
    try:
        with os.fdopen(w, "wb", closefd=True) as wf:
            f.export_bpf(wf)
        chunks = []
        while True:
            b = os.read(r, 65536)
            if not b:
                break
            chunks.append(b)
    finally:
        os.close(r)
    return LibseccompResult(b"".join(chunks), rejected)
