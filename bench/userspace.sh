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

# measure NAME RW BS DEPTH JOBS: the rate of one job on NAME's server (interleave's MEASURE).
measure() {
    # shellcheck disable=SC2046 # uri's words are separate arguments
    fio_rate "$2" "$3" "$4" "$5" $(uri "$1")
}

jobs=("randread 4k 32" "randwrite 4k 32" "randread 4k 1" "read 1M 8" "write 1M 8")
if [[ -n $SMOKE ]]; then
    interleave user "dmp nbdkit qemu-nbd" 1 measure "randread 4k 32 1" "read 1M 8 2"
    interleave stats "dmp dmp-nostats" 1 measure "randwrite 4k 32 1"
else
    interleave user "dmp nbdkit qemu-nbd" "$ROUNDS" measure "${jobs[@]/%/ 1}" "${jobs[@]/%/ 2}"
    interleave stats "dmp dmp-nostats" "$cost_rounds" measure "${cost_jobs[@]}"
fi
