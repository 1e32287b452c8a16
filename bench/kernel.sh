#!/usr/bin/env bash
# The kernel path, run in a qemu guest (bench/run.sh starts it with tests/vm/guest.sh): fio libaio
# with O_DIRECT on a dm-linear device over each contender, interleaved round by round:
#   dmp     dmp's own nbd device (dmp load memory)
#   nbdkit  nbdkit's memory plugin, attached with Debian's nbd-client
#   brd     the kernel's RAM disk, the ceiling: no userspace at all
# Every backing is 256 MiB, filled first. The guest is emulated (TCG): only ratios mean anything.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=SCRIPTDIR/lib.sh
source bench/lib.sh

size_mib=256
sectors=$((size_mib * 2048))
modprobe nbd max_part=0
modprobe brd rd_nr=1 rd_size=$((size_mib * 1024))

started=$EPOCHREALTIME
./dmp load memory --size "${size_mib}M" >/dev/null
result kernel load-ready dmp 1 "$(elapsed_ms "$started")" ms

nbdkit -f -U /tmp/nbdkit.sock memory "${size_mib}M" &
wait_for test -S /tmp/nbdkit.sock
nbd-client -unix /tmp/nbdkit.sock /dev/nbd1 -b 512 >/dev/null

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
nbd-client -d /dev/nbd1 >/dev/null
./dmp unload
