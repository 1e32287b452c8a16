#!/usr/bin/env bash
# Establishes facts about the guest kernel's nbd, device-mapper and block
# stat behaviour that dmp's design relies on. Each is reported as a TAP
# comment "fact (x): ..." and asserted as observed on Debian's 6.1 kernel,
# so that a kernel which behaves otherwise fails here first.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"

sock=/tmp/facts.sock

# The write and flush fields of DEV's stat, labelled.
wstat() {
    awk '{ printf "writes=%s write_sectors=%s flushes=%s flush_ms=%s", $5, $7, $16, $17 }' \
        "/sys/block/$1/stat"
}

# Opens DEV with O_EXCL, as dm does for a table's devices; prints the errno
# name and fails if that is refused.
excl_open() {
    python3 -c '
import errno, os, sys
try:
    os.close(os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL))
except OSError as e:
    print(errno.errorcode[e.errno])
    sys.exit(1)' "$1"
}

# attach [OPTION...]: connects nbd0 to nbdkit.
attach() {
    nbd-client -unix "$sock" /dev/nbd0 -b 512 "$@"
}

# (g)
diag "fact (g): uname -r: $(uname -r)"
ok "modprobe nbd nbds_max=4 max_part=0" modprobe nbd nbds_max=4 max_part=0
diag "fact (g): $(grep -H . /sys/module/nbd/parameters/*)"

nbdkit -f -U "$sock" memory 64M &
nbdkit_pid=$!
ok "nbdkit listens" wait_for test -S "$sock"
ok "nbd-client attaches /dev/nbd0" attach

# (e)
pid=$(cat /sys/block/nbd0/pid || true)
diag "fact (e): /sys/block/nbd0/pid: $pid; that process: $(ps -o args= -p "$pid" || echo 'gone')"
diag "fact (e): /sys/block/nbd0/backend $(
    if [[ -e /sys/block/nbd0/backend ]]; then
        echo "exists (\"$(cat /sys/block/nbd0/backend)\"): nbd-client connected over netlink"
    else
        echo "is absent: nbd-client connected with ioctls"
    fi
)"
like "(e) nbd0/pid holds a pid" "$pid" '^[0-9]+$'
diag "nbd0/queue: write_cache $(cat /sys/block/nbd0/queue/write_cache), fua $(cat /sys/block/nbd0/queue/fua)"

# (a), (b)
ok "(a) O_EXCL open of nbd0 succeeds while no dm table uses it" excl_open /dev/nbd0
ok "dmsetup create t1" dmsetup create t1 --table "0 1024 linear /dev/nbd0 0"
err=$(excl_open /dev/nbd0 || true)
diag "fact (a): O_EXCL open of nbd0 under t1: ${err:-succeeds}"
is "(a) O_EXCL open of nbd0 fails with EBUSY while t1 uses it" "$err" EBUSY
holders=$(ls /sys/block/nbd0/holders)
diag "fact (b): /sys/block/nbd0/holders/ under t1: ${holders:-empty}"
is "(b) nbd0's holders list dm-0" "$holders" dm-0

# (d): which of these reach nbd0 as a flush (fields 16/17)?
steps=(
    "dd if=/dev/urandom of=/dev/mapper/t1 bs=4k count=1 oflag=direct status=none"
    "sync"
    "blockdev --flushbufs /dev/mapper/t1"
    "sync /dev/mapper/t1"
    "dd if=/dev/urandom of=/dev/mapper/t1 bs=4k count=1 oflag=direct,dsync status=none"
)
# Flushes nbd0 should count after each step, as observed on 6.1.
want_flushes=(0 0 0 1 2)
for i in "${!steps[@]}"; do
    read -ra step <<<"${steps[i]}"
    ok "(d) ${steps[i]}" "${step[@]}"
    diag "fact (d): after '${steps[i]}': nbd0 $(wstat nbd0); dm-0 $(wstat dm-0)"
    is "(d) nbd0 has counted ${want_flushes[i]} flushes" "$(stat_field nbd0 16)" "${want_flushes[i]}"
done
is "(d) dm-0 never counts flushes" "$(stat_field dm-0 16)" 0

# (f)
for table in "0 1024 linear /dev/nbd3 0" "0 1024 linear /dev/nbd9 0" \
    "0 200000 linear /dev/nbd0 0"; do
    rc=0
    out=$(dmsetup create t3 --table "$table" 2>&1) || rc=$?
    diag "fact (f): dmsetup create t3 --table '$table' exits $rc, prints: ${out:-nothing}"
    if ((rc != 0)); then
        diag "fact (f): kernel log: $(dmesg | tail -n 1)"
    else
        rc=0
        out=$(dd if=/dev/mapper/t3 of=/dev/null bs=4k count=1 iflag=direct 2>&1) || rc=$?
        diag "fact (f): reading t3 exits $rc: $out"
        ok "remove t3" dmsetup remove t3
    fi
done
fails "(f) a table on a device node that does not exist is refused" \
    dmsetup create t3 --table "0 1024 linear /dev/nbd9 0"
fails "(f) a table longer than its device is refused" \
    dmsetup create t3 --table "0 200000 linear /dev/nbd0 0"
ok "(f) a table on an unconnected (size 0) nbd is accepted" \
    dmsetup create t3 --table "0 1024 linear /dev/nbd3 0"
fails "(f) reading that device fails" dd if=/dev/mapper/t3 of=/dev/null count=1 iflag=direct
ok "remove t3" dmsetup remove t3

# (c)
ok "dmsetup remove t1" dmsetup remove t1
before=$(cat /sys/block/nbd0/stat)
ok "nbd-client -d /dev/nbd0" nbd-client -d /dev/nbd0
ok "nbd0's size drops to 0" wait_for grep -qx 0 /sys/block/nbd0/size
after=$(cat /sys/block/nbd0/stat)
diag "fact (c): nbd0/stat before -d: $before"
diag "fact (c): nbd0/stat after -d:  $after; size $(cat /sys/block/nbd0/size)"
is "(c) disconnecting keeps nbd0's counters" "$after" "$before"
fails "(c) nbd0/pid is gone after disconnect" test -e /sys/block/nbd0/pid
ok "nbd-client attaches /dev/nbd0 again" attach
diag "fact (c): nbd0/stat after attaching again: $(cat /sys/block/nbd0/stat)"
is "(c) attaching again keeps the counters too" "$(cat /sys/block/nbd0/stat)" "$before"
ok "nbd-client -d /dev/nbd0" nbd-client -d /dev/nbd0

# (e) again, connected the old way: the pid is then nbd-client's child that
# sits in NBD_DO_IT for as long as the device is connected.
ok "nbd-client -nonetlink attaches /dev/nbd0" attach -nonetlink
pid=$(cat /sys/block/nbd0/pid || true)
diag "fact (e): with -nonetlink, nbd0/pid: $pid; that process: $(ps -o args= -p "$pid" || echo 'gone')"
ok "(e) with -nonetlink, nbd0/pid is a live process" kill -0 "$pid"
ok "nbd-client -d /dev/nbd0" nbd-client -d /dev/nbd0

kill "$nbdkit_pid"
wait "$nbdkit_pid" || true
done_testing
