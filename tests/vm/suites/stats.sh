#!/usr/bin/env bash
# The statistics beyond the original, on a real kernel: a known fio workload on two devices,
# checked in each device's ops and histograms and against the kernel; holders and refcnt as
# /sys/module has them; a per-device reset; the node_exporter textfile; /metrics over HTTP, also
# after a kill -9 and the load that takes over; dmp check throughout.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

module=/run/dmp/module
metrics=http://127.0.0.1:10810/metrics

# bucket BOUND OPERATION FILE: the count of a histogram bucket for an operation.
bucket() {
    awk -v bound="$1" -v op="$2" 'NR == 1 { for (i = 2; i <= NF; i++) if ($i == op) c = i } $1 == bound { print $c }' "$3"
}

like "load two devices with a metrics textfile and /metrics on the default port" \
    "$(./dmp load memory memory --size 64M --metrics-textfile /tmp/dmp.prom --metrics-listen tcp:127.0.0.1)" "metrics on tcp:127.0.0.1:10810"
ok "a dm device on each" eval 'dmsetup create a --table "0 131072 linear /dev/nbd0 0" && dmsetup create b --table "0 131072 linear /dev/nbd1 0"'
is "refcnt counts the dm devices on dmp" "$(cat $module/refcnt)" 2
is "holders/ links each to its /sys/block entry" "$(cd $module/holders && for l in *; do echo "$l -> $(readlink "$l")"; done)" "a -> /sys/block/dm-0
b -> /sys/block/dm-1"
is "a device's holders/ has only its own" "$(ls $module/devices/nbd1/holders)" b
is "parameters/ shows the load options" "$(cat $module/parameters/backing $module/parameters/size $module/parameters/metrics_textfile $module/parameters/metrics_listen)" "memory
memory
67108864
/tmp/dmp.prom
tcp:127.0.0.1:10810"

# The block layer would merge adjacent sequential writes before they reach nbd (dmp counts what
# arrives, as the kernel's nbd stat does); for exact per-request numbers, no merging.
ok "no merging on nbd0 and nbd1" eval "echo 2 > /sys/block/nbd0/queue/nomerges && echo 2 > /sys/block/nbd1/queue/nomerges"
ok "fio: 500 random 4k reads on a, 100 sequential 64k writes on b, at once" fio --output=/dev/null \
    --ioengine=libaio --direct=1 --name=reads --filename=/dev/mapper/a --rw=randread --bs=4k --iodepth=8 --number_ios=500 --size=64M \
    --name=writes --filename=/dev/mapper/b --rw=write --bs=64k --iodepth=4 --number_ios=100 --size=64M

is "nbd0's ops: 500 reads of 2048000 bytes, none in flight" "$(column read 2 $module/devices/nbd0/ops) $(column read 3 $module/devices/nbd0/ops) $(column read 5 $module/devices/nbd0/ops)" "500 2048000 0"
is "nbd1's ops: 100 writes of 6553600 bytes" "$(column write 2 $module/devices/nbd1/ops) $(column write 3 $module/devices/nbd1/ops)" "100 6553600"
is "nbd0 has no writes, nbd1 no reads" "$(column write 2 $module/devices/nbd0/ops) $(column read 2 $module/devices/nbd1/ops)" "0 0"
is "nbd0's sizes: all 500 reads in the 4096 bucket" "$(bucket 4096 read $module/devices/nbd0/sizes)" 500
is "nbd1's sizes: all 100 writes in the 65536 bucket" "$(bucket 65536 write $module/devices/nbd1/sizes)" 100
is "nbd0's latency buckets hold every read" "$(awk 'NR > 1 { s += $2 } END { print s }' $module/devices/nbd0/latency)" 500
is "the module's ops add both up" "$(column read 2 $module/stat/ops) $(column write 2 $module/stat/ops)" "500 100"
is "volumes agrees" "$(./dmp stat)" "$(volumes 500 4096 100 65536 600 14336)"
is "dmp check: correct" "$(./dmp check | tail -1)" correct
is "each device's stat matches the kernel's counters since its baseline" \
    "$(paste $module/devices/nbd0/stat /sys/block/nbd0/stat $module/devices/nbd0/baseline | awk '{ print $1, $18 - $35 }')" "500 500"

ok "the textfile catches up within its interval" wait_for_long grep -q 'dmp_requests_total{device="nbd0",operation="read"} 500' /tmp/dmp.prom
is "/metrics over HTTP has them at once" "$(curl -sS -f $metrics | grep '^dmp_requests_total{device="nbd0",operation="read"} ')" 'dmp_requests_total{device="nbd0",operation="read"} 500'
is "/metrics is stat/metrics but for the allocation count" "$(curl -sS -f $metrics | grep -v '^dmp_allocated_bytes_total ')" "$(grep -v '^dmp_allocated_bytes_total ' $module/stat/metrics)"
ok "dmp stat --device nbd1 --json" eval "./dmp stat --device nbd1 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[\"operations\"][\"write\"][\"sizes\"][\"65536\"] == 100'"

ok "reset nbd0 alone" eval "echo 1 > $module/devices/nbd0/reset"
is "nbd0 is zero" "$(column read 2 $module/devices/nbd0/ops)" 0
is "nbd1 is untouched" "$(column write 2 $module/devices/nbd1/ops)" 100
ok "more reads on a" dd if=/dev/mapper/a of=/dev/null bs=4k count=3 iflag=direct status=none
is "counted from nbd0's reset" "$(column read 2 $module/devices/nbd0/ops)" 3
is "dmp check: still correct" "$(./dmp check | tail -1)" correct

read -r daemon </run/dmp/dmp.pid
ok "kill -9 of the daemon" eval "kill -KILL $daemon && wait_for eval '! kill -0 $daemon 2>/dev/null'"
fails "nothing answers on the metrics port" curl -sS -f -m 5 $metrics
like "dmp load takes over, with its metrics listener" "$(./dmp load)" "metrics on tcp:127.0.0.1:10810"
is "/metrics answers again, with the counts kept" "$(curl -sS -f $metrics | grep '^dmp_requests_total{device="nbd1",operation="write"} ')" 'dmp_requests_total{device="nbd1",operation="write"} 100'
ok "remove the dm devices" eval "dmsetup remove a && dmsetup remove b"
is "refcnt is back to 0" "$(cat $module/refcnt)" 0
ok "unload" ./dmp unload
fails "the textfile went with it" test -e /tmp/dmp.prom
fails "and the metrics listener" curl -sS -f -m 5 $metrics

done_testing
