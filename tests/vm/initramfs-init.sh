#!/bin/sh
# shellcheck shell=dash
# PID 1 of the guest, run by busybox from the initramfs that guest.sh builds.
# It puts the host's / (9p, read-only) under a tmpfs overlay, runs the job
# that guest.sh left in the "job" share inside a chroot of it, writes the
# job's exit status back to that share, and powers off.
# The share is mounted cache=none, so each write reaches the host file
# before write() returns: once "status" exists, all output is there too.
export PATH=/bin
/bin/busybox --install -s /bin

mount -t devtmpfs devtmpfs /dev
# The kernel found no /dev/console in the initramfs; messages from here go
# to the console log on the host.
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

fail() {
    echo "dmp-vm init: $*"
    poweroff -f
}

# Named NN-module.ko in dependency order when the initramfs was built.
for ko in /modules/*.ko; do
    insmod "$ko" || fail "insmod $ko failed"
done

mount -t 9p -o trans=virtio,version=9p2000.L,cache=none job /job ||
    fail "cannot mount the job share"
# Sets KVER, KMODDIR (the host path of its module tree) and KEEP.
# shellcheck source=/dev/null
. /job/boot.conf

# cache=loose: the host's files do not change under a test run, and the
# guest page cache makes repeated program starts much cheaper.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 host /host ||
    fail "cannot mount the host's root"
mount -t tmpfs -o mode=755 tmpfs /ovl
mkdir /ovl/upper /ovl/work
R=/newroot
mount -t overlay -o lowerdir=/host,upperdir=/ovl/upper,workdir=/ovl/work overlay $R ||
    fail "cannot mount the overlay"

# KEEP lists paths under /tmp or /run (the caller's cwd, the script...) that
# the fresh tmpfs mounted there below would hide: set them aside first.
i=0
for p in $KEEP; do
    if [ -d "$R$p" ]; then mkdir /keep$i; else touch /keep$i; fi
    mount -o bind "$R$p" /keep$i
    i=$((i + 1))
done

mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
# What udev or systemd would make; scripts use /dev/stdout and <(...).
ln -sfn /proc/self/fd $R/dev/fd
ln -sfn /proc/self/fd/0 $R/dev/stdin
ln -sfn /proc/self/fd/1 $R/dev/stdout
ln -sfn /proc/self/fd/2 $R/dev/stderr
mount -t tmpfs -o mode=755 tmpfs $R/run
mount -t tmpfs -o mode=1777 tmpfs $R/tmp

i=0
for p in $KEEP; do
    if [ -d /keep$i ]; then mkdir -p "$R$p"; else touch "$R$p"; fi
    mount -o move /keep$i "$R$p"
    i=$((i + 1))
done

# Debian 12's /lib is a symlink to usr/lib: a real /lib in the overlay would
# hide every shared library.
mkdir -p $R/usr/lib/modules
ln -sfn "$KMODDIR" "$R/usr/lib/modules/$KVER"
# The kernel loads modules on demand (dm-mod when /dev/mapper/control is
# opened, say) by running kernel.modprobe in this initramfs, not in the
# chroot: send it to the chroot's modprobe.
printf '#!/bin/sh\nexec chroot %s /sbin/modprobe "$@"\n' $R >/bin/chroot-modprobe
chmod 755 /bin/chroot-modprobe
echo /bin/chroot-modprobe >/proc/sys/kernel/modprobe
hostname dmp-vm
ip link set lo up
cp /job/job.sh $R/run/dmp-vm-job.sh

# The job's environment, whoever runs it (no value holds a blank).
JOB_ENV="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
HOME=/root USER=root LOGNAME=root SHELL=/bin/bash HOSTNAME=dmp-vm
TERM=dumb LANG=C.UTF-8 DM_DISABLE_UDEV=1 DMP_VM=1"

# run_job [NAME=VALUE...]: the job in the chroot, its output appended to the share's; returns its status.
run_job() {
    # shellcheck disable=SC2086 # JOB_ENV is words
    chroot $R /usr/bin/env -i $JOB_ENV "$@" /bin/bash /run/dmp-vm-job.sh </dev/null >>/job/output 2>&1
}

report() {
    echo "$1" >/job/status.new
    mv /job/status.new /job/status
    poweroff -f
}

if [ "${INIT:-}" != systemd ]; then
    run_job
    report $?
fi

# INIT=systemd: the job runs twice. First here, as DMP_VM_PHASE=preboot, to install and enable what the
# boot is to start; then systemd boots the chroot as PID 1, and runs it again as a unit of that boot
# (DMP_VM_PHASE=booted), whose end reports its status and powers off. The boot stops at basic.target and
# the job, so that the host's own services (databases, timers) are not started.
run_job DMP_VM_PHASE=preboot || report $?
units=$R/etc/systemd/system
mkdir -p $units
cat >$units/dmp-vm.target <<UNIT
[Unit]
Description=dmp-vm: the job, once the system is up to basic.target
Requires=basic.target
After=basic.target
Wants=dmp-vm-job.service
UNIT
cat >$units/dmp-vm-job.service <<UNIT
[Unit]
Description=dmp-vm: the job
After=basic.target

[Service]
Type=oneshot
TimeoutStartSec=infinity
Environment=$(echo $JOB_ENV) DMP_VM_PHASE=booted
StandardInput=null
StandardOutput=append:/job/output
StandardError=inherit
ExecStart=/bin/bash /run/dmp-vm-job.sh
ExecStopPost=/bin/sh -c 'echo "\$\$EXIT_STATUS" >/job/status.new && mv /job/status.new /job/status; systemctl poweroff --force --force'
UNIT
mkdir -p $R/job
mount -o move /job $R/job || fail "cannot move the job share into the new root"
# The new root is the chroot: modules load with its own modprobe (the initramfs, and chroot-modprobe, go).
echo /sbin/modprobe >/proc/sys/kernel/modprobe
exec switch_root $R /lib/systemd/systemd --unit=dmp-vm.target --show-status=false
