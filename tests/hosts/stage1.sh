#!/bin/busybox sh
# Stage 1, the initramfs's /init: mount the host's / (virtio-9p, read-only) under a
# tmpfs overlay and hand PID 1 to the init named by testhost.init= on the kernel
# command line. switch_root, not pivot_root: an initramfs root cannot be pivoted.
/bin/busybox mkdir -p /proc /sys /dev /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
for ko in $(cat /modules/load-order); do
  insmod "/modules/$ko" || echo "stage1: insmod $ko failed"
done
init=/sbin/init
for word in $(cat /proc/cmdline); do
  case "$word" in testhost.init=*) init="${word#testhost.init=}" ;; esac
done
mkdir -p /lower /rw /newroot
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /lower \
  || { echo "stage1: cannot mount the host root"; poweroff -f; }
mount -t tmpfs -o mode=755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /newroot \
  || { echo "stage1: cannot mount the overlay"; poweroff -f; }
umount /proc /dev
exec switch_root /newroot "$init"
