# shellcheck shell=bash
# Helpers shared by the benchmark's parts, on the host and in the guest.
#
# shellcheck source=SCRIPTDIR/../tests/vm/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../tests/vm/common.sh" # retry

# Every measurement is printed as one line, "RESULT PART JOB CONTENDER ROUND VALUE UNIT", which
# bench/report.py collects: medians, ratios, targets, the chart.

# Knobs: ROUNDS interleaved rounds, RUNTIME seconds per run after RAMP seconds of warm-up, and
# SMOKE=1 for a few seconds in all (make test): one round of a second, on a few jobs of each part.
ROUNDS=${ROUNDS:-3}
RUNTIME=${RUNTIME:-8}
RAMP=${RAMP:-2}
SMOKE=${SMOKE:-}
if [[ -n $SMOKE ]]; then
    ROUNDS=1 RUNTIME=1 RAMP=0
fi
# What a layer of dmp costs (counting, the trace, fault rules) is measured on these jobs, "RW BS DEPTH
# JOBS", in twice as many rounds as the rest: a cost of a few per cent must stand out of the noise.
# shellcheck disable=SC2034 # read by the parts
cost_jobs=("randread 4k 32 1" "randwrite 4k 32 1") cost_rounds=$((ROUNDS * 2))

result() {
    echo "RESULT $*"
}

# fio_rate RW BS DEPTH JOBS ARGS...: runs one fio job and prints its rate: IOPS for 4k jobs,
# MB/s (10^6 bytes) for larger ones. Terse format fields: 7/8 are read KiB/s and IOPS, 48/49 write.
fio_rate() {
    local rw=$1 bs=$2 depth=$3 jobs=$4
    shift 4
    fio --name=bench --rw="$rw" --bs="$bs" --iodepth="$depth" --numjobs="$jobs" --group_reporting \
        --time_based --runtime="$RUNTIME" --ramp_time="$RAMP" --output-format=terse "$@" 2>/dev/null |
        awk -F';' -v rw="$rw" -v bs="$bs" '
            $1 == 3 {
                kib = rw ~ /write/ ? $48 : $7
                iops = rw ~ /write/ ? $49 : $8
                found = 1
                if (bs == "4k") print iops; else printf "%.0f\n", kib * 1024 / 1e6
            }
            END { if (!found) exit 1 }'
}

# interleave PART CONTENDERS ROUNDS MEASURE JOB...: runs each job ("RW BS DEPTH JOBS") ROUNDS times on
# each of CONTENDERS (words), round by round, contender by contender (A B C A B C ...), so that drift
# on a shared machine hits all alike, and prints a RESULT line for each run. `MEASURE CONTENDER RW BS
# DEPTH JOBS` runs one job on one contender and prints its rate (fio_rate's); any further lines it
# prints, "NAME VALUE UNIT", are results of their own, NAME's for the same job and round.
interleave() {
    local part=$1 rounds=$3 measure=$4 job rw bs depth jobs label name round rate extra value unit
    local -a contenders
    read -r -a contenders <<<"$2"
    shift 4
    for job in "$@"; do
        read -r rw bs depth jobs <<<"$job"
        label=$rw-$bs-qd$depth$([[ $jobs == 1 ]] || echo "-x$jobs")
        for ((round = 1; round <= rounds; round++)); do
            for name in "${contenders[@]}"; do
                rate=$("$measure" "$name" "$rw" "$bs" "$depth" "$jobs") ||
                    { echo "bench: $part $label on $name failed" >&2; return 1; }
                {
                    read -r value
                    result "$part" "$label" "$name" "$round" "$value" "$(unit_of "$bs")"
                    while read -r extra value unit; do
                        result "$part" "$label" "$extra" "$round" "$value" "$unit"
                    done
                } <<<"$rate"
            done
        done
    done
}

# unit_of BS: the unit fio_rate reports for block size BS.
unit_of() {
    if [[ $1 == 4k ]]; then echo IOPS; else echo MB/s; fi
}

# fill TARGET-ARGS...: writes every byte of a backing once (fio's buffers are random, not zero),
# so that no server can answer reads from holes.
fill() {
    fio --name=fill --rw=write --bs=1M --iodepth=8 "$@" --output=/dev/null >/dev/null 2>&1
}

# dmp_serve LOG ARGS...: starts `./dmp serve ARGS` in the background, its log in LOG and its pid in
# $served, and waits for its ready line (the socket exists a little earlier, before it listens).
dmp_serve() {
    local log=$1
    shift
    ./dmp serve "$@" 2>"$log" &
    # shellcheck disable=SC2034 # read by the caller
    served=$!
    wait_for grep -q ": ready: " "$log"
}

# nbd_ready SOCKET: waits until an NBD server answers the handshake on the Unix socket SOCKET (the
# socket file exists a little before the server listens on it).
nbd_ready() {
    wait_for nbdinfo --size "nbd+unix:///?socket=$1" >/dev/null
}

# disk_dir: where the benchmark puts a file on the machine's own disk: /var/tmp, which must not be
# a memory file system.
disk_dir() {
    local type
    type=$(df --output=fstype /var/tmp | tail -n 1)
    case $type in
    tmpfs | ramfs | overlay) echo "bench: /var/tmp is on $type, not on a disk" >&2; return 1 ;;
    esac
    echo /var/tmp
}

# elapsed_ms SINCE: milliseconds since SINCE (an $EPOCHREALTIME).
elapsed_ms() {
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f\n", (b - a) * 1000 }'
}

# wait_for CHECK...: runs CHECK every 0.1 s until it succeeds, for up to 10 s.
wait_for() {
    retry 100 "$@" 2>/dev/null || { echo "bench: gave up waiting for: $*" >&2; return 1; }
}
