#!/usr/bin/env bash
# Establishes facts about the guest kernel's nbd, device-mapper and block
# stat behaviour that dmp's design relies on. Each is reported as a TAP
# comment "fact (x): ..." and asserted as observed on each kernel run-all.sh
# boots (Debian 12's 6.1 and bookworm-backports' 6.12), so that a kernel which
# behaves otherwise fails here first. Where those two differ, the assertion
# names each one's value (per_kernel): a kernel of a series not named there
# fails it until its value is recorded.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"

sock=/tmp/facts.sock
nbdkit_log=/tmp/facts-nbdkit.log
# The running kernel's series: 6.1 for 6.1.0-57-amd64, 6.12 for 6.12.95+deb12-amd64.
series=$(uname -r | cut -d. -f1-2)

# per_kernel SERIES=VALUE...: the VALUE given for the running kernel's series, or a
# sentence saying there is none (which no fact equals).
per_kernel() {
    local pair
    for pair in "$@"; do
        [[ ${pair%%=*} != "$series" ]] || {
            printf '%s\n' "${pair#*=}"
            return
        }
    done
    echo "(no value recorded for kernel $series)"
}

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

# (j): the modules dmp loads or could use. dmp load modprobes fuse when it is a module;
# ublk (a userspace block device without a socket) exists on 6.12 only.
builtin=/lib/modules/$(uname -r)/modules.builtin
fuse=$(if grep -q '/fuse\.ko$' "$builtin"; then echo built-in; else echo module; fi)
diag "fact (j): fuse is $fuse"
is "(j) fuse is a module (6.1) or built in (6.12)" "$fuse" "$(per_kernel 6.1=module 6.12=built-in)"
ublk=$(if modprobe ublk_drv 2>/dev/null && test -c /dev/ublk-control; then echo yes; else echo no; fi)
diag "fact (j): ublk_drv and /dev/ublk-control: $ublk"
is "(j) ublk exists on 6.12, not on 6.1" "$ublk" "$(per_kernel 6.1=no 6.12=yes)"

# (k): kernel.io_uring_disabled, one of the ways io_uring is refused that dmp serves
# through (on the thread pool). 2 refuses io_uring_setup to everyone with EPERM.
if [[ -e /proc/sys/kernel/io_uring_disabled ]]; then
    echo 2 >/proc/sys/kernel/io_uring_disabled
    refused=$(python3 -c '
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)  # struct io_uring_params
fd = libc.syscall(425, 4, params)  # io_uring_setup(4 entries)
print(errno.errorcode[ctypes.get_errno()] if fd < 0 else "allowed")')
    echo 0 >/proc/sys/kernel/io_uring_disabled
    sysctl="exists; at 2, io_uring_setup gets $refused"
else
    sysctl="does not exist"
fi
diag "fact (k): kernel.io_uring_disabled $sysctl"
is "(k) kernel.io_uring_disabled: none on 6.1; on 6.12, 2 refuses io_uring_setup with EPERM" "$sysctl" \
    "$(per_kernel "6.1=does not exist" "6.12=exists; at 2, io_uring_setup gets EPERM")"

# The log filter records every request the server gets, for (h).
nbdkit -f -U "$sock" --filter=log memory 64M logfile="$nbdkit_log" &
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
fails_saying "(f) a table on a device node that does not exist is refused" \
    "(f) ... with ENODEV (6.1) or ENOENT (6.12)" \
    "failed: $(per_kernel "6.1=No such device" "6.12=No such file or directory")"$'\n' \
    dmsetup create t3 --table "0 1024 linear /dev/nbd9 0"
fails "(f) a table longer than its device is refused" \
    dmsetup create t3 --table "0 200000 linear /dev/nbd0 0"
ok "(f) a table on an unconnected (size 0) nbd is accepted" \
    dmsetup create t3 --table "0 1024 linear /dev/nbd3 0"
fails "(f) reading that device fails" dd if=/dev/mapper/t3 of=/dev/null count=1 iflag=direct
ok "remove t3" dmsetup remove t3

ok "dmsetup remove t1" dmsetup remove t1

# (h): zeroing a range. 6.12's nbd client sends NBD_CMD_WRITE_ZEROES (with NO_HOLE unless
# the range is to be punched), which dmp counts as a write, as the block layer does; 6.1's
# sends none: it writes zeroes, and refuses to punch a hole.
# requests_since LINE: the writes and zeroes nbdkit logged after line LINE, counted:
# "Write x8", "Zero trim=0 x1", or "none".
requests_since() {
    awk -v from="$1" 'NR > from && / (Write|Zero) id=.*\.\.\.$/ {
            r = ($4 == "Zero") ? "Zero " $8 : $4; n[r]++ }
        END { for (r in n) printf "%s%s x%d", (s++ ? ", " : ""), r, n[r]; if (!s) printf "none" }' "$nbdkit_log"
}
queue=/sys/block/nbd0/queue
diag "fact (h): nbd0/queue: write_zeroes_max_bytes $(cat $queue/write_zeroes_max_bytes), discard_max_bytes $(cat $queue/discard_max_bytes), max_sectors_kb $(cat $queue/max_sectors_kb), max_hw_sectors_kb $(cat $queue/max_hw_sectors_kb), optimal_io_size $(cat $queue/optimal_io_size)"
is "(h) nbd0 takes write-zeroes requests on 6.12 (up to 4 GiB), none on 6.1" "$(cat $queue/write_zeroes_max_bytes)" \
    "$(per_kernel 6.1=0 6.12=4294966784)"
is "(h) nbd0's discards: up to 2 TiB on 6.1, 4 GiB on 6.12" "$(cat $queue/discard_max_bytes)" \
    "$(per_kernel 6.1=2199023255040 6.12=4294966784)"
is "(i) the largest request the kernel makes by default: 128 KiB on 6.1, 1280 KiB on 6.12" \
    "$(cat $queue/max_sectors_kb)" "$(per_kernel 6.1=128 6.12=1280)"
is "(i) nbd0's optimal IO size: none on 6.1, 128 KiB on 6.12 (mkfs.ext4 makes that its stripe)" \
    "$(cat $queue/optimal_io_size)" "$(per_kernel 6.1=0 6.12=131072)"
from=$(wc -l <"$nbdkit_log")
before=$(wstat nbd0)
ok "(h) blkdiscard -z of 1 MiB on nbd0" blkdiscard -z -o 0 -l 1M /dev/nbd0
got=$(requests_since "$from")
diag "fact (h): blkdiscard -z: the server got $got; nbd0 before: $before; after: $(wstat nbd0)"
is "(h) ... reaches the server as zeroes written (6.1) or one WRITE_ZEROES with NO_HOLE (6.12)" "$got" \
    "$(per_kernel "6.1=Write x8" "6.12=Zero trim=0 x1")"
from=$(wc -l <"$nbdkit_log")
rc=0
out=$(fallocate --punch-hole -o 1M -l 1M /dev/nbd0 2>&1) || rc=$?
got=$(requests_since "$from")
diag "fact (h): fallocate --punch-hole exits $rc${out:+ ($out)}; the server got $got"
is "(h) fallocate --punch-hole on nbd0 is refused (6.1) or one WRITE_ZEROES that may punch (6.12)" \
    "$rc: $got" "$(per_kernel "6.1=1: none" "6.12=0: Zero trim=1 x1")"

# (c)
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
