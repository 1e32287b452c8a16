#!/usr/bin/env bash
# Many dmp devices over different kinds of device, under concurrent fio load, checked
# against the kernel's counters; resets while idle; every bad `create` leaving no trace;
# attach and detach; and an unload that is refused until everything is removed.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

# state: what a failed command must leave unchanged.
state() {
    ./dmp status
    dmsetup ls
    head /sys/block/nbd*/size
}

# fio_load NAME...: concurrent random IO of mixed sizes on /dev/mapper/NAME..., one job each.
fio_load() {
    local jobs=() name
    for name in "$@"; do
        jobs+=(--name="$name" --filename="/dev/mapper/$name")
    done
    fio --ioengine=libaio --direct=1 --rw=randrw --bsrange=512-64k --iodepth=16 \
        --time_based --runtime=4 --output=/dev/null "${jobs[@]}"
}

ok "load" ./dmp load
ok "a dm-zero device" dmsetup create zero2 --table "0 131072 zero"
truncate -s 64M /tmp/file.img /tmp/loop.img
ok "a loop device" modprobe loop
loop=$(losetup -f --show /tmp/loop.img)
ok "dmp over dm-zero" ./dmp create dz --table "0 131072 dmp /dev/mapper/zero2"
ok "dmp over a file" ./dmp create df --table "0 131072 dmp /tmp/file.img"
ok "dmp over a loop device" ./dmp create dl --table "0 131072 dmp $loop"
row() { # row NBD SIZE BACKING IO DM: a status row of a device with the default cache and connections
    echo "$1 +$2 +$3 +none +$(nproc | awk '{ print ($1 > 4) ? 4 : $1 }') +$4 +$5"
}
# (The guest's /tmp is tmpfs: a file there is memory, and served inline.)
like "status lists each device with its backing, how it is served and the dm device on it" "$(./dmp status)" \
    "$(row nbd1 67108864 /dev/mapper/zero2 io_uring 'dz \(dm-1, not open\)').*$(row nbd2 67108864 /tmp/file.img inline 'df \(dm-2, not open\)').*$(row nbd3 67108864 "$loop" io_uring 'dl \(dm-3, not open\)')"

# ---- concurrent load, then the check ----
ok "fio on the three devices at once" fio_load dz df dl
ok "dmp check: every device correct" ./dmp check
for name in dz df dl; do
    is "dmp check $name" "$(./dmp check "$name" | tail -1)" correct
done
reads=$(./dmp stat | sed -n 2p)
like "the load was counted" "$reads" "reqs: [1-9][0-9]+"
ok "data written through dl is on the loop device" eval \
    "dd if=/dev/urandom of=/tmp/chunk bs=64k count=16 status=none && dd if=/tmp/chunk of=/dev/mapper/dl bs=64k seek=3 oflag=direct status=none"
is "... byte for byte" "$(dd if="$loop" bs=64k skip=3 count=16 iflag=direct status=none | md5sum)" "$(md5sum </tmp/chunk)"
ok "fio writes and verifies through df" fio --name=verify --filename=/dev/mapper/df --ioengine=libaio --direct=1 \
    --rw=randwrite --bs=4k --iodepth=16 --size=16M --verify=crc32c --output=/dev/null
ok "discards pass through" blkdiscard /dev/mapper/df
ok "and flushes: fio with an fsync every 4 writes" fio --name=sync --filename=/dev/mapper/dl --ioengine=psync \
    --rw=write --bs=4k --size=1M --fsync=4 --output=/dev/null
ok "dmp check: still correct" ./dmp check

# ---- a reset while idle, more load, still correct ----
ok "reset while idle" ./dmp reset
is "check after the reset" "$(./dmp check | tail -1)" correct
ok "more load" fio_load dz dl
ok "dmp check: correct across the reset" ./dmp check
ok "a device attached now" ./dmp attach memory --size 16M
ok "... mapped by hand" dmsetup create hand --table "0 1024 linear /dev/nbd4 0"
ok "... loaded" fio_load hand dz
ok "dmp check: correct for a device attached late" ./dmp check

# ---- bad creates change nothing ----
ok "a small free device" dmsetup create zero3 --table "0 1024 zero"
before=$(state)
bad_create() { # bad_create WHAT EXPECTED TABLE [NAME]
    fails_saying "$1 fails" "... saying $2" "^dmp: .*$2" ./dmp create "${4:-bad}" --table "$3"
    is "... and leaves no trace" "$(state)" "$before"
}
bad_create "a wrong target type" "unknown target type 'linear'" "0 1024 linear /dev/mapper/zero3 0"
bad_create "a wrong argument count" "invalid number of arguments" "0 1024 dmp /dev/mapper/zero3 extra"
bad_create "a device that does not exist" "device lookup failed" "0 1024 dmp /dev/mapper/nothing"
bad_create "a device already served" "device lookup failed.*busy" "0 1024 dmp /dev/mapper/zero2"
bad_create "LEN larger than the device" "2048 sectors do not fit on /dev/mapper/zero3 \(1024 sectors\)" "0 2048 dmp /dev/mapper/zero3"
bad_create "START other than 0" "must start at sector 0" "8 1016 dmp /dev/mapper/zero3"
bad_create "a NAME that exists" "device dz already exists" "0 1024 dmp /dev/mapper/zero3" dz
ok "zero3 is free again: device-mapper can map it" dmsetup create probe --table "0 1024 linear /dev/mapper/zero3 0"
ok "... and unmap it" dmsetup remove probe

# ---- remove and detach, and what holds them back ----
exec 3</dev/mapper/dz
fails_saying "remove of an open device fails" "... saying it is in use" "^dmp: device dz is in use$" ./dmp remove dz
exec 3<&-
fails_saying "remove of a device that is not dmp's fails" "... saying so" "^dmp: zero3 is not a dmp device" ./dmp remove zero3
fails_saying "detach of a held device fails" "... naming the holder" "^dmp: nbd4 is held by dm-4 \(hand\)$" ./dmp detach nbd4
ok "remove of a mapping made by hand" ./dmp remove hand
is "... leaves the device it attached by hand" "$(cat /sys/block/nbd4/size)" 32768
ok "detach" ./dmp detach nbd4
is "... disconnects it" "$(cat /sys/block/nbd4/size)" 0

# ---- unload is refused until nothing sits on dmp ----
fails "unload is refused" ./dmp unload
ok "... and dmp still works" ./dmp check
for name in dz df dl; do
    ok "remove $name" ./dmp remove "$name"
done
ok "unload" ./dmp unload
fails_saying "a create without dmp loaded fails" "... saying so" "^dmp: module dmp is not loaded$" ./dmp create late --table "0 1024 dmp /dev/mapper/zero3"
is "device-mapper holds only what was made by hand" "$(dmsetup ls | cut -f1 | sort | tr '\n' ' ')" "zero2 zero3 "
is "no nbd device is connected" "$(cat /sys/block/nbd*/size | sort -u)" 0
ok "the loop device detaches: nothing holds it" losetup -d "$loop"

# ---- after a crash, unload --force takes down what create made ----
ok "load" ./dmp load
ok "create over zero3" ./dmp create crashed --table "0 1024 dmp /dev/mapper/zero3"
ok "the daemon is killed outright" kill -KILL "$(cat /run/dmp/dmp.pid)"
ok "unload --force" ./dmp unload --force
fails "... removes the dm device create made" test -e /dev/mapper/crashed
is "... and device-mapper holds only what was made by hand" "$(dmsetup ls | cut -f1 | sort | tr '\n' ' ')" "zero2 zero3 "
is "... and no nbd device is connected" "$(cat /sys/block/nbd*/size | sort -u)" 0

done_testing
