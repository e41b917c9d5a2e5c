"""seccomp NOTIFY: the listener fd and the container process state reach listenerPath."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.conftest import ocitool_exec

NOTIF = f"notif-{os.getpid()}"  # cgroup paths are host-wide: unique per run

pytestmark = pytest.mark.integration


def test_listener_fd_and_state_are_sent(
    bundle_factory: Callable[..., Path], state_root: Path, tmp_path: Path
) -> None:
    sock_path = str(tmp_path / "listener.sock")
    seccomp = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64"],
        "listenerPath": sock_path,
        "listenerMetadata": "agent=test-42",
        "syscalls": [{"names": ["mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
    }
    bundle = bundle_factory(["true"], linux={"seccomp": seccomp})
    got: dict[str, object] = {}
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(1)
    server.settimeout(30)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
            got["msg"] = json.loads(msg)
            got["fd_kind"] = os.readlink(f"/proc/self/fd/{fds[0]}")
            for fd in fds:
                os.close(fd)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        proc = ocitool_exec(bundle, state_root, "--id", NOTIF)
    finally:
        thread.join(timeout=30)
        server.close()
    assert proc.returncode == 0, proc.stderr
    msg = got["msg"]
    assert isinstance(msg, dict)
    assert msg["fds"] == ["seccompFd"]
    assert msg["metadata"] == "agent=test-42"  # linux.seccomp.listenerMetadata, passed through
    assert isinstance(msg["pid"], int) and msg["pid"] > 1  # the runtime's view of the pid
    assert msg["state"]["id"] == NOTIF
    assert msg["state"]["bundle"] == str(bundle)
    assert "seccomp" in str(got["fd_kind"])
