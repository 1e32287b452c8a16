#!/usr/bin/env bash
# guest-init: systemd
# guest-timeout: 900
# dmp.service under a real systemd as PID 1: the package installed and a dmptab written before the boot,
# then the boot brings the devices up (before local-fs-pre.target, the daemon as the unit's main process,
# its status and watchdog, logs in the journal with their priorities); systemctl reload applies the
# dmptab; a daemon killed outright is restarted by systemd and takes its devices over under a mounted
# file system; systemctl restart with that file system mounted keeps it, and so does an upgrade (dpkg -i
# again); systemctl stop unloads, and start brings the same data back. (No udev runs in the guest, so
# fstab cannot wait for /dev/mapper devices here: the file system is mounted by hand.)
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

if [[ ${DMP_VM_PHASE:-} == preboot ]]; then
    # Before the boot, as an admin would: the package (which enables the unit), the devices it is to bring
    # up, and a file system in the file that backs one of them. Any failure here fails the suite.
    rm -f /var/lib/man-db/auto-update # man-db's trigger takes minutes under emulation
    # The host is a container whose policy-rc.d forbids starting services (exit 101); set aside for the
    # upgrade below, which checks both ways.
    mv /usr/sbin/policy-rc.d /usr/sbin/policy-rc.d.container 2>/dev/null || true
    dpkg -i "build/dmp_$(cat VERSION)_amd64.deb" >/dev/null
    mkdir -p /var/lib/dmp
    truncate -s 128M /var/lib/dmp/data.img
    mkfs.ext4 -q -F /var/lib/dmp/data.img
    printf 'data     /var/lib/dmp/data.img   cache=writeback\nscratch  memory                  size=16M,nodm\n' >/etc/dmp/dmptab
    exit 0
fi

[[ ${DMP_VM_PHASE:-} == booted ]] || { echo "service.sh runs under guest.sh --init systemd" >&2; exit 2; }
show() { systemctl show -P "$2" "$1"; }
# restarted_from PID: dmp.service is active again, with a main process other than PID.
restarted_from() {
    [[ $(systemctl is-active dmp) == active && $(show dmp MainPID) != "$1" && $(show dmp MainPID) != 0 ]]
}
no_io_errors() { ! dmesg | grep -E 'I/O error|EXT4-fs error|Buffer I/O'; }

# ---- the boot ----
is "systemd runs as PID 1" "$(cat /proc/1/comm)" systemd
is "dpkg -i enabled dmp.service" "$(systemctl is-enabled dmp)" enabled
is "the boot started it" "$(systemctl is-active dmp)" active
ok "... before local-fs-pre.target, as a provider of block devices" \
    test "$(show dmp ActiveEnterTimestampMonotonic)" -le "$(show local-fs-pre.target ActiveEnterTimestampMonotonic)"
is "systemd's main process is the daemon (READY=1 came with MAINPID)" "$(show dmp MainPID)" "$(cat /run/dmp/dmp.pid)"
is "its status names the devices" "$(show dmp StatusText)" "serving 2 devices: nbd0, nbd1"
ok "/dev/mapper/data is there" test -b /dev/mapper/data
ok "... and holds the file system made before the boot" fsck.ext4 -n /dev/mapper/data
journal() { journalctl -u dmp -o cat --no-pager "$@"; }
like "the daemon logs to the journal" "$(journal)" "loaded: nbd0 \(/var/lib/dmp/data.img\), nbd1 \(memory\)"
like "... at priority info" "$(journal -p info..info)" "loaded: nbd0"
fails "... not above it" eval "journal -p warning | grep -q 'loaded: nbd0'"
is "the unit's watchdog is 30 s" "$(show dmp WatchdogUSec)" 30s
watchdog=$(show dmp WatchdogTimestampMonotonic)
ok "... and the daemon keeps it fed" wait_for_long eval '(( $(show dmp WatchdogTimestampMonotonic) > watchdog ))'

# ---- a mounted file system, IO, reload ----
mkdir -p /mnt/data
ok "mounted" mount /dev/mapper/data /mnt/data
ok "16 MiB of random data" dd if=/dev/urandom of=/tmp/random bs=1M count=16 status=none
ok "... written to it, and synced" dd if=/tmp/random of=/mnt/data/before bs=1M conv=fsync status=none
echo "extra memory size=8M" >>/etc/dmp/dmptab
ok "systemctl reload dmp" systemctl reload dmp
ok "... made /dev/mapper/extra" test -b /dev/mapper/extra
is "... the status says so" "$(show dmp StatusText)" "serving 3 devices: nbd0, nbd1, nbd2"
like "... and so does the journal" "$(journal)" "extra: added: nbd2, memory, 8388608 bytes"
fails_saying "dmp restart is refused under systemd" "... naming systemctl restart" \
    "runs under systemd as dmp.service: restart it with 'systemctl restart dmp.service'" dmp restart

# ---- the daemon killed: systemd restarts it, and it takes the devices over ----
pid=$(show dmp MainPID)
dd if=/tmp/random of=/mnt/data/during bs=64k oflag=direct status=none &
writer=$!
ok "the daemon is killed outright while a writer writes" kill -KILL "$pid"
ok "... systemd starts a new one (Restart=on-failure)" wait_for_long restarted_from "$pid"
is "... once" "$(show dmp NRestarts)" 1
ok "... which took the devices over" eval "journal | grep -q '^took over: '"
ok "... and the writer finished without an error" wait "$writer"
is "... the status: the same three devices" "$(show dmp StatusText)" "serving 3 devices: nbd0, nbd1, nbd2"

# ---- systemctl restart with the file system mounted ----
pid=$(show dmp MainPID)
ok "systemctl restart dmp with the file system mounted" systemctl restart dmp
ok "... a new daemon serves" restarted_from "$pid"
ok "... and the file system goes on" dd if=/tmp/random of=/mnt/data/after bs=1M conv=fsync status=none
# ---- an upgrade: dpkg -i again, with the file system mounted and a writer writing ----
pid=$(show dmp MainPID)
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
ok "dpkg -i again where policy-rc.d forbids starting services" eval "dpkg -i build/dmp_$(cat VERSION)_amd64.deb >/dev/null"
is "... leaves the old daemon serving" "$(systemctl is-active dmp) $(show dmp MainPID)" "active $pid"
rm /usr/sbin/policy-rc.d
took_over=$(journal | grep -c '^took over: ')
dd if=/tmp/random of=/mnt/data/upgrade bs=64k oflag=direct status=none &
writer=$!
ok "dpkg -i the package again while a writer writes (postinst sees an upgrade)" eval "dpkg -i build/dmp_$(cat VERSION)_amd64.deb >/dev/null"
ok "... the new binary's daemon serves" restarted_from "$pid"
is "... having taken the devices over" "$(journal | grep -c '^took over: ')" "$((took_over + 1))"
is "... the same three devices" "$(show dmp StatusText)" "serving 3 devices: nbd0, nbd1, nbd2"
ok "... and the writer finished without an error" wait "$writer"
ok "unmounted" umount /mnt/data
ok "drop caches" sh -c 'echo 3 >/proc/sys/vm/drop_caches'
ok "mounted again" mount /dev/mapper/data /mnt/data
for file in before during after upgrade; do
    is "$file: read back as written" "$(md5sum </mnt/data/$file)" "$(md5sum </tmp/random)"
done
ok "unmounted" umount /mnt/data
ok "the file system is clean" fsck.ext4 -n -f /dev/mapper/data
ok "the kernel saw no IO error" no_io_errors

# ---- stop unloads; start brings the same data back ----
ok "systemctl stop dmp" systemctl stop dmp
is "... inactive, not failed" "$(systemctl is-active dmp)" inactive
fails "... no daemon" pgrep -x dmp
fails "... no /dev/mapper/data" test -e /dev/mapper/data
fails "... no run directory" test -e /run/dmp
ok "systemctl start dmp" systemctl start dmp
is "... serving the dmptab's three devices" "$(show dmp StatusText)" "serving 3 devices: nbd0, nbd1, nbd2"
ok "... the file system is there" mount /dev/mapper/data /mnt/data
is "... with its data" "$(md5sum </mnt/data/after)" "$(md5sum </tmp/random)"
ok "unmounted" umount /mnt/data
ok "systemctl stop dmp" systemctl stop dmp
done_testing
