#!/usr/bin/env bash
# The userspace path on real files, on the host: fio --ioengine=nbd over a Unix socket against each
# server of one file, and fio straight on the file, interleaved round by round. Two backings, each
# a file of 1 GiB (64 MiB in smoke mode) filled with random data first:
#   part file-disk   a file in /var/tmp, on the machine's own disk
#   part file-tmpfs  a file in /dev/shm
# The contenders, each started just before its run and stopped after it, so that one server at a
# time is up (two qemu-nbd could not open one image anyway: qemu locks it):
#   dmp            dmp serve FILE --cache writeback (dmp's default: the page cache)
#   dmp-none       dmp serve FILE --cache none (O_DIRECT)
#   nbdkit         nbdkit file FILE (its default: the page cache)
#   nbdkit-none    nbdkit file FILE cache=none (the page cache, its pages dropped after use: not O_DIRECT)
#   qemu-nbd       qemu-nbd --cache=writeback
#   qemu-nbd-none  qemu-nbd --cache=none --aio=io_uring (O_DIRECT)
#   fio            fio libaio on the file, buffered
#   fio-direct     fio libaio on the file with O_DIRECT: the ceiling of the O_DIRECT servers
# Every job runs with one connection (or fio job) and with two (-x2). After each run the file is
# fsynced, so that no contender pays for the dirty pages of the one before it; before each run of a
# contender that uses the page cache, the file is read once, so that each starts from a file wholly
# in the page cache (fio's own invalidation is off for the same reason).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=SCRIPTDIR/lib.sh
source bench/lib.sh

size=1G
[[ -z $SMOKE ]] || size=64M
disk_file=$(disk_dir)/dmp-bench-$$.img
work=$(mktemp -d)
tmpfs_file=/dev/shm/dmp-bench-$$.img
server=''
target=()

stop() {
    if [[ -n $server ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
        server=''
    fi
}
cleanup() {
    local status=$?
    set +e
    stop
    if ((status != 0)); then
        for log in "$work"/*.log; do
            [[ -s $log ]] && sed "s|^|bench: ${log##*/}: |" "$log" >&2
        done
    fi
    rm -rf "$work" "$disk_file" "$tmpfs_file"
}
trap cleanup EXIT

# start NAME FILE: starts NAME's server on FILE (if NAME has one) and sets target to fio's arguments.
start() {
    local name=$1 file=$2 sock=$work/$1.sock log=$work/$1.log
    rm -f "$sock"
    case $name in
    fio | fio-direct)
        target=(--filename="$file" --size="$size" --ioengine=libaio --invalidate=0)
        [[ $name == fio ]] || target+=(--direct=1)
        return
        ;;
    dmp) dmp_serve "$log" "$file" --cache writeback --listen "unix:$sock" || true; server=$served ;;
    dmp-none) dmp_serve "$log" "$file" --cache none --listen "unix:$sock" || true; server=$served ;;
    nbdkit) nbdkit -f -U "$sock" file "$file" 2>"$log" & server=$! ;;
    nbdkit-none) nbdkit -f -U "$sock" file "$file" cache=none 2>"$log" & server=$! ;;
    qemu-nbd) qemu-nbd -f raw -t -e 4 -k "$sock" --cache=writeback "$file" 2>"$log" & server=$! ;;
    qemu-nbd-none) qemu-nbd -f raw -t -e 4 -k "$sock" --cache=none --aio=io_uring "$file" 2>"$log" & server=$! ;;
    *) echo "bench: no contender $name" >&2; return 1 ;;
    esac
    nbd_ready "$sock"
    target=(--ioengine=nbd --uri="nbd+unix:///?socket=$sock" --size="$size")
}

uses_page_cache() {
    [[ $1 == dmp || $1 == nbdkit || $1 == nbdkit-none || $1 == qemu-nbd || $1 == fio ]]
}

# run PART FILE JOB...: each job "RW BS DEPTH JOBS", round by round, contender by contender.
run() {
    local part=$1 file=$2 job rw bs depth jobs name round rate suffix
    shift 2
    fill --filename="$file" --size="$size"
    sync "$file"
    for job in "$@"; do
        read -r rw bs depth jobs <<<"$job"
        suffix=$([[ $jobs == 1 ]] || echo "-x$jobs")
        for ((round = 1; round <= ROUNDS; round++)); do
            for name in dmp dmp-none nbdkit nbdkit-none qemu-nbd qemu-nbd-none fio fio-direct; do
                ! uses_page_cache "$name" || cat "$file" >/dev/null
                start "$name" "$file"
                rate=$(fio_rate "$rw" "$bs" "$depth" "$jobs" "${target[@]}") ||
                    { echo "bench: fio failed: $part $rw $bs $depth $jobs on $name" >&2; return 1; }
                stop
                sync "$file"
                result "$part" "$rw-$bs-qd$depth$suffix" "$name" "$round" "$rate" "$(unit_of "$bs")"
            done
        done
    done
    rm -f "$file"
}

jobs=("randread 4k 32" "randwrite 4k 32" "randread 4k 1" "read 1M 8" "write 1M 8")
if [[ -n $SMOKE ]]; then
    run file-disk "$disk_file" "randread 4k 32 1" "write 1M 8 2"
    run file-tmpfs "$tmpfs_file" "randwrite 4k 32 1" "read 1M 8 2"
else
    run file-disk "$disk_file" "${jobs[@]/%/ 1}" "${jobs[@]/%/ 2}"
    run file-tmpfs "$tmpfs_file" "${jobs[@]/%/ 1}" "${jobs[@]/%/ 2}"
fi
