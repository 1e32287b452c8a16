#!/usr/bin/env bash
# Proves the VM harness against the real kernel with Debian's tools only:
# nbd and device-mapper work, and the block stat counters of both layers
# count a known write the way Documentation/block/stat.rst says.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"

sock=/tmp/harness.sock

stop_nbdkit() {
    kill "$nbdkit_pid" && wait "$nbdkit_pid"
}

ok "modprobe nbd nbds_max=4 max_part=0" modprobe nbd nbds_max=4 max_part=0
ok "/dev/nbd0 exists" test -b /dev/nbd0

# In the foreground, as a child, so that its exit status can be checked.
nbdkit -f -U "$sock" memory 64M &
nbdkit_pid=$!
ok "nbdkit listens on $sock" wait_for test -S "$sock"
ok "nbd-client attaches /dev/nbd0" nbd-client -unix "$sock" /dev/nbd0 -b 512
is "nbd0 has 64M in 512-byte sectors" "$(cat /sys/block/nbd0/size)" 131072

ok "dmsetup create t1" dmsetup create t1 --table "0 1024 linear /dev/nbd0 0"
ok "/dev/mapper/t1 exists" test -b /dev/mapper/t1
dm=dm-$(dmsetup info -c --noheadings -o minor t1 || true)
is "t1 is dm-0" "$dm" dm-0

ok "dd writes 7 x 4k to t1 with O_DIRECT" \
    dd if=/dev/urandom of=/dev/mapper/t1 bs=4k count=7 oflag=direct status=none
diag "nbd0/stat: $(cat /sys/block/nbd0/stat)"
diag "$dm/stat: $(cat "/sys/block/$dm/stat")"
is "$dm: 7 writes" "$(stat_field "$dm" 5)" 7
is "$dm: 56 write sectors" "$(stat_field "$dm" 7)" 56
is "$dm: no reads" "$(stat_field "$dm" 1)" 0
# O_DIRECT writes wait one by one: nothing to merge or split below dm.
is "nbd0: 7 writes" "$(stat_field nbd0 5)" 7
is "nbd0: 56 write sectors" "$(stat_field nbd0 7)" 56
is "nbd0: no write merges" "$(stat_field nbd0 6)" 0
# max_part=0: no partition scan read the device when it was attached.
is "nbd0: no reads" "$(stat_field nbd0 1)" 0
is "nbd0: no flushes" "$(stat_field nbd0 16)" 0

ok "dmsetup remove t1" dmsetup remove t1
fails "/dev/mapper/t1 is gone" test -e /dev/mapper/t1
ok "nbd-client -d /dev/nbd0" nbd-client -d /dev/nbd0
ok "nbd0 size drops to 0" wait_for grep -qx 0 /sys/block/nbd0/size
ok "nbdkit exits 0 on SIGTERM" stop_nbdkit
done_testing
