#!/usr/bin/env bash
# The cost of the trace and of fault rules, on the host: fio --ioengine=nbd over a Unix socket against
# one `dmp serve memory` of 1 GiB, filled first, with its stat tree (--run-dir: needs root and FUSE),
# on the jobs and rounds that measure the cost of counting (cost_jobs, cost_rounds), interleaved:
#   dmp        no layer on: nobody reads the trace and the device has no fault rule
#   dmp-trace  a reader at full speed: `dmp trace` runs through the job, its lines into a file
#   dmp-fault  the device has one fault rule that every request meets and none fires: RULE below
#              (any operation, anywhere, its chance drawn for each request)
# With dmp-trace it also reports reader-share: the share of the requests' lines that the reader got
# (the rest it was told it lost). A run fails if the reader stopped or got no line, or if the rule fired.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=SCRIPTDIR/lib.sh
source bench/lib.sh

rule=(probability=0 error=EIO)
work=$(mktemp -d)
run=$work/run
trap 'if [[ -n ${served:-} ]]; then kill "$served" 2>/dev/null; wait "$served"; fi; rm -rf "$work"' EXIT

dmp_serve "$work/dmp.log" memory --size 1G --listen "unix:$work/dmp.sock" --run-dir "$run"
[[ -e $run/module/stat/trace ]] || { cat "$work/dmp.log" >&2; echo "bench: no stat tree at $run/module" >&2; exit 1; }
target=(--ioengine=nbd --uri="nbd+unix:///?socket=$work/dmp.sock" --size=1G)
fill "${target[@]}"

# reading PID: whether process PID has the trace open (the daemon has subscribed it to requests by then).
reading() {
    local fd
    for fd in "/proc/$1/fd/"*; do
        [[ $(readlink "$fd") != "$run/module/stat/trace" ]] || return 0
    done
    return 1
}

# traced RW BS DEPTH JOBS: the rate of one job while `dmp trace` reads, then "reader-share SHARE share".
traced() {
    local reader rate
    ./dmp --run-dir "$run" trace >"$work/trace" 2>"$work/trace.log" &
    reader=$!
    if ! wait_for reading "$reader" || ! rate=$(fio_rate "$@" "${target[@]}") || ! reading "$reader"; then
        sed 's/^/bench: dmp trace: /' "$work/trace.log" >&2
        kill "$reader" 2>/dev/null
        return 1
    fi
    kill "$reader"
    wait "$reader" || true # ended by the signal
    echo "$rate"
    awk '/^# lost / { lost += $3; next } { got++ } END { if (!got) exit 1; print "reader-share", got / (got + lost), "share" }' \
        "$work/trace" || { echo "bench: dmp trace read no line" >&2; return 1; }
}

# faulty RW BS DEPTH JOBS: the rate of one job while the device has the rule, which must not fire.
faulty() {
    local rate fired
    ./dmp --run-dir "$run" fault add export0 "${rule[@]}" >/dev/null && rate=$(fio_rate "$@" "${target[@]}") || return 1
    fired=$(./dmp --run-dir "$run" fault list export0 | awk 'NR == 2 { print $3 }')
    ./dmp --run-dir "$run" fault clear export0 || return 1
    [[ $fired == 0 ]] || { echo "bench: fault rule ${rule[*]} fired (${fired:-not listed})" >&2; return 1; }
    echo "$rate"
}

# measure NAME RW BS DEPTH JOBS: one job on contender NAME (interleave's MEASURE).
measure() {
    local name=$1
    shift
    case $name in
    dmp) fio_rate "$@" "${target[@]}" ;;
    dmp-trace) traced "$@" ;;
    dmp-fault) faulty "$@" ;;
    *) echo "bench: no contender $name" >&2; return 1 ;;
    esac
}

if [[ -n $SMOKE ]]; then
    interleave layers "dmp dmp-trace dmp-fault" 1 measure "randread 4k 32 1"
else
    interleave layers "dmp dmp-trace dmp-fault" "$cost_rounds" measure "${cost_jobs[@]}"
fi
