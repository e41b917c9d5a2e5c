#!/bin/busybox sh
# Stage 2 for the systemd host: prepare the overlaid host root for systemd, then
# exec it as PID 1. systemd boots to testhost.target, whose one service mounts the
# testhost-out share, runs the command the host left there, writes its exit status
# and powers off. Everything written here lands in the guest's tmpfs overlay.
#
# - /.dockerenv (the host is a container) makes systemd believe it runs in one:
#   it then ignores the kernel command line and skips what a container has no
#   right to do. The guest is a machine, so the file goes.
# - systemd mounts its own tmpfs on /run, so the units live in /etc.
# - An empty /etc/fstab: the host's names no device the guest has.
# - Units with nothing to do in this guest are masked; systemd-tmpfiles-setup
#   above all (it empties /tmp and crawls the whole 9p root for minutes).
# - systemd boots to testhost.target (--unit, not default.target, whose .wants
#   hold the host's own services): sysinit and sockets (journald, dbus), not
#   basic.target's timers and paths, nor multi-user's services (the host's
#   containerd, podman, getty...).
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
/bin/busybox mount -t proc -o nosuid,nodev,noexec proc /proc
rm -f /.dockerenv /run/.containerenv
: >/etc/fstab
units=/etc/systemd/system
mkdir -p "$units"
for unit in \
  systemd-tmpfiles-setup.service systemd-tmpfiles-clean.timer systemd-tmpfiles-clean.service \
  systemd-timesyncd.service systemd-pstore.service systemd-journal-flush.service \
  systemd-random-seed.service systemd-update-utmp.service systemd-binfmt.service \
  proc-sys-fs-binfmt_misc.automount systemd-firstboot.service systemd-machine-id-commit.service \
  systemd-repart.service systemd-pcrphase.service systemd-pcrphase-sysinit.service \
  systemd-sysusers.service ldconfig.service systemd-hwdb-update.service \
  systemd-journal-catalog-update.service systemd-update-done.service \
  sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount \
  sys-fs-fuse-connections.mount systemd-udevd.service systemd-udev-trigger.service \
  systemd-udev-settle.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
  systemd-remount-fs.service systemd-fsck-root.service systemd-ask-password-console.path \
  systemd-modules-load.service cryptsetup.target veritysetup.target integritysetup.target \
  podman.socket apparmor.service; do
  ln -sf /dev/null "$units/$unit"
done
cat >"$units/testhost.target" <<'EOF'
[Unit]
Description=ocitool test host: run the command and power off
Requires=sysinit.target sockets.target testhost.service
After=sysinit.target sockets.target testhost.service
AllowIsolate=yes
EOF
cat >"$units/testhost.service" <<'EOF'
[Unit]
Description=ocitool test host command
Wants=dbus.service
After=sysinit.target sockets.target dbus.service
DefaultDependencies=no

[Service]
Type=simple
ExecStart=/bin/busybox sh /etc/testhost/run.sh
EOF
mkdir -p /etc/testhost
cat >/etc/testhost/run.sh <<'EOF'
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
out=/run/testhost
mkdir -p "$out" /run/host-tmp
# as in init-v2.sh: the host's /tmp stays reachable, the guest's /tmp is fresh.
# systemd made / shared, so the bind is made private first: otherwise the tmpfs
# mounted on /tmp next propagates to its peer /run/host-tmp and hides the host's.
mount --bind /tmp /run/host-tmp
mount --make-private /run/host-tmp
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp /tmp
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 testhost-out "$out" || {
  echo "testhost: no testhost-out share" >/dev/console
  poweroff -f
}
# the command talks to systemd over the system bus: wait until systemd holds its name
n=0
until busctl --system status org.freedesktop.systemd1 >/dev/null 2>&1 || [ "$n" -ge 300 ]; do
  n=$((n + 1))
  sleep 0.1
done
cat /proc/uptime >"$out/ready-uptime"
/bin/sh "$out/cmd" >"$out/stdout" 2>"$out/stderr" </dev/null
echo "$?" >"$out/status"
sync
poweroff -f
EOF
umount /proc
exec /lib/systemd/systemd --unit=testhost.target
