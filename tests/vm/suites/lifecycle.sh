#!/usr/bin/env bash
# The daemon's life beyond the walkthrough, on a real kernel: every kind of
# backing, data that reads back, failed loads that leave nothing behind,
# stopping by signal, and clean-up after a daemon that died.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

# nothing_loaded: no daemon, no mount, no run directory, every nbd device free.
nothing_loaded() {
    ! pgrep -x dmp >/dev/null && ! grep -q " /run/dmp/module " /proc/mounts && [[ ! -e /run/dmp ]] &&
        ! grep -qv '^0$' /sys/block/nbd*/size
}

# ---- a kernel without nbd: load fails cleanly ----
# Before anything loads nbd, a modprobe that cannot find it stands in for such a kernel.
# shellcheck disable=SC2016 # $1 is the generated script's own argument
printf '#!/bin/sh\necho "modprobe: FATAL: Module $1 not found" >&2\nexit 1\n' >/tmp/no-modprobe
chmod +x /tmp/no-modprobe
ok "nbd is not loaded yet" test ! -e /sys/module/nbd
ok "modprobe cannot find it" mount --bind /tmp/no-modprobe /usr/sbin/modprobe
fails_saying "load fails on a kernel without nbd" "... saying why in one line" "^dmp: the kernel has no nbd support: modprobe nbd failed \(modprobe: FATAL: Module nbd not found\)$" ./dmp load
ok "... and leaves nothing behind" nothing_loaded
ok "modprobe is back" umount /usr/sbin/modprobe

# ---- every kind of backing, one nbd device each ----
truncate -s 8M /tmp/disk.img
is "load zero, memory and a file: each gets the next nbd device" "$(./dmp load zero memory /tmp/disk.img --size 64M)" "nbd0: zero, 67108864 bytes
nbd1: memory, 67108864 bytes
nbd2: /tmp/disk.img, 8388608 bytes"
is "the run directory's device table lists them, with cache mode and sockets" "$(cat /run/dmp/devices)" \
    "$(printf 'nbd0\t67108864\tzero\t-\tnone\t2\nnbd1\t67108864\tmemory\t-\tnone\t2\nnbd2\t8388608\t/tmp/disk.img\t-\tnone\t2')"
is "nbd0 has the zero backing's size" "$(cat /sys/block/nbd0/size)" 131072
is "nbd2 has the file's size" "$(cat /sys/block/nbd2/size)" 16384
is "512-byte logical blocks" "$(cat /sys/block/nbd0/queue/logical_block_size)" 512

ok "4 MiB of random data written to the memory device" \
    dd if=/dev/urandom of=/tmp/random bs=1M count=4 status=none
ok "... through O_DIRECT" dd if=/tmp/random of=/dev/nbd1 bs=64k oflag=direct status=none
is "... reads back the same" "$(dd if=/dev/nbd1 bs=1M count=4 iflag=direct status=none | md5sum)" "$(md5sum </tmp/random)"
ok "the same data written to the file device" dd if=/tmp/random of=/dev/nbd2 bs=1M oflag=direct status=none
ok "writes to the zero device are dropped" dd if=/tmp/random of=/dev/nbd0 bs=1M oflag=direct status=none
is "... and it reads zeroes" "$(dd if=/dev/nbd0 bs=1M count=4 iflag=direct status=none | tr -d '\0' | wc -c)" 0
ok "a discard on the memory device" blkdiscard -o 0 -l 1048576 /dev/nbd1
is "... reads back zeroes" "$(dd if=/dev/nbd1 bs=1M count=1 iflag=direct status=none | tr -d '\0' | wc -c)" 0

writes=$(./dmp stat | sed -n 5p)
ok "sync and fsync on a device send flushes, which are answered" dd if=/tmp/random of=/dev/nbd2 bs=4k count=1 conv=fsync status=none
is "flushes are not writes in volumes" "$(./dmp stat | sed -n 5p)" " reqs: $((${writes#*: } + 1))"

ok "unload" ./dmp unload
is "the file holds what was written through nbd2" "$(head -c 4194304 /tmp/disk.img | md5sum)" "$(md5sum </tmp/random)"
ok "nothing is left loaded" nothing_loaded

# ---- loads that fail change nothing ----
fails_saying "a missing backing fails the load" "... naming it" "^dmp: open /tmp/absent.img: No such file or directory$" ./dmp load /tmp/absent.img
ok "... and leaves nothing behind" nothing_loaded
fails_saying "a bad second backing fails the load" "... naming it" "^dmp: /dev/null is not a regular file or a block device" ./dmp load memory /dev/null
ok "... and the first one was never attached" nothing_loaded
fails "a memory size the machine cannot map fails the load" ./dmp load --size 1P
ok "... and leaves nothing behind" nothing_loaded

# ---- stopping by signal, and after a crash ----
ok "load" ./dmp load
pid=$(cat /run/dmp/dmp.pid)
ok "SIGTERM stops the daemon" kill -TERM "$pid"
ok "... which detaches and cleans up" wait_for nothing_loaded

# (tests/vm/suites/survive.sh takes the daemon's death further: under load, with ext4, many times.)
ok "load, with IO held 3 s for a new daemon" ./dmp load --reattach-timeout 3s
pid=$(cat /run/dmp/dmp.pid)
ok "dmsetup create over nbd0" dmsetup create dmp1 --table "0 1024 linear /dev/nbd0 0"
ok "the daemon is killed outright" kill -KILL "$pid"
ok "... and is gone" wait_for eval "! kill -0 $pid 2>/dev/null"
like "stat says the daemon died, and what to do" "$(./dmp stat 2>&1 || true)" \
    "^dmp: the daemon \(pid $pid\) died without unloading; 'dmp load' takes its devices over, 'dmp unload --force' cleans up$"
start=$SECONDS
fails "IO on the orphaned device waits, then fails once the reattach timeout has passed" \
    dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=1 iflag=direct status=none
ok "... after about 3 s ($((SECONDS - start)) s)" test "$((SECONDS - start))" -ge 2
fails_saying "a load naming other backings than the dead daemon's" "... says so" \
    "^dmp: the daemon that died served memory, not zero: run 'dmp load' alone" ./dmp load zero
is "a bare load still takes the device over" "$(./dmp load)" "nbd0: re-attached (memory, 1073741824 bytes)"
ok "... and IO flows again" dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=1 iflag=direct status=none
ok "the daemon is killed outright again" kill -KILL "$(cat /run/dmp/dmp.pid)"
ok "dmsetup remove dmp1" dmsetup remove dmp1
ok "unload --force still cleans up a dead daemon" ./dmp unload --force
ok "nothing is left loaded" nothing_loaded
ok "and dmp loads afresh" ./dmp load
ok "unload" ./dmp unload

# ---- unprivileged users ----
ok "load" ./dmp load
is "anyone may read volumes" "$(setpriv --reuid=65534 --regid=65534 --clear-groups cat /run/dmp/module/stat/volumes | head -1)" "read:"
fails "only root may reset" setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'echo 1 > /run/dmp/module/stat/reset'
fails "only root may unload" setpriv --reuid=65534 --regid=65534 --clear-groups ./dmp unload
ok "unload --force of a healthy daemon" ./dmp unload --force
ok "nothing is left loaded" nothing_loaded

done_testing
