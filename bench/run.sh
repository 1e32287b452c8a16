#!/usr/bin/env bash
# make bench: every part of the benchmark, then bench/report.py's table and chart.
#   bench/run.sh                the full run (about two and a half hours): bench/results.{tsv,md,svg}
#   bench/run.sh --smoke DIR    a few seconds per part, into DIR (make test runs it, so the
#                               benchmark cannot rot); ROUNDS, RUNTIME and RAMP tune a full run
# The parts print "RESULT ..." lines (bench/lib.sh); the kernel part runs in a qemu guest.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."

out=bench
if [[ ${1:-} == --smoke ]]; then
    [[ -n ${2:-} ]] || { echo "usage: bench/run.sh [--smoke DIR]" >&2; exit 2; }
    export SMOKE=1
    out=$2
    mkdir -p "$out"
fi
# shellcheck source=SCRIPTDIR/lib.sh
source bench/lib.sh
guest_cpus=2

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
# part NAME COMMAND...: runs one part, keeping its RESULT lines and showing them as they come.
part() {
    echo "bench: $1" >&2
    shift
    "$@" | tee -a "$raw" | grep --line-buffered '^RESULT ' >&2 || { echo "bench: $* failed" >&2; exit 1; }
}
part "userspace path and the cost of counting (host)" bench/userspace.sh
part "the cost of the trace and of fault rules (host)" bench/layers.sh
part "userspace path on files (host)" bench/files.sh
part "NBD over TLS (host)" bench/tls.sh
part "memory and start-up (host)" bench/memory.sh
part "kernel path (qemu guest)" tests/vm/guest.sh --timeout 7200 --smp "$guest_cpus" \
    --env "ROUNDS=$ROUNDS" --env "RUNTIME=$RUNTIME" --env "RAMP=$RAMP" --env "SMOKE=$SMOKE" bench/kernel.sh

{
    printf 'machine\t%s cores, %s, %s\n' "$(nproc)" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
        "$(awk '/^MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)"
    printf 'kernel\thost %s; guest %s (qemu TCG, %s vCPUs)\n' "$(uname -r)" "$(vm_cached_version)" "$guest_cpus"
    printf 'versions\tfio %s, nbdkit %s, qemu-nbd %s, nbd-client %s, dmp %s\n' "$(fio --version | sed 's/^fio-//')" \
        "$(nbdkit --version | awk '{ print $2 }')" "$(qemu-nbd --version | awk 'NR == 1 { print $2 }')" \
        "$(dpkg-query -W -f='${Version}' nbd-client)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    printf 'disk\t/var/tmp: %s\n' "$(df --output=fstype,source /var/tmp | awk 'NR == 2 { print $1 " on " $2 }')"
    printf 'date\t%s\n' "$(date -u +%Y-%m-%d)"
    printf 'runs\t%s interleaved rounds of %s s after %s s of warm-up\n' "$ROUNDS" "$RUNTIME" "$RAMP"
    grep '^RESULT ' "$raw" | cut -d' ' -f2- | tr ' ' '\t'
} >"$out/results.tsv"
python3 bench/report.py "$out/results.tsv" "$out/results.md" "$out/results.svg"
echo "bench: wrote $out/results.md and $out/results.svg" >&2
