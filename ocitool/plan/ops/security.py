"""Security ops: capability sets, no_new_privs, LSM labels and the seccomp filter."""

from __future__ import annotations

from ocitool.plan.ops.base import Op, flags_text, quote
from ocitool.typecheck import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import ClassVar


class SetCapabilities(Op):
    """Set all five capability sets (bitmaps, bit n = capability n).

    The op comes after the uid change (setresuid with PR_SET_KEEPCAPS), where
    the kernel has kept the permitted set but cleared the effective one. To
    apply it: (1) when CAP_SETPCAP is not effective, capset(effective = the
    current permitted set) so the bounding set can be changed (PR_CAPBSET_DROP
    needs CAP_SETPCAP); (2) drop every bounding cap not in ``bounding``
    (caps already gone from the bounding set can be skipped, PR_CAPBSET_READ);
    (3) capset effective/permitted/inheritable; (4) clear and raise ``ambient``
    (the uid change cleared it; raising needs permitted+inheritable).
    """

    name: ClassVar[str] = "capabilities"

    bounding: int
    effective: int
    permitted: int
    inheritable: int
    ambient: int

    def text(self) -> str:
        return (
            f"capset(bounding=0x{self.bounding:x}, effective=0x{self.effective:x}, "
            f"permitted=0x{self.permitted:x}, inheritable=0x{self.inheritable:x}, "
            f"ambient=0x{self.ambient:x})"
        )


class NoNewPrivs(Op):
    name: ClassVar[str] = "no_new_privs"

    def text(self) -> str:
        return "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)"


class SessionKeyring(Op):
    """Join (or create) the container's own session keyring, as runc does by default.

    ``keyctl(KEYCTL_JOIN_SESSION_KEYRING, name)`` leaves the runtime's session
    keyring behind (no keys of the host's session leak in); the same name lets
    an ``exec`` join the container's ring. The ring is then made searchable
    (``search_perm``: by its uid, or by "other" in a user namespace).
    ``ocitool-runc --no-new-keyring`` drops this op from the plan.
    """

    name: ClassVar[str] = "session_keyring"

    keyring: str
    search_perm: int

    def text(self) -> str:
        return (
            f"ring = keyctl(KEYCTL_JOIN_SESSION_KEYRING, {quote(self.keyring)}); "
            f"keyctl(KEYCTL_SETPERM, ring, perm|{self.search_perm:#x})"
        )


class LsmExecLabel(Op):
    """Label the next execve with an LSM context (AppArmor profile / SELinux label)."""

    name: ClassVar[str] = "lsm_label"

    lsm: str  # "apparmor" or "selinux"
    label: str
    path: str
    value: str

    def text(self) -> str:
        return f"write({quote(self.path)}, {quote(self.value)})"


class SeccompLoad(Op):
    """Install the container's seccomp filter (the last op before execve).

    ``program`` is the classic BPF program as hex (seccomp_export_bpf layout,
    8 bytes per instruction), always compiled by lowering: the executor never
    sees a policy it would have to compile (or could skip).
    """

    name: ClassVar[str] = "seccomp_load"

    instructions: int
    flags: tuple[str, ...] = ()
    program: str
    listener_path: str | None = None
    listener_metadata: str | None = None  # sent to the listener with the state (runtime-spec)
    early: bool = False  # loaded before the credential change (see ocitool.lower.seccomp)

    def text(self) -> str:
        flags = flags_text(self.flags)
        listener = f" /* notify -> {self.listener_path} */" if self.listener_path else ""
        return (
            f"seccomp(SECCOMP_SET_MODE_FILTER, {flags}, "
            f"{{len={self.instructions}, filter=...}}){listener}"
        )
