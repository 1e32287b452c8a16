#!/usr/bin/env bash
# The kernel path, run in a qemu guest (bench/run.sh starts it with tests/vm/guest.sh): fio libaio
# with O_DIRECT. The guest is emulated (TCG): only ratios mean anything.
#
# Part "kernel", memory-speed backings: a dm-linear device over each contender, interleaved round
# by round, every backing 256 MiB (64 MiB in smoke mode, here and below) and filled first:
#   dmp     dmp's own nbd device (dmp load memory)
#   nbdkit  nbdkit's memory plugin, attached with Debian's nbd-client
#   brd     the kernel's RAM disk, the ceiling: no userspace at all
#
# Parts "kernel-brd" and "kernel-loop", real block devices of 256 MiB, filled first: a RAM disk (brd), and a loop device on a file in /tmp. The guest has no disk of its
# own: its root is the host's, over 9p and read-only, under a tmpfs overlay, so that a file in
# /var/tmp would be in guest memory too, through overlayfs; /tmp is a plain tmpfs. Over each device:
#   dmp        dmp create NAME --table "0 SECTORS dmp DEVICE" (its defaults: --cache none, one
#              connection per CPU, at most 4)
#   nbdkit     nbdkit's file plugin on the device (its defaults), attached with nbd-client with as
#              many connections as dmp's, a dm-linear device on top
#   dm-linear  dmsetup's linear target straight on the device: the in-kernel proxy
#   device     fio on the device itself: the ceiling
# dmp opens its device exclusively and dm-linear claims it, so each contender is set up just before
# its round's runs and taken down after them; the rounds interleave the contenders.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=SCRIPTDIR/lib.sh
source bench/lib.sh

size_mib=256
[[ -z $SMOKE ]] || size_mib=64
sectors=$((size_mib * 2048))
loop_file=/tmp/dmp-bench-loop.img
loop='' nbdkit_pid='' nbd=''

cleanup() {
    set +e
    local name
    for name in $(dmsetup ls 2>/dev/null | awk '$1 ~ /^bench-/ { print $1 }'); do
        if [[ $name == bench-dmp-* ]]; then ./dmp remove "$name"; else dmsetup remove "$name"; fi
    done
    [[ -z $nbd ]] || nbd-client -d "$nbd" >/dev/null
    if [[ -n $nbdkit_pid ]]; then kill "$nbdkit_pid" && wait "$nbdkit_pid"; fi
    ./dmp unload --force >/dev/null 2>&1
    [[ -z $loop ]] || losetup -d "$loop"
    rm -f "$loop_file" /tmp/nbdkit.sock
} 2>/dev/null
trap cleanup EXIT

modprobe nbd max_part=0
modprobe brd rd_nr=1 rd_size=$((size_mib * 1024))
modprobe loop

# ---- memory-speed backings ----
started=$EPOCHREALTIME
./dmp load memory --size "${size_mib}M" >/dev/null
result kernel load-ready dmp 1 "$(elapsed_ms "$started")" ms

nbdkit -f -U /tmp/nbdkit.sock memory "${size_mib}M" &
nbdkit_pid=$!
nbd_ready /tmp/nbdkit.sock
nbd=/dev/nbd1
nbd-client -unix /tmp/nbdkit.sock "$nbd" -b 512 >/dev/null

declare -A device=([dmp]=/dev/nbd0 [nbdkit]=/dev/nbd1 [brd]=/dev/ram0)
contenders=(dmp nbdkit brd)
for name in "${contenders[@]}"; do
    dmsetup create "bench-$name" --table "0 $sectors linear ${device[$name]} 0"
    fill --filename="/dev/mapper/bench-$name" --ioengine=libaio --direct=1
done

jobs=("randread 4k 32" "randwrite 4k 32" "randread 4k 1" "read 1M 8")
[[ -z $SMOKE ]] || jobs=("${jobs[@]:0:2}")
for job in "${jobs[@]}"; do
    read -r rw bs depth <<<"$job"
    for ((round = 1; round <= ROUNDS; round++)); do
        for name in "${contenders[@]}"; do
            rate=$(fio_rate "$rw" "$bs" "$depth" 1 --filename="/dev/mapper/bench-$name" --ioengine=libaio --direct=1)
            result kernel "$rw-$bs-qd$depth" "$name" "$round" "$rate" "$(unit_of "$bs")"
        done
    done
done

for name in "${contenders[@]}"; do
    dmsetup remove "bench-$name"
done
nbd-client -d "$nbd" >/dev/null
nbd=''
kill "$nbdkit_pid"
wait "$nbdkit_pid" || true
nbdkit_pid=''
./dmp unload

# ---- real block devices ----
# dmp's defaults, which nbd-client's connections match.
connections=$(nproc)
((connections <= 4)) || connections=4
./dmp load zero --size 1M >/dev/null # dmp create needs the daemon; this device is not measured

# free_nbd: the first nbd device with no server.
free_nbd() {
    local dev
    for dev in /sys/block/nbd*; do
        [[ -e $dev/pid ]] || { echo "/dev/${dev##*/}"; return; }
    done
    echo "bench: no free nbd device" >&2
    return 1
}

# set_up NAME DEVICE SECTORS: makes contender NAME's device over DEVICE and sets dev to it.
set_up() {
    local name=$1 over=$2 length=$3
    case $name in
    dmp)
        # Retried: the contender before may still be letting go of the device (a failed create
        # leaves nothing behind).
        wait_for ./dmp create bench-dmp-dev --table "0 $length dmp $over" >/dev/null
        dev=/dev/mapper/bench-dmp-dev
        ;;
    nbdkit)
        rm -f /tmp/nbdkit.sock
        nbdkit -f -U /tmp/nbdkit.sock file "$over" &
        nbdkit_pid=$!
        nbd_ready /tmp/nbdkit.sock
        nbd=$(free_nbd)
        nbd-client -unix /tmp/nbdkit.sock "$nbd" -b 512 -C "$connections" >/dev/null
        dmsetup create bench-nbdkit-dev --table "0 $length linear $nbd 0"
        dev=/dev/mapper/bench-nbdkit-dev
        ;;
    dm-linear)
        wait_for dmsetup create bench-linear-dev --table "0 $length linear $over 0"
        dev=/dev/mapper/bench-linear-dev
        ;;
    device) dev=$over ;;
    esac
}

take_down() {
    case $1 in
    dmp) ./dmp remove bench-dmp-dev ;;
    nbdkit)
        dmsetup remove bench-nbdkit-dev
        nbd-client -d "$nbd" >/dev/null
        nbd=''
        kill "$nbdkit_pid"
        wait "$nbdkit_pid" || true
        nbdkit_pid=''
        ;;
    dm-linear) dmsetup remove bench-linear-dev ;;
    esac
}

# device_part PART DEVICE JOB...: each job "RW BS DEPTH", contender by contender, round by round.
device_part() {
    local part=$1 over=$2 name round job rw bs depth rate length
    shift 2
    length=$(($(blockdev --getsz "$over")))
    for ((round = 1; round <= ROUNDS; round++)); do
        for name in dmp nbdkit dm-linear device; do
            set_up "$name" "$over" "$length"
            for job in "$@"; do
                read -r rw bs depth <<<"$job"
                rate=$(fio_rate "$rw" "$bs" "$depth" 1 --filename="$dev" --ioengine=libaio --direct=1) ||
                    { echo "bench: fio failed: $part $job on $name" >&2; return 1; }
                result "$part" "$rw-$bs-qd$depth" "$name" "$round" "$rate" "$(unit_of "$bs")"
            done
            take_down "$name"
        done
    done
}

device_jobs=("randread 4k 32" "randwrite 4k 32" "randread 4k 1" "read 1M 8")
brd_jobs=("${device_jobs[@]}") loop_jobs=("${device_jobs[@]}")
if [[ -n $SMOKE ]]; then
    # Each contender on a 4k and a 1M job somewhere; the guest's fio alone starts in some 1.5 s.
    brd_jobs=("randread 4k 32" "read 1M 8") loop_jobs=("randwrite 4k 32")
fi
# The RAM disk is the one the memory comparison used, of size_mib, and filled through bench-brd.
device_part kernel-brd /dev/ram0 "${brd_jobs[@]}"

truncate -s "${size_mib}M" "$loop_file"
loop=$(losetup -f --show "$loop_file")
fill --filename="$loop" --ioengine=libaio --direct=1
device_part kernel-loop "$loop" "${loop_jobs[@]}"
losetup -d "$loop"
loop=''
rm -f "$loop_file"
./dmp unload
