"""Build and cache the guest's kernel, modules and initramfs.

The kernel is Debian's ``linux-image-amd64`` (the ``cloud`` flavour lacks 9p),
fetched with ``apt-get download`` and unpacked with ``dpkg-deb -x``: it is never
installed as the host's kernel. QEMU boots the uncompressed ELF ``vmlinux`` (the xz
payload of ``vmlinuz``) through its PVH entry point, which skips the decompressor:
that is the slowest part of a boot under TCG. Everything lands in a cache directory
outside the repository, so only the first boot pays for the download.
"""

from __future__ import annotations

import fcntl
import hashlib
import lzma
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CACHE = Path("/var/cache/ocitool-testhost")
KERNEL_META_PACKAGE = "linux-image-amd64"
BUSYBOX = Path("/bin/busybox")
# What stage 1 needs to mount the host's root: the virtio PCI transport, 9p over
# virtio, and overlayfs (their dependencies are added from modules.dep).
STAGE1_MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")
XZ_MAGIC = b"\xfd7zXZ\x00"
ELF_MAGIC = b"\x7fELF"


class ImageError(RuntimeError):
    """The guest image cannot be built here (no apt, no busybox, no network...)."""


@dataclass(frozen=True)
class GuestKernel:
    """An unpacked kernel package: the bootable ELF and its module tree."""

    package: str
    release: str
    vmlinux: Path
    modules: Path  # .../lib/modules/<release>, with a modules.dep


@dataclass(frozen=True)
class GuestImage:
    """What QEMU boots: a kernel and the stage-1 initramfs that loads its modules."""

    kernel: GuestKernel
    initramfs: Path


def cache_dir() -> Path:
    return Path(os.environ.get("OCITOOL_TESTHOST_CACHE", str(DEFAULT_CACHE)))


def build_image(cache: Path | None = None) -> GuestImage:
    """The cached image, built first when missing (a download on the first call)."""
    cache = cache or cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / ".lock"):
        kernel = _kernel(cache, _kernel_package())
        return GuestImage(kernel, _initramfs(cache, kernel))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Serialise builders: two test sessions may start on a cold cache at once."""
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run(argv: list[str], cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError as exc:
        raise ImageError(f"{argv[0]} is not installed") from exc
    if proc.returncode != 0:
        raise ImageError(f"{' '.join(argv)} failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout


def _kernel_package() -> str:
    """The versioned package the meta package points at, e.g. linux-image-6.1.0-57-amd64."""
    for line in _run(["apt-cache", "depends", KERNEL_META_PACKAGE]).splitlines():
        word = line.strip()
        if word.startswith("Depends: linux-image-"):
            return word.split()[1]
    raise ImageError(f"apt-cache names no kernel behind {KERNEL_META_PACKAGE}")


def _kernel(cache: Path, package: str) -> GuestKernel:
    done = cache / package
    if not (done / "ready").exists():
        _unpack_kernel(cache, package)
    (release,) = os.listdir(done / "lib" / "modules")
    return GuestKernel(package, release, done / "vmlinux", done / "lib" / "modules" / release)


def _unpack_kernel(cache: Path, package: str) -> None:
    """Download, unpack, extract vmlinux, run depmod; then rename into place whole."""
    work = Path(tempfile.mkdtemp(prefix=f".{package}-", dir=cache))
    try:
        _run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", package], cwd=work)
        (deb,) = work.glob("*.deb")
        tree = work / "tree"
        _run(["dpkg-deb", "-x", str(deb), str(tree)])
        deb.unlink()
        (vmlinuz,) = (tree / "boot").glob("vmlinuz-*")
        (tree / "vmlinux").write_bytes(extract_vmlinux(vmlinuz.read_bytes()))
        (release,) = os.listdir(tree / "lib" / "modules")
        # the package ships no modules.dep (the postinst makes it); busybox's depmod
        # writes one into the unpacked tree, not into the host's /lib/modules
        _run([str(BUSYBOX), "depmod", "-b", str(tree), release])
        (tree / "ready").write_text(package + "\n")
        shutil.rmtree(cache / package, ignore_errors=True)
        tree.rename(cache / package)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def extract_vmlinux(vmlinuz: bytes) -> bytes:
    """The ELF kernel inside an xz-compressed bzImage (what scripts/extract-vmlinux does)."""
    start = vmlinuz.find(XZ_MAGIC)
    while start >= 0:
        try:
            elf = lzma.LZMADecompressor().decompress(vmlinuz[start:])
        except lzma.LZMAError:
            elf = b""
        if elf.startswith(ELF_MAGIC):
            return elf
        start = vmlinuz.find(XZ_MAGIC, start + 1)
    raise ImageError("no xz-compressed ELF kernel inside vmlinuz")


def module_load_order(modules_dep: str, wanted: tuple[str, ...]) -> list[str]:
    """Paths (relative to lib/modules/<release>) of ``wanted`` and their dependencies,
    each after everything it needs: the order insmod must follow."""
    deps: dict[str, list[str]] = {}
    by_name: dict[str, str] = {}
    for line in modules_dep.splitlines():
        path, _, needs = line.partition(":")
        deps[path] = needs.split()
        by_name[Path(path).name.removesuffix(".ko")] = path
    order: list[str] = []

    def visit(path: str) -> None:
        if path in order:
            return
        for need in deps.get(path, []):
            visit(need)
        order.append(path)

    for name in wanted:
        if name not in by_name:
            raise ImageError(f"module {name} is not in this kernel package")
        visit(by_name[name])
    return order


def _initramfs(cache: Path, kernel: GuestKernel) -> Path:
    """A busybox initramfs with stage1.sh as /init and the modules it loads."""
    if not BUSYBOX.exists():
        raise ImageError(f"{BUSYBOX} is missing (install busybox-static)")
    stage1 = (HERE / "stage1.sh").read_bytes()
    order = module_load_order((kernel.modules / "modules.dep").read_text(), STAGE1_MODULES)
    key = hashlib.sha256(stage1 + kernel.package.encode() + "\n".join(order).encode())
    target = cache / kernel.package / f"initramfs-{key.hexdigest()[:16]}.cpio"
    if target.exists():
        return target
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        root = Path(tmp) / "root"
        (root / "bin").mkdir(parents=True)
        (root / "modules").mkdir()
        shutil.copy(BUSYBOX, root / "bin" / "busybox")
        (root / "init").write_bytes(stage1)
        (root / "init").chmod(0o755)
        for rel in order:
            shutil.copy(kernel.modules / rel, root / "modules" / Path(rel).name)
        (root / "modules" / "load-order").write_text(
            "".join(Path(rel).name + "\n" for rel in order)
        )
        names = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
        archive = Path(tmp) / "initramfs.cpio"
        with open(archive, "wb") as out:
            subprocess.run(
                [str(BUSYBOX), "cpio", "-o", "-H", "newc"],
                cwd=root,
                input="\n".join(names).encode(),
                stdout=out,
                stderr=subprocess.DEVNULL,
                check=True,
            )
        archive.rename(target)
    return target
