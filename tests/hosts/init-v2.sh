#!/bin/busybox sh
# Stage 2 for the cgroup v2 host: PID 1 on the overlaid host root. It mounts what a
# cgroup v2 distribution mounts (cgroup2 at /sys/fs/cgroup with every controller
# enabled for the children, mount options as systemd sets them, devpts, shm, mqueue, /run, bpffs), runs the one command
# the host left on the testhost-out share, writes its exit status there and powers
# off. The command runs in the foreground, so this shell's wait reaps the orphans
# (a detached container's init) that the kernel hands to PID 1 meanwhile.
# Busybox's shell runs its applets (mount, mkdir...) without exec: each exec of a
# dynamic binary costs a fifth of a second under TCG.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
# by its full path: until /proc is mounted, /proc/self/exe (where busybox finds
# itself) is the host's /proc seen over 9p
/bin/busybox mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=755 devtmpfs /dev
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o nosuid,noexec,gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue
mount -t tmpfs -o nosuid,nodev,mode=755 run /run
# the host's /tmp stays reachable under /run/host-tmp: a checkout there (CI may
# clone into /tmp) is bound back to its own path by the command script
mkdir -p /run/host-tmp
mount --bind /tmp /run/host-tmp
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp /tmp
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
mount -t bpf -o nosuid,nodev,noexec,mode=700 bpf /sys/fs/bpf
for ctrl in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$ctrl" > /sys/fs/cgroup/cgroup.subtree_control || echo "init: cannot enable $ctrl"
done
modules=
for word in $(cat /proc/cmdline); do
  case "$word" in testhost.modules=*) modules="${word#testhost.modules=}" ;; esac
done
if [ -n "$modules" ]; then
  release=$(uname -r)
  mkdir -p "/lib/modules/$release"
  mount --bind "$modules" "/lib/modules/$release"
fi
hostname testhost-v2
ifconfig lo up
out=/run/testhost
mkdir -p "$out"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 testhost-out "$out" || {
  echo "init: no testhost-out share"
  poweroff -f
}
/bin/sh "$out/cmd" >"$out/stdout" 2>"$out/stderr" </dev/null
echo "$?" >"$out/status"
sync
poweroff -f
