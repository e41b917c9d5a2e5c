"""Where container state lives when no ``--root`` is given: runc's rule, with our name.

* root (euid 0) in the initial user namespace: ``/run/ocitool``, whatever
  ``$XDG_RUNTIME_DIR`` says (root's ``/run/user/0`` is ignored, as by runc);
* otherwise, when ``$XDG_RUNTIME_DIR`` is set: ``$XDG_RUNTIME_DIR/ocitool``
  (an unprivileged user; or uid 0 inside a user namespace, unless ``$USER``
  is ``root``: runc's ``shouldHonorXDGRuntimeDir``). The directory is made
  with mode 0700 and gets the sticky bit, which the XDG base directory
  specification asks of files that must not be pruned;
* otherwise ``/run/ocitool`` (a rootless user then gets runc's EACCES, with a
  hint naming ``XDG_RUNTIME_DIR`` and ``--root``).

Locking and file modes inside the root are the StateStore's, the same for
every root.
"""

from __future__ import annotations

import os

SYSTEM_ROOT = "/run/ocitool"
XDG_MODE = 0o1700


def _in_user_namespace() -> bool:
    try:
        with open("/proc/self/uid_map", "rb") as fh:
            text = fh.read().decode()
    except OSError:
        return False
    from ocitool.rootless_host import in_user_namespace

    return in_user_namespace(text)


def honor_xdg_runtime_dir(euid: int, xdg: str | None, user: str | None) -> bool:
    """runc's shouldHonorXDGRuntimeDir, with the environment passed in."""
    if not xdg:
        return False
    if euid != 0:
        return True
    if not _in_user_namespace():
        return False
    return user != "root"


def default_root() -> tuple[str, bool]:
    """The state root without ``--root``, and whether it is the per-user XDG one."""
    xdg = os.getenv("XDG_RUNTIME_DIR")
    if xdg and honor_xdg_runtime_dir(os.geteuid(), xdg, os.getenv("USER")):
        return os.path.join(xdg, "ocitool"), True
    return SYSTEM_ROOT, False


def prepare_xdg_root(path: str) -> None:
    """Make the per-user root (mode 0700 + sticky bit), as runc does for its own."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chmod(path, XDG_MODE)
    except OSError as exc:
        from ocitool.exec.state import state_error

        raise state_error(
            message=f"mkdir {path}: {(exc.strerror or 'I/O error').lower()}",
            code="OCI620",
            path=path,
            hint="the directory in $XDG_RUNTIME_DIR must be writable by this user; "
            "or give a state directory with --root",
        ) from None


def resolve_root(given: str | None) -> str:
    """``--root`` if given (made absolute), else the default, prepared when per-user."""
    if given:
        return os.path.abspath(given)
    root, xdg = default_root()
    if xdg:
        prepare_xdg_root(root)
    return root
