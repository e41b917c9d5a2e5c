#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian 12 machine (run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
# systemd: PID 1 of the systemd test guest (tests/hosts/init-systemd.sh boots it on
# this root); dbus: its system bus, and the fake-systemd tests' private bus. Installing
# them here starts neither.
if command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    busybox-static runc crun podman containerd libseccomp2 libseccomp-dev \
    iproute2 procps util-linux libcap2-bin strace ca-certificates python3 qemu-system-x86 \
    linux-libc-dev libc6-dev dbus systemd uidmap python3-venv python3-pip python3-cffi-backend >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test,dev]'
# The cgroup v2 test host (tests/hosts, docs/test-hosts.md): fetch Debian's kernel
# package into /var/cache/ocitool-testhost and build the initramfs, once.
if command -v apt-get >/dev/null 2>&1; then
  python3 tools/testhost build >/dev/null
fi
# The rootless tests (issue #13, tests/helpers/rootless_user.py) run as a real
# unprivileged user with subordinate id ranges, on an interpreter that user can run.
bash tools/rootless-user.sh
# pyenv (as on these machines) only puts newly installed scripts on PATH after a rehash.
if command -v pyenv >/dev/null 2>&1; then
  pyenv rehash || true
fi
