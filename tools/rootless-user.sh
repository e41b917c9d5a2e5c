#!/usr/bin/env bash
# The unprivileged user of the rootless tests (issue #13), made ready as a distribution's
# `adduser` + login would leave it. Run as root by tools/install-test-deps.sh; idempotent.
#
# - user `ocirootless` with a home and /etc/subuid, /etc/subgid ranges of 65536 ids
#   (newuidmap/newgidmap from `uidmap` grant only what these files list);
# - /opt/ocitool-rootless: a venv of Debian's /usr/bin/python3 with ocitool's runtime
#   dependencies (from pyproject.toml) and not ocitool itself. WHY: the default python3 on
#   these machines is pyenv's under /root, which no other user can even traverse. The tests
#   copy the tree under test next to a venv that reuses these packages
#   (tests/helpers/rootless_user.py), so the user always runs the code under test.
# The name and the venv's path are also in tests/helpers/rootless_user.py: keep them in step.
set -euo pipefail
cd "$(dirname "$0")/.."
USER_NAME=ocirootless
VENV=/opt/ocitool-rootless
RANGE=65536

if ! id -u "$USER_NAME" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh --user-group "$USER_NAME"
fi
# useradd allocates ranges itself where login.defs asks for it; otherwise take the first
# start above every range already granted (to anyone) in each file.
for kind in uid gid; do
  file=/etc/sub$kind
  touch "$file"
  if ! grep -q "^$USER_NAME:" "$file"; then
    start=$(awk -F: -v min=100000 '{ end = $2 + $3; if (end > min) min = end } END { print min }' "$file")
    usermod "--add-sub${kind}s" "$start-$((start + RANGE - 1))" "$USER_NAME"
  fi
done

# Debian's python3, never pyenv's: the user must be able to run it.
if [ ! -x "$VENV/bin/python3" ]; then
  /usr/bin/python3 -m venv "$VENV"
fi
/usr/bin/python3 -c '
import sys, tomllib
with open("pyproject.toml", "rb") as f:
    print("\n".join(tomllib.load(f)["project"]["dependencies"]))
' >"$VENV/requirements.txt"
"$VENV/bin/python3" -m pip install -q --disable-pip-version-check -r "$VENV/requirements.txt"
# Readable by everyone (the venv's files are made with root's umask).
chmod -R go+rX "$VENV"
