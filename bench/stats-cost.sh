#!/usr/bin/env bash
# What counting costs: fio 4k random reads and writes (--ioengine=nbd, depth 32, one connection)
# against `dmp serve` with statistics on and off (the hidden --no-statistics), interleaved
# on, off, on, off ... so that drift on a shared machine hits both alike. Reports the median
# IOPS and, steadier on a busy machine, the median CPU time dmp spent per request (user + system,
# from /proc/PID/stat), and writes the table to bench/stats-cost.md.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

rounds=${ROUNDS:-5}
seconds=${SECONDS_PER_RUN:-5}
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT

# serve [OPTION]: starts dmp serve on a 1 GiB memory store filled with random data.
serve() {
    ./dmp serve memory --size 1G --listen "unix:$work/sock" "$@" 2>"$work/log" &
    server=$!
    until grep -q ": ready: " "$work/log"; do sleep 0.05; done
    fio --name=fill --ioengine=nbd --uri="nbd+unix:///?socket=$work/sock" --rw=write --bs=1M --size=1G \
        --output=/dev/null >/dev/null 2>&1
}

stop() {
    kill -TERM "$server" && wait "$server"
}

# cpu_ticks: the server's user + system time so far, in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$server/stat"
}

# measure RW: one fio run, printed as "IOPS CPU-microseconds-per-request" (terse fields 8 and 9 for
# reads: IOPS and runtime in ms; 49 and 50 for writes).
measure() {
    local fields=8,9 before after
    [[ $1 == randwrite ]] && fields=49,50
    before=$(cpu_ticks)
    read -r rate milliseconds < <(fio --name=bench --ioengine=nbd --uri="nbd+unix:///?socket=$work/sock" --rw="$1" --bs=4k --iodepth=32 \
        --size=1G --time_based --runtime="$seconds" --output-format=terse 2>/dev/null | grep '^3;' | cut -d';' -f"$fields" | tr ';' ' ')
    after=$(cpu_ticks)
    awk -v rate="$rate" -v ms="$milliseconds" -v ticks="$((after - before))" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%d %.2f\n", rate, ticks / hz * 1e6 / (rate * ms / 1000) }'
}

median() {
    sort -n | awk 'NF { v[++n] = $1 } END { print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

declare -A iops cpu
for workload in randread randwrite; do
    for ((round = 0; round < rounds; round++)); do
        for mode in on off; do
            if [[ $mode == on ]]; then serve; else serve --no-statistics; fi
            read -r rate micros < <(measure "$workload")
            iops[$workload-$mode]+="$rate"$'\n'
            cpu[$workload-$mode]+="$micros"$'\n'
            stop
        done
    done
done

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'
}

{
    echo "| 4k, depth 32, $rounds x ${seconds} s each | IOPS on | IOPS off | on / off | dmp CPU µs/request on | off | on / off |"
    echo "|---|---|---|---|---|---|---|"
    for workload in randread randwrite; do
        on=$(median <<<"${iops[$workload-on]}") off=$(median <<<"${iops[$workload-off]}")
        cpu_on=$(median <<<"${cpu[$workload-on]}") cpu_off=$(median <<<"${cpu[$workload-off]}")
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$workload" "$on" "$off" "$(ratio "$on" "$off")" \
            "$cpu_on" "$cpu_off" "$(ratio "$cpu_on" "$cpu_off")"
    done
    echo
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores ($(uname -r)), fio $(fio --version | sed 's/fio-//'), median of $rounds interleaved runs."
} | tee bench/stats-cost.md
