"""The QEMU test host's pure parts: module order, vmlinux extraction, the command script."""

from __future__ import annotations

import lzma
import subprocess
from pathlib import Path

import pytest

from tests.hosts.image import ImageError, extract_vmlinux, module_load_order
from tests.hosts.qemu import HOST_TMP, command_script, guest_env

MODULES_DEP = """\
kernel/fs/overlayfs/overlay.ko:
kernel/fs/9p/9p.ko: kernel/net/9p/9pnet.ko kernel/fs/fscache/fscache.ko kernel/fs/netfs/netfs.ko
kernel/net/9p/9pnet.ko:
kernel/fs/fscache/fscache.ko: kernel/fs/netfs/netfs.ko
kernel/fs/netfs/netfs.ko:
kernel/net/9p/9pnet_virtio.ko: kernel/drivers/virtio/virtio.ko kernel/net/9p/9pnet.ko
kernel/drivers/virtio/virtio.ko:
"""


def test_modules_load_after_what_they_need_and_once() -> None:
    order = module_load_order(MODULES_DEP, ("9pnet_virtio", "9p", "overlay"))
    names = [Path(p).stem for p in order]
    assert sorted(names) == sorted(set(names))
    for module, needs in (
        ("9pnet_virtio", ("virtio", "9pnet")),
        ("9p", ("9pnet", "fscache", "netfs")),
        ("fscache", ("netfs",)),
    ):
        assert all(names.index(n) < names.index(module) for n in needs), names
    assert names[-1] == "overlay"


def test_a_module_the_package_lacks_is_an_error() -> None:
    with pytest.raises(ImageError, match="virtio_pci"):
        module_load_order(MODULES_DEP, ("virtio_pci",))


def test_vmlinux_is_the_xz_payload_that_is_an_elf() -> None:
    elf = b"\x7fELF" + bytes(range(256)) * 8
    decoy = lzma.compress(b"not a kernel", format=lzma.FORMAT_XZ)
    bzimage = b"MZ setup code" + decoy + b"\x00" * 7 + lzma.compress(elf, format=lzma.FORMAT_XZ)
    assert extract_vmlinux(bzimage + b"trailer") == elf
    with pytest.raises(ImageError):
        extract_vmlinux(b"MZ" + decoy)


def test_command_script_keeps_arguments_and_values_intact(tmp_path: Path) -> None:
    argv = ["sh", "-c", 'printf "%s|" "$@"; printf "%s" "$X"', "_", "a b", "$HOME", "it's"]
    script = command_script(argv, "/", {"X": "x'y $z"})
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout == "a b|$HOME|it's|x'y $z"


def test_a_checkout_under_tmp_is_bound_back_in_the_guest() -> None:
    """The guest's init hides the host's /tmp under a tmpfs (keeping it at HOST_TMP):
    a cwd there is bound back to its own path before the cd; other paths are not."""
    script = command_script(["true"], "/tmp/ci clone/main", {}).splitlines()
    assert script[1:4] == [
        "mkdir -p '/tmp/ci clone/main'",
        f"mount --bind '{HOST_TMP}/ci clone/main' '/tmp/ci clone/main'",
        "cd '/tmp/ci clone/main'",
    ]
    assert not any(
        "mount" in line for line in command_script(["true"], "/work/main", {}).splitlines()
    )


def test_guest_env_is_explicit_not_the_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRET_TOKEN", "hunter2")
    env = guest_env({"A": "1"})
    assert "SECRET_TOKEN" not in env and env["A"] == "1"
    assert "PYTHONDONTWRITEBYTECODE" not in env
