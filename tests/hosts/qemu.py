"""Boot a guest, run one command in it, and bring its output and exit status back.

The guest's root is the host's ``/`` (virtio-9p, read-only, under a tmpfs overlay),
so a command names host paths: the repository, the Python interpreter, runc. A
second, writable 9p share (``testhost-out``, at ``GUEST_OUT`` inside) carries the
command in and its stdout, stderr, exit status and any result files out. One boot
runs one command; the guest powers off when it ends.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.hosts.image import HERE, GuestImage, build_image

GUEST_OUT = "/run/testhost"
V2_INIT = HERE / "init-v2.sh"
SYSTEMD_INIT = HERE / "init-systemd.sh"  # the same root with systemd as PID 1
MEMORY = "2G"
CPUS = 2
# 2 MiB pages reserved at boot, so hugetlb limits have pages to limit
HUGEPAGES = 16
QEMU = "qemu-system-x86_64"


@dataclass(frozen=True)
class GuestResult:
    """What came back. ``status`` is None when the guest never reported one."""

    status: int | None
    stdout: str
    stderr: str
    console: str
    seconds: float
    accel: str

    def describe(self) -> str:
        """A failure message: the status, then the tails of each stream."""
        parts = [f"guest status {self.status} after {self.seconds:.1f}s ({self.accel})"]
        for name, text in (("stdout", self.stdout), ("stderr", self.stderr)):
            if text.strip():
                parts.append(f"--- {name} ---\n{text[-6000:]}")
        if self.status is None:
            parts.append(f"--- console ---\n{self.console[-4000:]}")
        return "\n".join(parts)


def qemu_available() -> bool:
    return any(
        os.access(os.path.join(d, QEMU), os.X_OK) for d in os.environ.get("PATH", "").split(":")
    )


def kvm_usable() -> bool:
    """KVM only where the CPU virtualises for real (vmx/svm). A /dev/kvm without
    them is PVM (the host is itself a guest), where a stock kernel crawls: TCG
    is faster there. OCITOOL_TESTHOST_ACCEL=kvm|tcg overrides the guess."""
    forced = os.environ.get("OCITOOL_TESTHOST_ACCEL")
    if forced in ("kvm", "tcg"):
        return forced == "kvm"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            flags = next(
                (line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []
            )
    except OSError:
        return False
    return bool({"vmx", "svm"} & set(flags))


def accel_args() -> tuple[str, list[str]]:
    if kvm_usable():
        return "kvm", ["-accel", "kvm", "-cpu", "host"]
    return "tcg", ["-accel", "tcg,thread=multi,tb-size=256", "-cpu", "max"]


def kernel_cmdline(image: GuestImage, init: Path | str) -> str:
    return " ".join(
        [
            "console=ttyS0",
            "quiet",
            "panic=-1",
            # the boot's check of the 8254 timer through the IO-APIC fails when TCG runs on
            # a loaded host ("IO-APIC + timer doesn't work!", a panic); VMs skip it
            "no_timer_check",
            "cgroup_no_v1=all",
            f"hugepages={HUGEPAGES}",
            f"testhost.init={init}",
            f"testhost.modules={image.kernel.modules}",
        ]
    )


def qemu_argv(
    image: GuestImage, out: Path, init: Path | str, console: Path
) -> tuple[str, list[str]]:
    accel, accel_flags = accel_args()
    share = "security_model=passthrough,multidevs=remap"
    return accel, [
        QEMU,
        "-nodefaults",
        "-no-user-config",
        "-nographic",
        "-no-reboot",
        "-machine",
        "pc",
        *accel_flags,
        "-smp",
        str(CPUS),
        "-m",
        MEMORY,
        "-kernel",
        str(image.kernel.vmlinux),
        "-initrd",
        str(image.initramfs),
        "-append",
        kernel_cmdline(image, init),
        "-serial",
        f"file:{console}",
        "-fsdev",
        f"local,id=hostroot,path=/,readonly=on,{share}",
        "-device",
        "virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot",
        "-fsdev",
        f"local,id=out,path={out},{share}",
        "-device",
        "virtio-9p-pci,fsdev=out,mount_tag=testhost-out",
    ]


def guest_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A small, explicit environment: the host's is not copied in (it may hold
    secrets). The running interpreter's directory comes first on PATH, so
    ``python3`` is the interpreter itself, not a version-manager shim.

    PYTHONDONTWRITEBYTECODE is left unset on purpose: bytecode written in the
    guest lands in its tmpfs overlay (never on the host) and spares every later
    Python process of the boot from compiling the same modules again."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
    }
    if os.environ.get("CI"):
        env["CI"] = os.environ["CI"]
    env.update(extra or {})
    return env


# Where the guest's init keeps the host's /tmp before it mounts a fresh tmpfs there.
HOST_TMP = "/run/host-tmp"


def command_script(argv: Sequence[str], cwd: str, env: Mapping[str, str]) -> str:
    """The guest's command: a ``cwd`` under the host's /tmp (hidden in the guest by
    its own tmpfs) is bound back to the same path first, so a checkout there works."""
    lines = ["set -e"]
    if cwd == "/tmp" or cwd.startswith("/tmp/"):
        here = shlex.quote(cwd)
        lines += [f"mkdir -p {here}", f"mount --bind {shlex.quote(HOST_TMP + cwd[4:])} {here}"]
    lines.append(f"cd {shlex.quote(cwd)}")
    lines += [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    lines.append(f"exec {shlex.join(argv)}")
    return "\n".join(lines) + "\n"


def run_in_guest(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str] = "/",
    env: Mapping[str, str] | None = None,
    out: Path | None = None,
    init: Path | str = V2_INIT,
    timeout: float = 900,
    image: GuestImage | None = None,
) -> GuestResult:
    """Boot, run ``argv`` in ``cwd`` with ``guest_env(env)``, power off.

    ``out`` (a fresh temporary directory when None) is the guest's ``GUEST_OUT``:
    files the command writes there are on the host afterwards.
    """
    image = image or build_image()
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="testhost-"))
    out.mkdir(parents=True, exist_ok=True)
    for name in ("status", "stdout", "stderr"):
        (out / name).unlink(missing_ok=True)
    (out / "cmd").write_text(command_script(argv, os.fspath(cwd), guest_env(env)))
    console = out / "console.log"
    accel, qemu = qemu_argv(image, out, init, console)
    start = time.monotonic()
    try:
        proc = subprocess.run(qemu, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        qemu_said = proc.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        qemu_said = f"killed after {timeout:.0f}s\n"
    seconds = time.monotonic() - start

    def read(name: str) -> str:
        path = out / name
        return path.read_text(errors="replace") if path.exists() else ""

    status_text = read("status").strip()
    return GuestResult(
        status=int(status_text) if status_text.isdigit() else None,
        stdout=read("stdout"),
        stderr=read("stderr"),
        console=read("console.log") + ("\n--- qemu ---\n" + qemu_said if qemu_said else ""),
        seconds=seconds,
        accel=accel,
    )
