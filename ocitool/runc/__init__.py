"""``ocitool-runc``: the runc-compatible command line over ocitool's executor.

Engines (podman through conmon, containerd's runc shim, the runtime-tools
suite) speak runc's command line and match runc's error wording; this
package translates that command line to :mod:`ocitool.exec.lifecycle` and
friends. Hot path rule: create/start/run/exec import neither argparse,
jsonschema, rich nor lark.
"""
