"""Tests that run inside the systemd test host (tests/hosts/init-systemd.sh), not here.

tests/integration/test_systemd_guest.py boots the guest once, with systemd as
PID 1, and runs this directory there with OCITOOL_TESTHOST=systemd; anywhere
else these files are not collected (they would ask the host's system bus for
units, and this host has no systemd).
"""

from __future__ import annotations

import os

if os.environ.get("OCITOOL_TESTHOST") != "systemd":
    collect_ignore_glob = ["test_*.py"]
