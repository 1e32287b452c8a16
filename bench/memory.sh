#!/usr/bin/env bash
# What dmp costs in memory and start-up, on the host:
#   alloc-per-100k  managed bytes the daemon allocates per 100,000 requests: the growth of
#                   dmp_allocated_bytes_total over a fio run of RUNTIME seconds, the least of three,
#                   per request. An upper bound: it includes the connection's set-up (a few KB), and
#                   now and then a garbage collection that the stat-file reads set off
#   peak-rss-*      the daemon's peak resident set (VmHWM) after fio at depth 128, serving a zero
#                   backing (served inline, so that no backing data counts) or a file of 1 GiB
#                   (64 MiB in smoke mode) on the machine's disk, in /var/tmp, filled first, with
#                   dmp serve's default cache (served through io_uring; the page cache is not dmp's)
#   binary          the size of ./dmp
#   serve-ready     from starting `dmp serve` to its ready line (the median of 5)
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=SCRIPTDIR/lib.sh
source bench/lib.sh

image=$(disk_dir)/dmp-bench-$$.img
work=$(mktemp -d)
image_size=1G
[[ -z $SMOKE ]] || image_size=64M
server=''
trap 'if [[ -n $server ]]; then kill "$server" 2>/dev/null; wait; fi; rm -rf "$work" "$image"' EXIT

# serve BACKING ARGS...: starts dmp serve on a Unix socket and waits until it is ready.
serve() {
    local status=0
    dmp_serve "$work/log" "$@" --listen "unix:$work/sock" || status=$?
    server=$served
    return "$status"
}

stop() {
    kill "$server"
    wait "$server" || true
    server=''
}

nbd=(--ioengine=nbd --uri="nbd+unix:///?socket=$work/sock")

# ---- allocation per request ----
serve memory --size 1G --run-dir "$work/run"
metrics=$work/run/module/stat/metrics
[[ -s $metrics ]] || { cat "$work/log" >&2; echo "bench: no stat tree at $metrics" >&2; exit 1; }
fill "${nbd[@]}" --size=1G
load() {
    fio --name=load --rw=randrw --bs=4k --iodepth=32 --size=1G --time_based --runtime="$1" "${nbd[@]}" \
        --output=/dev/null >/dev/null 2>&1
}
# read_metrics: "allocated-bytes requests" from the module's metrics.
read_metrics() {
    awk '$1 == "dmp_allocated_bytes_total" { bytes = $2 } /^dmp_requests_total\{/ { requests += $2 }
        END { printf "%d %d\n", bytes, requests }' "$metrics"
}
# Rendering the metrics allocates (some 200 KB, after the figure is taken), so each sample reads
# them twice: the second figure's growth over the first is one rendering, and is taken off the next
# sample's growth. grow SECONDS: sets bytes and requests to what a load of SECONDS added.
load 1 # the first connections pay for what the runtime sets up once
read -r last _ < <(read_metrics)
read -r latest last_requests < <(read_metrics)
grow() {
    local first count second
    load "$1"
    read -r first count < <(read_metrics)
    read -r second _ < <(read_metrics)
    bytes=$((first - latest - (latest - last))) requests=$((count - last_requests))
    last=$first latest=$second last_requests=$count
}
least=''
for ((i = 0; i < 3; i++)); do
    grow "$RUNTIME"
    if [[ -z $least ]] || ((bytes < least)); then least=$bytes least_requests=$requests; fi
done
stop
result memory alloc-per-100k dmp 1 "$((least * 100000 / least_requests))" bytes

# ---- peak RSS at depth 128 ----
# load_deep SIZE: 4k and 1M reads and writes at depth 128 over the first SIZE bytes (in this shell,
# so that a failing fio stops the run).
load_deep() {
    fio_rate randread 4k 128 1 "${nbd[@]}" --size="$1" >/dev/null
    fio_rate randwrite 4k 128 1 "${nbd[@]}" --size="$1" >/dev/null
    fio_rate read 1M 128 1 "${nbd[@]}" --size="$1" >/dev/null
    fio_rate write 1M 128 1 "${nbd[@]}" --size="$1" >/dev/null
}
peak_rss_mib() {
    awk '$1 == "VmHWM:" { printf "%.0f\n", $2 / 1024 }' "/proc/$server/status"
}
serve zero --size 1G
load_deep 1G
result memory peak-rss-inline dmp 1 "$(peak_rss_mib)" MiB
stop
fill --filename="$image" --size="$image_size"
serve "$image"
load_deep "$image_size"
result memory peak-rss-file dmp 1 "$(peak_rss_mib)" MiB
stop
rm -f "$image"

result memory binary dmp 1 "$(( $(stat -c %s dmp) / 1024 ))" KiB

# ---- time to ready ----
mkfifo "$work/log.fifo"
for ((i = 1; i <= 5; i++)); do
    started=$EPOCHREALTIME
    ./dmp serve memory --size 1G --listen "unix:$work/sock" 2>"$work/log.fifo" &
    server=$!
    exec {log}<"$work/log.fifo"
    while read -r -u "$log" line && [[ $line != *": ready: "* ]]; do :; done
    [[ $line == *": ready: "* ]] || { echo "bench: dmp serve ended before it was ready" >&2; exit 1; }
    result memory serve-ready dmp "$i" "$(elapsed_ms "$started")" ms
    stop
    exec {log}<&-
done
