"""Tests that run inside the cgroup v2 test host (tests/hosts), not on the host itself.

tests/integration/test_v2_guest.py boots the guest once and runs this directory
there with OCITOOL_TESTHOST=v2; anywhere else these files are not collected (they
would read and write the host's own /sys/fs/cgroup as if it were a v2 machine).
"""

from __future__ import annotations

import os

if os.environ.get("OCITOOL_TESTHOST") != "v2":
    collect_ignore_glob = ["test_*.py"]
