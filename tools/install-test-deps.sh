#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian 12 machine (run as root).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    busybox-static runc crun podman containerd libseccomp2 libseccomp-dev \
    iproute2 procps util-linux libcap2-bin strace ca-certificates python3 qemu-system-x86 \
    linux-libc-dev libc6-dev dbus python3-cffi-backend >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test,dev]'
# The cgroup v2 test host (tests/hosts, docs/test-hosts.md): fetch Debian's kernel
# package into /var/cache/ocitool-testhost and build the initramfs, once.
if command -v apt-get >/dev/null 2>&1; then
  python3 tools/testhost build >/dev/null
fi
# pyenv (as on these machines) only puts newly installed scripts on PATH after a rehash.
if command -v pyenv >/dev/null 2>&1; then
  pyenv rehash || true
fi
