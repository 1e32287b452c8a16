#!/usr/bin/env bash
# Real backings on a real kernel: several sockets per nbd device, each with its own
# hardware queue, under a verified fio run; dmp over brd and over a loop device in both
# cache modes; and a daemon denied io_uring, which says so and serves on the thread pool.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

# verified_fio FILE [OPTION...]: random writes of mixed sizes over FILE, every block read
# back and checked, one job per CPU, each on its own CPU.
verified_fio() {
    local file=$1
    shift
    fio --name=verify --filename="$file" --ioengine=libaio --direct=1 --rw=randwrite --bsrange=4k-64k \
        --iodepth=16 --size=16M --numjobs=2 --offset_increment=16M --cpus_allowed=0-1 --cpus_allowed_policy=split \
        --verify=crc32c --verify_fatal=1 --output=/dev/null "$@"
}

# switches NBD: how many times each socket's receiving thread in the daemon ("nbd0 receiver",
# "nbd0.1 receiver") has been switched out, so far. (Linux 6.1's debugfs shows only the first
# hardware queue of a device that has several, so the daemon's side is what shows both at work.)
switches() {
    local name task
    for name in "$1" "$1.1"; do
        for task in /proc/"$(cat /run/dmp/dmp.pid)"/task/*; do
            [[ $(cat "$task/comm" 2>/dev/null) != "$name receiver" ]] || awk '/ctxt_switches/ { n += $2 } END { print n }' "$task/status"
        done
    done | paste -s -d ' '
}

# A file dmp serves on io_uring: the guest's /tmp is tmpfs, whose files dmp serves inline as memory;
# /var/tmp is an overlay (over the host's root), which dmp takes for a disk.
file=/var/tmp/dmp-backings-$$.img
trap 'rm -f "$file"' EXIT

# ---- two sockets per device ----
truncate -s 64M "$file" /tmp/file.img
is "load with two connections" "$(./dmp load memory "$file" /tmp/file.img --size 64M --connections 2)" "nbd0: memory, 67108864 bytes
nbd1: $file, 67108864 bytes
nbd2: /tmp/file.img, 67108864 bytes"
is "the kernel gives nbd0 a hardware queue per socket" "$(ls /sys/block/nbd0/mq | wc -l)" 2
is "... and nbd1" "$(ls /sys/block/nbd1/mq | wc -l)" 2
like "status shows the connections and the request path: inline for memory, io_uring for a file on a disk, inline for one on tmpfs" \
    "$(./dmp status)" "nbd0 +67108864 +memory +- +2 +inline .*nbd1 +67108864 +$file +none +2 +io_uring .*nbd2 +67108864 +/tmp/file.img +none +2 +inline "
dmesg -C
for nbd in nbd0 nbd1 nbd2; do
    read -r before0 before1 < <(switches "$nbd")
    started=$SECONDS
    ok "fio writes and verifies $nbd from both CPUs" verified_fio "/dev/$nbd"
    diag "fio on $nbd took $((SECONDS - started)) s"
    # A request that takes over 30 s (the kernel's request timer) on a device with several sockets has the kernel
    # give up that socket for good and send its requests again on another.
    is "... and the kernel said nothing of $nbd's sockets (no request timed out)" "$(kernel_log | grep -m 3 nbd | paste -s -d '|')" ""
    dmesg -C
    read -r after0 after1 < <(switches "$nbd")
    ok "... socket 0's thread served requests (switched out $before0 times before, $after0 after)" test "$after0" -gt "$((before0 + 100))"
    ok "... and socket 1's thread ($before1 times before, $after1 after)" test "$after1" -gt "$((before1 + 100))"
done
diag "dmp.log: $(cat /run/dmp/dmp.log)"
ok "dmp check: exact across both sockets" ./dmp check
ok "data written through nbd1 is in the file" eval \
    "dd if=/dev/urandom of=/tmp/chunk bs=64k count=16 status=none && dd if=/tmp/chunk of=/dev/nbd1 bs=64k seek=5 oflag=direct status=none"
is "... byte for byte" "$(dd if="$file" bs=64k skip=5 count=16 status=none | md5sum)" "$(md5sum </tmp/chunk)"
ok "unload" ./dmp unload

# ---- dmp over brd and over a loop device, in each cache mode ----
ok "two RAM disks" modprobe brd rd_nr=2 rd_size=65536
ok "a loop device" modprobe loop
truncate -s 64M /tmp/loop.img
loop=$(losetup -f --show /tmp/loop.img)
ok "load" ./dmp load zero --size 1M
created=()
for cache in none writeback; do
    for device in /dev/ram0 "$loop"; do
        name=${device##*/}-$cache
        ok "create $name: dmp over $device with --cache $cache" \
            ./dmp create "$name" --table "0 131072 dmp $device" --cache "$cache" --connections 2
        like "... status shows the cache mode" "$(./dmp status)" "$device +$cache +2 +io_uring +$name "
        ok "... fio writes and verifies through it" verified_fio "/dev/mapper/$name"
        ok "... unaligned writes of 512 bytes" \
            dd if=/dev/urandom of="/dev/mapper/$name" bs=512 seek=7 count=9 oflag=direct status=none
        ok "... a flush" eval "dd if=/dev/urandom of=/dev/mapper/$name bs=4k count=1 conv=fsync status=none"
        ok "... a discard" blkdiscard -o 1M -l 1M "/dev/mapper/$name"
        ok "... dmp check: exact" ./dmp check "$name"
        is "... what dmp reads is what the device holds" \
            "$(dd if="/dev/mapper/$name" bs=1M count=64 iflag=direct status=none | md5sum)" \
            "$(dd if="$device" bs=1M count=64 iflag=direct status=none | md5sum)"
        created+=("$name")
    done
    for name in "${created[@]}"; do
        ok "remove $name" ./dmp remove "$name"
    done
    created=()
done
ok "unload" ./dmp unload
ok "the loop device detaches: nothing holds it" losetup -d "$loop"

# ---- an NBD client's zeroes and discards on a block device, through dmp serve ----
# (The 6.1 kernel's nbd client sends no WRITE_ZEROES; qemu-io does.)
# zeroes DEVICE MIB: how many bytes of that MiB of DEVICE are not zero.
zeroes() {
    dd if="$1" bs=1M skip="$2" count=1 iflag=direct status=none | tr -d '\0' | wc -c
}
for cache in writeback none; do
    ok "random data on /dev/ram1" dd if=/dev/urandom of=/dev/ram1 bs=1M count=8 oflag=direct status=none
    between=$(dd if=/dev/ram1 bs=1M skip=2 count=1 iflag=direct status=none | md5sum)
    ./dmp serve /dev/ram1 --cache "$cache" --listen unix:/tmp/ram1.sock 2>/tmp/serve.log &
    served=$!
    ok "dmp serve /dev/ram1 --cache $cache" wait_for grep -q ": ready: " /tmp/serve.log
    uri="nbd+unix:///export0?socket=/tmp/ram1.sock"
    ok "... qemu-io writes zeroes, keeping the space" qemu-io -f raw "$uri" -c "write -z 1M 1M"
    ok "... and letting it go" qemu-io -f raw "$uri" -c "write -z -u 3M 1M"
    ok "... and discards" qemu-io -f raw "$uri" -c "discard 5M 1M"
    is "... the first zeroed MiB reads as zeroes on the device" "$(zeroes /dev/ram1 1)" 0
    is "... and the second" "$(zeroes /dev/ram1 3)" 0
    is "... and what lies between is untouched" "$(dd if=/dev/ram1 bs=1M skip=2 count=1 iflag=direct status=none | md5sum)" "$between"
    ok "... stops on SIGTERM" eval "kill $served && wait $served"
done

# ---- io_uring refused: the thread pool serves, and the daemon says so ----
gcc -Wall -Werror -o /tmp/no-io-uring tests/vm/tools/no-io-uring.c
ok "load with io_uring_setup refused by seccomp" /tmp/no-io-uring ./dmp load "$file" --connections 2
like "status says io_uring is unavailable and why" "$(./dmp status)" \
    "io_uring: unavailable \(io_uring_setup: Operation not permitted\); files and block devices are served on the thread pool"
like "... and that the file is served on the thread pool" "$(./dmp status)" "nbd0 +67108864 +$file +none +2 +thread-pool "
like "the daemon's log says so too" "$(cat /run/dmp/dmp.log)" "io_uring: unavailable"
ok "fio writes and verifies through it" verified_fio /dev/nbd0
ok "dmp check: exact" ./dmp check
ok "unload" ./dmp unload

done_testing
