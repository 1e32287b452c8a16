#!/usr/bin/env bash
# The userspace path and the cost of counting, on the host: fio --ioengine=nbd over a Unix socket
# against each server, every backing 1 GiB and filled first, interleaved round by round:
#   dmp          dmp serve memory
#   nbdkit       nbdkit memory 1G
#   qemu-nbd     qemu-nbd on a raw image in /dev/shm
#   dmp-nostats  dmp serve memory with counting switched off (the hidden --no-statistics)
# Part "user" runs every job on dmp, nbdkit and qemu-nbd, with one connection and with two
# (--numjobs 2); part "stats" runs the 4k depth-32 jobs on dmp and dmp-nostats, twice as many rounds.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=SCRIPTDIR/lib.sh
source bench/lib.sh

work=$(mktemp -d)
image=/dev/shm/dmp-bench-$$.img
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; rm -rf "$work" "$image"' EXIT

socket() {
    echo "$work/$1.sock"
}

dmp_serve "$work/dmp.log" memory --size 1G --listen "unix:$(socket dmp)"
pids+=("$served")
dmp_serve "$work/dmp-nostats.log" memory --size 1G --listen "unix:$(socket dmp-nostats)" --no-statistics
pids+=("$served")
nbdkit -f -U "$(socket nbdkit)" memory 1G &
pids+=($!)
truncate -s 1G "$image"
qemu-nbd -f raw -t -e 4 -k "$(socket qemu-nbd)" "$image" &
pids+=($!)

uri() {
    echo "--ioengine=nbd --uri=nbd+unix:///?socket=$(socket "$1") --size=1G"
}

for name in dmp dmp-nostats nbdkit qemu-nbd; do
    wait_for test -S "$(socket "$name")"
    # shellcheck disable=SC2046 # uri's words are separate arguments
    fill $(uri "$name")
done

# run PART CONTENDERS ROUNDS JOB...: each job "RW BS DEPTH JOBS", round by round, contender by contender.
run() {
    local part=$1 rounds=$3 job rw bs depth jobs name round rate suffix
    local -a contenders
    read -r -a contenders <<<"$2"
    shift 3
    for job in "$@"; do
        read -r rw bs depth jobs <<<"$job"
        suffix=$([[ $jobs == 1 ]] || echo "-x$jobs")
        for ((round = 1; round <= rounds; round++)); do
            for name in "${contenders[@]}"; do
                # shellcheck disable=SC2046
                rate=$(fio_rate "$rw" "$bs" "$depth" "$jobs" $(uri "$name"))
                result "$part" "$rw-$bs-qd$depth$suffix" "$name" "$round" "$rate" "$(unit_of "$bs")"
            done
        done
    done
}

jobs=("randread 4k 32" "randwrite 4k 32" "randread 4k 1" "read 1M 8" "write 1M 8")
if [[ -n $SMOKE ]]; then
    run user "dmp nbdkit qemu-nbd" 1 "randread 4k 32 1" "read 1M 8 2"
    run stats "dmp dmp-nostats" 1 "randwrite 4k 32 1"
else
    run user "dmp nbdkit qemu-nbd" "$ROUNDS" "${jobs[@]/%/ 1}" "${jobs[@]/%/ 2}"
    run stats "dmp dmp-nostats" $((ROUNDS * 2)) "randread 4k 32 1" "randwrite 4k 32 1"
fi
