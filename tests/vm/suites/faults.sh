#!/usr/bin/env bash
# Fault rules and the request trace on a real kernel: what the kernel's nbd client, the block
# layer, an application and ext4 make of the errors, delays, dropped writes and corrupted reads
# that dmp injects; the trace against the statistics; rules refused; a request delayed past the
# kernel's timer on a device of two sockets (the socket the kernel gives up is replaced), and on
# both of them (both are); a disconnect from outside, which is not undone; and an unload while
# requests wait out a delay and a trace reader waits for lines.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

module=/run/dmp/module
nbd0=$module/devices/nbd0

# read_at OFFSET LENGTH: reads LENGTH bytes at byte OFFSET of nbd0 with O_DIRECT, as one request.
read_at() {
    dd if=/dev/nbd0 of=/dev/null bs="$2" skip="$1" count=1 iflag=direct,skip_bytes status=none
}

# start_trace FILE ARGUMENTS...: `dmp trace ARGUMENTS` in the background, writing to FILE, with
# SIGINT at its default (a background job of a script ignores it); sets trace_pid, and returns
# once the reader has its trace file open, so that it sees every request from then on.
start_trace() {
    local file=$1
    shift
    env --default-signal=INT ./dmp trace "$@" >"$file" &
    trace_pid=$!
    wait_for eval "ls -l /proc/$trace_pid/fd 2>/dev/null | grep -q '/trace\$'"
}

# stop_trace PID: Ctrl-C for a trace reader; succeeds when it has ended within 5 s.
stop_trace() {
    kill -INT "$1" && retry 50 eval "! kill -0 $1 2>/dev/null"
}

# ended PID: succeeds when process PID ends within 10 s.
ended() {
    wait_for eval "! kill -0 $1 2>/dev/null"
}

# lines FILE: how many lines FILE has.
lines() {
    wc -l <"$1"
}

# log_after N: dmp.log past its first N lines (a device's name comes back once it is detached).
log_after() {
    tail -n +$(($1 + 1)) /run/dmp/dmp.log
}

# attach_two_sockets: attaches a memory device served on two sockets, as a test; sets nbd to its name.
attach_two_sockets() {
    local attached
    attached=$(./dmp attach memory --size 64M --connections 2)
    nbd=$(grep -o 'nbd[0-9]*' <<<"$attached" | head -1)
    ok "attach a memory device on two sockets: $nbd" test -n "$nbd"
}

# serves_both_sockets: three tests: nbd has a receiver thread for each of its two sockets, both
# answer fio's reads, and the kernel says nothing of its sockets meanwhile.
serves_both_sockets() {
    is "... and serves both sockets again: a receiver thread each" \
        "$(cat /proc/"$(cat /run/dmp/dmp.pid)"/task/*/comm | grep -c "^$nbd\\(\\.1\\)\\? receiver")" 2
    dmesg -C
    ok "... which both serve: 4 jobs of reads at once, for 2 s, every one answered" \
        fio --output=/tmp/both-sockets.txt --ioengine=libaio --direct=1 --filename="/dev/$nbd" --name=both --rw=randread --bs=4k \
        --iodepth=16 --numjobs=4 --size=64M --time_based --runtime=2
    is "... and the kernel said nothing of its sockets" "$(kernel_log)" ""
}

# check_nbd: `dmp check` of nbd, shown; sets check (what it printed), check_status, and dmp_reads
# and kernel_reads from its line of reads (empty when the two agree).
check_nbd() {
    check=$(./dmp check "$nbd") && check_status=0 || check_status=$?
    diag "dmp check $nbd: $check"
    read -r dmp_reads kernel_reads < <(sed -nE 's/^reads: dmp ([0-9]+), kernel ([0-9]+)$/\1 \2/p' <<<"$check")
}

# has_lines FILE N: succeeds when FILE has N lines or more.
has_lines() {
    (($(lines "$1") >= $2))
}

ok "load a memory device served on one socket" ./dmp load memory --size 64M --connections 1
like "status: nbd0 has one connection" "$(./dmp status)" "nbd0 +67108864 +memory +- +1 +inline"

# ---- 1. EIO on reads ----
is "fault add nbd0 op=read offset=1M length=64K error=EIO" "$(./dmp fault add nbd0 op=read offset=1M length=64K error=EIO)" "nbd0: rule 1: op=read offset=1048576 length=65536 error=EIO"
is "the faults file lists it" "$(cat $nbd0/faults)" "1 op=read offset=1048576 length=65536 error=EIO fired=0"
ok "reset nbd0's counters" eval "echo 1 > $nbd0/reset"
ok "a trace reader on nbd0" start_trace /tmp/trace1 --device nbd0
trace1=$trace_pid
dmesg -C
fails_saying "a direct read inside the range fails" "... with an I/O error" "Input/output error" read_at 1M 4K
fails "... and one at the end of the range" read_at $((1024 * 1024 + 60 * 1024)) 4K
fails "... and one that overlaps its start" read_at $((1024 * 1024 - 4096)) 8K
ok "a read just before the range succeeds" read_at $((1024 * 1024 - 4096)) 4K
ok "... and one just past it" read_at $((1024 * 1024 + 64 * 1024)) 4K
ok "... and one far from it" read_at 0 4K
log=$(kernel_log)
diag "the kernel's log of the three failed reads:
$log"
is "the nbd client logs each error reply: 'block nbd0: Other side returned error (5)'" \
    "$(grep -c '^block nbd0: Other side returned error (5)$' <<<"$log")" 3
like "the block layer logs the failed request" "$log" \
    "I/O error, dev nbd0, sector 2048 op 0x0:\(READ\) flags 0x[0-9a-f]+ phys_seg 1 prio class [0-9]+"
is "ops: 6 reads, 3 of them errors" "$(column read 2 $nbd0/ops) $(column read 4 $nbd0/ops)" "6 3"
like "fault list: the rule fired 3 times" "$(./dmp fault list)" $'^DEVICE +ID +FIRED +RULE\nnbd0 +1 +3 +op=read offset=1048576 length=65536 error=EIO$'
is "... as the faults file says" "$(cat $nbd0/faults)" "1 op=read offset=1048576 length=65536 error=EIO fired=3"
ok "the trace has all 6 reads" wait_for has_lines /tmp/trace1 6
ok "Ctrl-C ends the trace reader" stop_trace "$trace1"
is "the trace: the failed reads with EIO and rule 1, the others with 0 and no rule" \
    "$(awk '{ print $2, $4, $5, $6, $9, $10 }' /tmp/trace1)" "nbd0 read 1048576 4096 EIO 1
nbd0 read 1110016 4096 EIO 1
nbd0 read 1044480 8192 EIO 1
nbd0 read 1044480 4096 0 -
nbd0 read 1114112 4096 0 -
nbd0 read 0 4096 0 -"
like "... each line: time, device, connection, operation, offset, length, flags, latency, result, rule" \
    "$(head -1 /tmp/trace1)" '^[0-9]{10}\.[0-9]{6} nbd0 0 read 1048576 4096 - [0-9]+ EIO 1$'
dmesg -C
fails "a buffered read inside the range fails too" dd if=/dev/nbd0 of=/dev/null bs=4k skip=256 count=1 status=none
log=$(kernel_log)
diag "the kernel's log of the buffered read:
$log"
like "... and the page cache logs a Buffer I/O error" "$log" "Buffer I/O error on dev nbd0, logical block 256, async page read"
ok "clear the rule" ./dmp fault clear nbd0 1
ok "the range reads again" read_at 1M 64K
like "fault list: no rules, the header stays" "$(./dmp fault list)" '^DEVICE +ID +FIRED +RULE$'

# ---- 2. ENOSPC on writes ----
is "fault add nbd0 op=write error=ENOSPC" "$(./dmp fault add nbd0 op=write error=ENOSPC)" "nbd0: rule 2: op=write error=ENOSPC"
dmesg -C
fails_saying "a direct write fails" "... and the application sees EIO, not ENOSPC" \
    "^dd: error writing '/dev/nbd0': Input/output error" dd if=/dev/zero of=/dev/nbd0 bs=4k count=1 oflag=direct status=none
log=$(kernel_log)
diag "the kernel's log of the failed write:
$log"
like "the nbd client logs the server's error 28 (ENOSPC)" "$log" "block nbd0: Other side returned error \(28\)"
like "the block layer logs a failed WRITE" "$log" "I/O error, dev nbd0, sector 0 op 0x1:\(WRITE\)"
like "fault list: fired once" "$(./dmp fault list nbd0)" "nbd0 +2 +1 +op=write error=ENOSPC"
is "ops: the write counted as an error" "$(column write 2 $nbd0/ops) $(column write 4 $nbd0/ops)" "1 1"
ok "reads still work" read_at 0 4K
ok "clear nbd0's rules" ./dmp fault clear nbd0
ok "writes work again" dd if=/dev/zero of=/dev/nbd0 bs=4k count=1 oflag=direct status=none

# ---- 3. a delay holds up only the requests it matches ----
# All on nbd0's one socket: a request that held up the socket would hold up every other one.
ok "reset nbd0's counters" eval "echo 1 > $nbd0/reset"
is "fault add nbd0 op=read offset=0 length=1M delay=50ms" "$(./dmp fault add nbd0 op=read offset=0 length=1M delay=50ms)" \
    "nbd0: rule 3: op=read offset=0 length=1048576 delay=50ms"
is "fault add nbd0 op=read offset=1M length=4K delay=2s" "$(./dmp fault add nbd0 op=read offset=1M length=4K delay=2s)" \
    "nbd0: rule 4: op=read offset=1048576 length=4096 delay=2s"
ok "fio, at once for 2 s: random reads in the first MiB (slow), one read at 1 MiB (held), random reads from 8 MiB (fast)" \
    fio --output-format=json --output=/tmp/delay.json --ioengine=libaio --direct=1 --filename=/dev/nbd0 --rw=randread --bs=4k \
    --name=slow --offset=0 --size=1M --iodepth=4 --time_based --runtime=2 \
    --name=held --offset=1M --size=4k --iodepth=1 --number_ios=1 \
    --name=fast --offset=8M --size=8M --iodepth=4 --time_based --runtime=2
# Per job: completed reads; total latency (submission to completion) min and max; completion latency min and median (µs).
# (Completion latency starts when io_submit returns, which may be after dmp has the request: it can be below the delay.)
read -r slow_ios slow_min _ slow_clat_min _ held_ios held_min _ _ _ fast_ios _ fast_max _ fast_p50 < <(python3 -c '
import json, sys
jobs = {job["jobname"]: job["read"] for job in json.load(open(sys.argv[1]))["jobs"]}
for name in ("slow", "held", "fast"):
    r = jobs[name]
    lat, clat = r["lat_ns"], r["clat_ns"]
    print(r["total_ios"], *(int(x) // 1000 for x in (lat["min"], lat["max"], clat["min"], clat["percentile"]["50.000000"])), end=" ")
print()
' /tmp/delay.json || true)
diag "slow: $slow_ios reads, the fastest in $slow_min µs (completion latency $slow_clat_min µs); held: $held_ios read in $held_min µs; fast: $fast_ios reads, median $fast_p50 µs, slowest $fast_max µs"
ok "every read delayed 50 ms took 50 ms or more" test "$slow_min" -ge 50000
is "one read was held" "$held_ios" 1
ok "... for 2 s or more" test "$held_min" -ge 2000000
ok "the other reads were not held up: none took 1 s, although one read waited 2 s on the same socket" test "$fast_max" -lt 1000000
ok "... their median under 25 ms, half the shorter delay" test "$fast_p50" -lt 25000
ok "... and they did many more reads (more than 3 times as many as the delayed ones)" test "$fast_ios" -gt $((3 * slow_ios))
is "the rules fired once per delayed read" "$(./dmp fault list nbd0 | awk '$2 == 3 || $2 == 4 { print $3 }' | paste -s -d ' ')" "$slow_ios 1"
diag "nbd0's latency file:
$(cat $nbd0/latency)"
# (Buckets are bounded above in µs: a 50 ms service time lands in 65536, i.e. 32.8 to 65.5 ms.)
delayed=$(awk 'NR > 1 && ($1 == "+Inf" || $1 >= 65536) { n += $2 } END { print n + 0 }' $nbd0/latency)
ok "latency: the >= 50 ms buckets hold every delayed read ($delayed >= $slow_ios + 1)" test "$delayed" -ge $((slow_ios + 1))
is "latency: the >= 2 s buckets hold the one read delayed 2 s" "$(awk 'NR > 1 && ($1 == "+Inf" || $1 >= 2097152) { n += $2 } END { print n + 0 }' $nbd0/latency)" 1
is "latency: all reads are in the histogram" "$(awk 'NR > 1 { n += $2 } END { print n }' $nbd0/latency)" "$(column read 2 $nbd0/ops)"
is "... which counts as many as fio did" "$(column read 2 $nbd0/ops)" $((slow_ios + 1 + fast_ios))
ok "clear nbd0's rules" ./dmp fault clear nbd0
is "fault add nbd0 op=write offset=3M length=1M delay=10ms-30ms" "$(./dmp fault add nbd0 op=write offset=3M length=1M delay=10ms-30ms)" \
    "nbd0: rule 5: op=write offset=3145728 length=1048576 delay=10ms-30ms"
ok "fio: 16 random writes of 64k there, 4 at a time, each read back and verified: the delayed writes carried their data" \
    fio --output=/dev/null --ioengine=libaio --direct=1 --filename=/dev/nbd0 --name=delayed-writes \
    --rw=randwrite --bs=64k --iodepth=4 --offset=3M --size=1M --verify=crc32c --verify_fatal=1
like "fault list: each was delayed" "$(./dmp fault list nbd0)" "nbd0 +5 +16 +op=write offset=3145728 length=1048576 delay=10ms-30ms"
ok "clear nbd0's rules" ./dmp fault clear nbd0

# ---- 4. dropped writes ----
ok "pattern A and pattern B" eval "dd if=/dev/urandom of=/tmp/A bs=64k count=16 status=none && dd if=/dev/urandom of=/tmp/B bs=64k count=16 status=none"
ok "write A at 2 MiB" dd if=/tmp/A of=/dev/nbd0 bs=64k seek=32 oflag=direct status=none
is "fault add nbd0 offset=2M length=1M drop" "$(./dmp fault add nbd0 offset=2M length=1M drop)" "nbd0: rule 6: op=write offset=2097152 length=1048576 drop"
ok "write B over it with O_DIRECT: it succeeds" dd if=/tmp/B of=/dev/nbd0 bs=64k seek=32 oflag=direct status=none
like "fault list: each of the 16 writes was dropped" "$(./dmp fault list nbd0)" "nbd0 +6 +16 +op=write offset=2097152 length=1048576 drop"
ok "clear nbd0's rules" ./dmp fault clear nbd0
is "a direct read (past the page cache) finds A still" "$(dd if=/dev/nbd0 bs=64k skip=32 count=16 iflag=direct status=none | md5sum)" "$(md5sum </tmp/A)"
ok "write B again, without the rule" dd if=/tmp/B of=/dev/nbd0 bs=64k seek=32 oflag=direct status=none
is "... now B is there" "$(dd if=/dev/nbd0 bs=64k skip=32 count=16 iflag=direct status=none | md5sum)" "$(md5sum </tmp/B)"

# ---- 5. corrupted reads ----
ok "pattern C at 4 MiB" eval "dd if=/dev/urandom of=/tmp/C bs=64k count=16 status=none && dd if=/tmp/C of=/dev/nbd0 bs=64k seek=64 oflag=direct status=none"
is "fault add nbd0 offset=4M length=1M corrupt" "$(./dmp fault add nbd0 offset=4M length=1M corrupt)" "nbd0: rule 7: op=read offset=4194304 length=1048576 corrupt"
ok "read it in 16 requests of 64k" dd if=/dev/nbd0 of=/tmp/corrupt bs=64k skip=64 count=16 iflag=direct status=none
like "fault list: the rule fired 16 times" "$(./dmp fault list nbd0)" "nbd0 +7 +16 +op=read offset=4194304 length=1048576 corrupt"
ok "clear nbd0's rules" ./dmp fault clear nbd0
ok "read it again" dd if=/dev/nbd0 of=/tmp/clean bs=64k skip=64 count=16 iflag=direct status=none
is "... which is C" "$(md5sum </tmp/clean)" "$(md5sum </tmp/C)"
# cmp -l: each differing byte's position (from 1) and both values in octal.
differing=$(cmp -l /tmp/corrupt /tmp/clean || true)
is "the corrupted read differs in 16 bytes: the first of each request" "$(awk '{ print $1 }' <<<"$differing" | paste -s -d ' ')" \
    "$(for ((i = 0; i < 16; i++)); do echo $((i * 65536 + 1)); done | paste -s -d ' ')"
inverted=0
while read -r _ corrupt clean; do
    (((8#$corrupt ^ 8#$clean) == 255)) && inverted=$((inverted + 1))
done <<<"$differing"
is "... each inverted" "$inverted" 16

# ---- 6. a flakey period ----
# Adds the rule RULE... (written to nbd0's faults file, which takes no new process, so that its
# start is known to a few ms), then reads 4 KiB with O_DIRECT every 20 ms for 3.5 s; prints each
# run of equal results: the result, how many reads, and its first start and last end in seconds
# from just after the rule was added (and on stderr how long adding it took).
flakey_runs() {
    python3 - "$@" <<'EOF'
import errno, mmap, os, sys, time
fd = os.open("/dev/nbd0", os.O_RDONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
before = time.monotonic()
with open("/run/dmp/module/devices/nbd0/faults", "w") as faults:
    faults.write(" ".join(sys.argv[1:]))
added = time.monotonic()
runs = []
while time.monotonic() < added + 3.5:
    start = time.monotonic()
    try:
        os.preadv(fd, [buf], 8 << 20)
        result = "ok"
    except OSError as e:
        result = errno.errorcode[e.errno]
    end = time.monotonic()
    if runs and runs[-1][0] == result:
        runs[-1][1] += 1
        runs[-1][3] = end
    else:
        runs.append([result, 1, start, end])
    time.sleep(0.02)
print(f"{added - before:.3f}", file=sys.stderr)
for result, count, start, end in runs:
    print(result, count, f"{start - added:.2f}", f"{end - added:.2f}")
EOF
}
# within X LOW HIGH: succeeds when the number X lies from LOW to HIGH.
within() {
    awk -v x="$1" -v low="$2" -v high="$3" 'BEGIN { exit !(x >= low && x <= high) }'
}
runs=$(flakey_runs op=read up=1s down=1s error=EIO 2>/tmp/flakey.err || true)
diag "adding the rule took $(cat /tmp/flakey.err) s; runs of results (result, reads, from s, to s after that):
$runs"
is "reads with up=1s down=1s: up, down, up, down" "$(awk '{ print $1 }' <<<"$runs" | paste -s -d ' ')" "ok EIO ok EIO"
read -r _ _ down_from down_to < <(sed -n 2p <<<"$runs")
read -r _ _ up_from up_to < <(sed -n 3p <<<"$runs")
ok "... each run made of several reads" test "$(awk '$2 < 5' <<<"$runs")" = ""
ok "... the first down period starting a second after the rule was added" within "$down_from" 0.75 1.25
ok "... and lasting about a second" within "$(awk -v a="$down_from" -v b="$down_to" 'BEGIN { print b - a }')" 0.6 1.4
ok "... the up period after it too" within "$(awk -v a="$up_from" -v b="$up_to" 'BEGIN { print b - a }')" 0.6 1.4
is "fault list: the rule (written to the faults file) fired once per failed read" \
    "$(./dmp fault list nbd0 | awk '$2 == 8 { $1 = $2 = ""; print }')" "  $(awk '$1 == "EIO" { n += $2 } END { print n + 0 }' <<<"$runs") op=read up=1s down=1s error=EIO"
ok "clear nbd0's rules" ./dmp fault clear nbd0

# ---- after and count ----
is "fault add nbd0 op=read offset=12M length=4K after=2 count=3 error=EIO" \
    "$(./dmp fault add nbd0 op=read offset=12M length=4K after=2 count=3 error=EIO)" "nbd0: rule 9: op=read offset=12582912 length=4096 after=2 count=3 error=EIO"
results=()
for _ in 1 2 3 4 5 6 7; do
    if read_at 12M 4K 2>/dev/null; then results+=(ok); else results+=(EIO); fi
done
is "seven reads: 2 let through, 3 failed, then the rule is spent" "${results[*]}" "ok ok EIO EIO EIO ok ok"
like "fault list: fired 3 times" "$(./dmp fault list nbd0)" "nbd0 +9 +3 +op=read offset=12582912 length=4096 after=2 count=3 error=EIO"
ok "clear nbd0's rules" ./dmp fault clear nbd0

# ---- flushes ----
is "fault add nbd0 op=flush error=EIO" "$(./dmp fault add nbd0 op=flush error=EIO)" "nbd0: rule 10: op=flush error=EIO"
dmesg -C
fails_saying "a write with fsync fails" "... in the fsync, with an I/O error" "^dd: fsync failed for '/dev/nbd0': Input/output error" \
    dd if=/dev/zero of=/dev/nbd0 bs=4k seek=1024 count=1 conv=fsync status=none
log=$(kernel_log)
diag "the kernel's log of the failed flush:
$log"
like "the nbd client logs the error reply" "$log" "block nbd0: Other side returned error \(5\)"
like "fault list: the rule fired" "$(./dmp fault list nbd0)" "nbd0 +10 +[1-9][0-9]* +op=flush error=EIO"
ok "clear nbd0's rules" ./dmp fault clear nbd0
is "fault add nbd0 offset=0 length=1M error=EIO: any operation in that range" "$(./dmp fault add nbd0 offset=0 length=1M error=EIO)" \
    "nbd0: rule 11: op=any offset=0 length=1048576 error=EIO"
ok "a write elsewhere with fsync succeeds: a ranged rule matches no flush" dd if=/dev/zero of=/dev/nbd0 bs=4k seek=1024 count=1 conv=fsync status=none
like "fault list: the rule never fired" "$(./dmp fault list nbd0)" "nbd0 +11 +0 +op=any offset=0 length=1048576 error=EIO"
fails "a write in the range fails" dd if=/dev/zero of=/dev/nbd0 bs=4k count=1 oflag=direct status=none
ok "clear nbd0's rules" ./dmp fault clear nbd0

# ---- 7. ext4 on a disk that fails 1% of its writes ----
ok "mkfs.ext4 and mount are there" eval "command -v mkfs.ext4 && command -v mount"
ok "a RAM disk" modprobe brd rd_nr=1 rd_size=65536
ok "dmp over it" ./dmp create fs --table "0 131072 dmp /dev/ram0"
ok "mkfs.ext4, no rule yet" mkfs.ext4 -q /dev/mapper/fs
diag "$(dumpe2fs -h /dev/mapper/fs 2>/dev/null | grep -i 'errors behavior')"
mkdir -p /mnt/fs
ok "mount it" mount /dev/mapper/fs /mnt/fs
is "fault add fs (the dm device) op=write probability=1% error=EIO" "$(./dmp fault add fs op=write probability=1% error=EIO)" \
    "fs: rule 1: op=write probability=0.01 error=EIO"
dmesg -C
# Writes 400 files of 16 KiB, each with an fsync; prints how many of them failed, by errno.
written=$(python3 - <<'EOF'
import collections, errno, os
failed = collections.Counter()
for i in range(400):
    try:
        fd = os.open(f"/mnt/fs/f{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            os.write(fd, os.urandom(16384))
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        failed[errno.errorcode[e.errno]] += 1
print(sum(failed.values()), " ".join(f"{name}={n}" for name, n in sorted(failed.items())))
EOF
)
sync_status=0
sync -f /mnt/fs 2>/tmp/sync.err || sync_status=$?
log=$(kernel_log)
options=$(awk '$2 == "/mnt/fs" { print $4 }' /proc/mounts)
if touched=$(touch /mnt/fs/after 2>&1); then touched="created"; fi
diag "of 400 files written and fsynced, failed: $written; sync -f: exit status $sync_status $(cat /tmp/sync.err); mount options now: $options; a new file now: $touched
$(./dmp fault list fs)
the kernel's log ($(wc -l <<<"$log") lines), its first 25 lines:
$(head -25 <<<"$log")
the lines from ext4, jbd2 and Aborting:
$(grep -E 'EXT4-fs (error|warning|\(dm-0\))|JBD2|Aborting|remount' <<<"$log" | sort | uniq -c | sort -rn | head -15)"
like "the rule fired" "$(./dmp fault list fs)" "nbd1 +1 +[1-9][0-9]* +op=write probability=0.01 error=EIO"
like "the nbd client logged the error replies" "$log" "block nbd1: Other side returned error \(5\)"
like "ext4 or jbd2 logged them as a failing disk's errors" "$log" "(EXT4-fs (error|warning) \(device dm-0\)|JBD2: |Aborting journal on device dm-0|Buffer I/O error on dev(ice)? dm-0)"
# saw_failures: the application was told: a file's write or fsync failed, or sync -f did, or ext4 is read-only.
saw_failures() {
    [[ ${written%% *} != 0 ]] || ((sync_status)) || [[ ,$options, == *,ro,* ]]
}
ok "the application saw failures: a write or an fsync failed, or sync -f, or ext4 went read-only" saw_failures
ok "dmp stays up: status works" ./dmp status
ok "... its daemon is alive" kill -0 "$(cat /run/dmp/dmp.pid)"
ok "... and nbd0 still serves" read_at 0 64K
ok "clear the rule" ./dmp fault clear fs
ok "unmount" umount /mnt/fs
ok "remove fs" ./dmp remove fs

# ---- 8. the trace against the statistics ----
ok "no merging on nbd0" eval "echo 2 > /sys/block/nbd0/queue/nomerges"
ok "reset nbd0's counters" eval "echo 1 > $nbd0/reset"
ok "a trace reader on nbd0" start_trace /tmp/trace-text --device nbd0
text_reader=$trace_pid
ok "... and a second one, with --json" start_trace /tmp/trace-json --device nbd0 --json
json_reader=$trace_pid
ok "fio: 600 random 4k reads and writes" fio --output-format=json --output=/tmp/rw.json --ioengine=libaio --direct=1 \
    --filename=/dev/nbd0 --name=rw --rw=randrw --bs=4k --iodepth=8 --size=16M --number_ios=600
read -r fio_reads fio_writes < <(python3 -c '
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]
print(job["read"]["total_ios"], job["write"]["total_ios"])' /tmp/rw.json)
reads=$(column read 2 $nbd0/ops)
writes=$(column write 2 $nbd0/ops)
is "ops counts what fio did: $fio_reads reads and $fio_writes writes" "$reads $writes" "$fio_reads $fio_writes"
ok "the text reader gets a line for every request" wait_for has_lines /tmp/trace-text $((reads + writes))
ok "... and so does the JSON reader, at the same time" wait_for has_lines /tmp/trace-json $((reads + writes))
ok "Ctrl-C ends the text reader" stop_trace "$text_reader"
ok "... and the JSON reader" stop_trace "$json_reader"
is "the text trace: per operation, as many as ops counts, nothing else" \
    "$(awk '{ n[$4]++ } END { for (op in n) print op, n[op] }' /tmp/trace-text | sort)" "read $reads
write $writes"
is "... every one succeeded, with no rule" "$(awk '{ print $2, $9, $10 }' /tmp/trace-text | sort -u)" "nbd0 0 -"
is "the JSON lines parse: per operation, as many as ops counts" "$(python3 -c '
import collections, json, sys
n = collections.Counter()
for line in open(sys.argv[1]):
    entry = json.loads(line)
    assert entry["device"] == "nbd0" and entry["result"] == "0" and entry["rule"] is None and entry["length"] == 4096, entry
    n[entry["op"]] += 1
for op in sorted(n):
    print(op, n[op])' /tmp/trace-json 2>&1)" "read $reads
write $writes"
ok "dmp trace --count 5" start_trace /tmp/trace-5 --device nbd0 --count 5
count_reader=$trace_pid
ok "10 reads" dd if=/dev/nbd0 of=/dev/null bs=4k count=10 iflag=direct status=none
ok "... dmp trace --count 5 ends by itself" ended "$count_reader"
kill -KILL "$count_reader" 2>/dev/null || true # (if it did not: the test has failed, go on)
count_status=0
wait "$count_reader" || count_status=$?
is "... with exit status 0" "$count_status" 0
is "... having printed exactly 5 lines" "$(lines /tmp/trace-5)" 5
like "... of those reads" "$(head -1 /tmp/trace-5)" '^[0-9.]+ nbd0 0 read 0 4096 - [0-9]+ 0 -$'

# ---- a reader that falls behind loses lines, and only it ----
# (Each reader holds 16384 lines: a stopped one must lose some of 20000 requests.)
ok "reset nbd0's counters" eval "echo 1 > $nbd0/reset"
ok "a trace reader on nbd0" start_trace /tmp/trace-stopped --device nbd0
stopped_reader=$trace_pid
ok "... and a second one" start_trace /tmp/trace-live --device nbd0
live_reader=$trace_pid
ok "the first one stops reading (SIGSTOP)" kill -STOP "$stopped_reader"
ok "fio: 20000 random 4k reads" fio --output=/dev/null --ioengine=libaio --direct=1 --filename=/dev/nbd0 --name=many \
    --rw=randread --bs=4k --iodepth=16 --size=16M --io_size=80M --number_ios=20000
is "ops counts them" "$(column read 2 $nbd0/ops)" 20000
ok "the stopped reader reads again (SIGCONT)" kill -CONT "$stopped_reader"
ok "the live reader has a line for each" wait_for has_lines /tmp/trace-live 20000
ok "... and the stopped one has caught up" wait_for has_lines /tmp/trace-stopped 16385
ok "Ctrl-C ends both" eval "stop_trace $stopped_reader && stop_trace $live_reader"
# (Its read in progress when it stopped may have brought the first few lines.)
lost=$(sed -n 's/^# lost \([0-9]*\) lines$/\1/p' /tmp/trace-stopped)
like "the stopped reader got one '# lost N lines' line" "$lost" '^[0-9]+$'
is "... followed by the 16384 lines it held" "$(awk 'lost && / read / { n++ } /^# lost/ { lost = 1 } END { print n + 0 }' /tmp/trace-stopped)" 16384
is "... and N and the lines it got add up to every request" "$((lost + $(grep -c ' read ' /tmp/trace-stopped)))" 20000
is "the live reader lost nothing: 20000 reads, no other line" "$(grep -c ' read ' /tmp/trace-live) $(lines /tmp/trace-live)" "20000 20000"

# ---- 9. bad rules change nothing ----
ok "a rule to keep" ./dmp fault add nbd0 op=read offset=60M count=3 error=EPERM
before=$(./dmp fault list)
# bad_rule WHAT REASON RULE...: fault add RULE fails with exit status 1, saying REASON in one line,
# and changes nothing.
bad_rule() {
    local status=0 said
    said=$(./dmp fault add nbd0 "${@:3}" 2>&1) || status=$?
    is "$1: fault add exits 1" "$status" 1
    is "... with one line" "$(wc -l <<<"$said")" 1
    like "... saying $2" "$said" "^dmp: $2"
    is "... and fault list is unchanged" "$(./dmp fault list)" "$before"
}
bad_rule "an unknown operation" "unknown operation 'bogus'" op=bogus error=EIO
bad_rule "an unknown errno" "error=EBOGUS is not an errno name" error=EBOGUS
bad_rule "a range past the end of the device" "offset=66060288 length=2097152 is not a range within the device \(67108864 bytes\)" offset=63M length=2M error=EIO
bad_rule "an offset past the end of the device" "offset=67108864 lies past the end of the device" offset=64M error=EIO
bad_rule "probability 2" "probability=2 is not a probability" probability=2 error=EIO
bad_rule "two actions" "a rule takes exactly one action" error=EIO drop
bad_rule "no action" "a rule needs an action" op=read
fails_saying "fault clear of a rule that does not exist fails" "... saying so in one line" '^dmp: nbd0 has no rule 99$' ./dmp fault clear nbd0 99
is "... and fault list is unchanged" "$(./dmp fault list)" "$before"
fails_saying "fault add on a device dmp does not serve fails" "... saying so in one line" '^dmp: nbd3 is not a device dmp serves$' ./dmp fault add nbd3 error=EIO
fails_saying "a bad line written to the faults file fails" "... with Invalid argument" "Invalid argument" \
    eval "echo 'op=bogus error=EIO' > $nbd0/faults"
like "... and dmp.log says why" "$(tail -1 /run/dmp/dmp.log)" "nbd0/faults: 'op=bogus error=EIO' refused: unknown operation 'bogus'"
is "... and fault list is unchanged" "$(./dmp fault list)" "$before"
ok "a good line written to the faults file adds the rule" eval "echo 'op=write error=EIO' > $nbd0/faults"
like "... which fault list shows" "$(./dmp fault list)" "nbd0 +13 +0 +op=write error=EIO$"
ok "'clear' in the faults file clears them" eval "echo clear > $nbd0/faults"
is "... all" "$(cat $nbd0/faults)" ""

# ---- 10. a request that outlives the kernel's timer, on a device of two sockets ----
# The kernel gives that socket up for good and sends the request again on the other; dmp hands it a new
# socket in the old one's place, so the device keeps both.
attach_two_sockets
ok "fault add $nbd op=read offset=1M length=4K delay=35s count=1" ./dmp fault add "$nbd" op=read offset=1M length=4K delay=35s count=1
dmesg -C
seen=$(lines /run/dmp/dmp.log)
start=$(date +%s)
ok "a read held 35 s by the rule, past the kernel's 30 s timer, succeeds" \
    timeout 60 dd if="/dev/$nbd" of=/dev/null bs=4k skip=256 count=1 iflag=direct status=none
log=$(kernel_log)
diag "the read took $(($(date +%s) - start)) s; the kernel said: $log"
like "the kernel gave up the socket it was sent on" "$log" "nbd[0-9]+: Connection timed out, retrying \\([12]/2 alive\\)"
ok "dmp replaced it, and says so in its log" wait_for eval \
    "log_after $seen | grep -Eq 'dmp\\[[0-9]+\\]: $nbd(\\.1)?: replaced: the kernel took a new socket in its place\$'"
diag "dmp.log: $(log_after "$seen" | grep "$nbd")"
serves_both_sockets
ok "the read held 35 s was answered when its socket went, and counted: no request is in flight at dmp" wait_for eval \
    "[[ \$(column read 5 $module/devices/$nbd/ops) == 0 ]]"
check_nbd
is "dmp check $nbd: the read sent twice is counted twice, once by the kernel (exit status 1)" "$check_status" 1
is "... in reads and read sectors only" "$(sed -nE 's/^([a-z ]+): dmp [0-9]+, kernel [0-9]+$/\1/p' <<<"$check" | paste -s -d,)" "reads,read sectors"
is "... by one read more than the kernel counted: the one sent twice" "$((${dmp_reads:-0} - ${kernel_reads:-0}))" 1
like "... in its last line" "$(tail -1 <<<"$check")" \
    "^[0-9]+ requests were in flight when a socket was replaced \\(a new daemon took over, or the kernel gave one up\\): those counted but not answered on the old socket were sent again, and counted twice\$"
ok "detach $nbd" ./dmp detach "$nbd"

# ---- 11. a stall past the kernel's timer on every socket of a device ----
# The kernel gives every socket up and holds the reads for a new one (NBD_ATTR_DEAD_CONN_TIMEOUT, the
# reattach timeout: 5 minutes); dmp puts a new socket in each one's place, and the reads are answered.
# A read from each CPU, so that each socket (a hardware queue of its own) has one held.
attach_two_sockets
ok "fault add $nbd op=read offset=0 length=1M delay=40s count=2" ./dmp fault add "$nbd" op=read offset=0 length=1M delay=40s count=2
dmesg -C
seen=$(lines /run/dmp/dmp.log)
start=$(date +%s)
taskset -c 0 timeout 90 dd if="/dev/$nbd" of=/dev/null bs=4k skip=0 count=1 iflag=direct status=none &
first=$!
taskset -c 1 timeout 90 dd if="/dev/$nbd" of=/dev/null bs=4k skip=100 count=1 iflag=direct status=none &
second=$!
ok "a read from CPU 0, held 40 s by the rule, past the kernel's 30 s timer, succeeds" wait "$first"
ok "... and one from CPU 1" wait "$second"
took=$(($(date +%s) - start))
log=$(kernel_log)
diag "the reads took $took s; the kernel said: $log"
like "the kernel gave up both sockets" "$log" "Connection timed out, retrying \\(1/2 alive\\)"
like "... and held the reads for a new socket" "$log" "Dead connection, failed to find a fallback"
is "... which took new ones: 'reconnected socket' twice" "$(grep -c 'reconnected socket' <<<"$log")" 2
ok "the reads were answered long before the reattach timeout (5 min): within 90 s" eval "((took < 90))"
is "dmp replaced both sockets, and says so in its log" \
    "$(log_after "$seen" | grep -cE "dmp\\[[0-9]+\\]: $nbd(\\.1)?: replaced: the kernel took a new socket in its place$")" 2
diag "dmp.log: $(log_after "$seen" | grep "$nbd")"
serves_both_sockets
check_nbd
resent=$(sed -nE 's/^([0-9]+) requests were in flight when a socket was replaced .*/\1/p' <<<"$check")
# Two, unless the kernel sent one again on the other socket in the moment before it gave that one up too.
ok "dmp check $nbd: the reads sent again are counted again, once by the kernel: at least the two held" eval "((${resent:-0} >= 2))"
is "... every read dmp counted more than the kernel is one of them (exit status 1)" "$check_status/$((${dmp_reads:-0} - ${kernel_reads:-0}))" "1/${resent:-0}"
ok "detach $nbd" ./dmp detach "$nbd"

# ---- 12. a disconnect from outside is not undone ----
# The kernel sends NBD_CMD_DISC on each socket before it shuts them: dmp gives the device no new socket,
# even with a dm device holding it open (which keeps the kernel's side configured).
attach_two_sockets
ok "dmsetup create held: dm-linear over $nbd" dmsetup create held --table "0 2048 linear /dev/$nbd 0"
dmesg -C
seen=$(lines /run/dmp/dmp.log)
ok "nbd-client -d /dev/$nbd" nbd-client -d "/dev/$nbd"
ok "dmp says the device was disconnected" wait_for eval \
    "log_after $seen | grep -q 'dmp\\[[0-9]*\\]: $nbd: disconnected (the kernel sent NBD_CMD_DISC); the device no longer serves IO\$'"
sleep 1 # past the half second a socket that ended waits before it is replaced
diag "dmp.log: $(log_after "$seen" | grep "$nbd")"
is "... once" "$(log_after "$seen" | grep -c "$nbd: disconnected")" 1
is "... and gave it no new socket: no line of a replacement" "$(log_after "$seen" | grep -c "$nbd\\(\\.1\\)\\?: replaced")" 0
is "... nor did the kernel take one" "$(kernel_log | grep -c 'reconnected socket')" 0
fails "a read through the dm device fails" dd if=/dev/mapper/held of=/dev/null bs=4k count=1 iflag=direct status=none
like "status: $nbd (disconnected)" "$(./dmp status)" "$nbd \\(disconnected\\) +67108864 +memory"
ok "dmsetup remove held" dmsetup remove held
ok "detach $nbd" ./dmp detach "$nbd"

# ---- unload while requests wait out a delay and a trace reader waits for lines ----
ok "reset nbd0's counters" eval "echo 1 > $nbd0/reset"
ok "fault add nbd0 op=read delay=30s" ./dmp fault add nbd0 op=read delay=30s
fio --output=/tmp/stuck.txt --ioengine=libaio --direct=1 --filename=/dev/nbd0 --name=stuck --rw=randread --bs=4k \
    --iodepth=4 --size=1M --time_based --runtime=60 2>/tmp/stuck.err &
fio_pid=$!
ok "a trace reader on every device" start_trace /tmp/trace-unload
reader=$trace_pid
ok "4 reads are held in flight" wait_for_long eval "[[ \$(column read 5 $nbd0/ops) == 4 ]]"
is "... none answered yet" "$(column read 2 $nbd0/ops)" 0
start=$(date +%s%N)
ok "unload" timeout 20 ./dmp unload
took=$((($(date +%s%N) - start) / 1000000))
diag "unload took $took ms"
ok "... in under 10 s, not waiting out the delay" test "$took" -lt 10000
ok "the trace reader ends" ended "$reader"
kill -KILL "$reader" 2>/dev/null || true
reader_status=0
wait "$reader" || reader_status=$?
is "... with exit status 0" "$reader_status" 0
ok "fio ends" ended "$fio_pid"
kill -KILL "$fio_pid" 2>/dev/null || true
fio_status=0
wait "$fio_pid" || fio_status=$?
ok "... having seen its reads fail (exit status $fio_status)" test "$fio_status" -ne 0
like "... with I/O errors" "$(cat /tmp/stuck.err)" "fio: io_u error on file /dev/nbd0: Input/output error: read offset="
ok "nothing is left: no daemon, no run directory, nbd0 disconnected" \
    eval "! pgrep -x dmp >/dev/null && test ! -e /run/dmp && test \"\$(cat /sys/block/nbd0/size)\" = 0"

done_testing
