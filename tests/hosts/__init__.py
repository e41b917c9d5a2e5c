"""QEMU test hosts: a Debian kernel booted on the host's own root filesystem.

The integration tests run on a cgroup v1 "hybrid" machine; these guests give them a
pure cgroup v2 kernel (and later a systemd PID 1) without a second root filesystem:
the host's ``/`` is shared read-only over virtio-9p under a tmpfs overlay, so the
guest runs the same ocitool, runc and Python as the host. ``image`` builds and
caches the kernel and initramfs, ``qemu`` boots one command and carries its output
and exit status back. ``docs/test-hosts.md`` says how to use them.
"""
