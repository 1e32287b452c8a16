#!/usr/bin/env bash
# The daemon dies (kill -9) and a new `dmp load` takes its devices over, on a real kernel:
# while idle, ten times under a verified fio run and an ext4 writer (and `dmp restart`
# replaces it, twice under the same load with the binary replaced between), during a flush and
# during a large read's reply, after the kernel's request timer ran out, after the
# reattach timeout ran out; what must come back (memory contents, counters, fault rules,
# listeners, the metrics textfile, the memory-pressure measures); and what must be refused
# and left alone (a daemon whose sockets live on, a stopped daemon, device table lines that
# are not a device or not ours).
#
# Cost: a request in flight when the daemon dies waits for the kernel's request timer
# (30 s) before it is sent again, so every part that kills under IO takes some 30 s
# more than its IO; the ten kills under fio and ext4 share one such wait, and the slow
# takeover (40 s) hosts the reattach-timeout part in a second dmp instance.
# guest-timeout: 1200
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

run=/run/dmp
module=$run/module
short=/run/dmp-short # a second instance, with a 5 s reattach timeout

# nap SECONDS: sleeps without starting a process (the guest starts one in some 50 ms).
exec {nap_fd}<> <(:)
nap() {
    read -rt "$1" -u "$nap_fd" || true
}

# now: the time in microseconds.
now() {
    echo "${EPOCHREALTIME/./}"
}

# seconds MICROSECONDS: as seconds with one decimal.
seconds() {
    printf '%d.%d' $(($1 / 1000000)) $(($1 % 1000000 / 100000))
}

# gone PID: succeeds once process PID has ended (within 10 s).
gone() {
    wait_for eval "! kill -0 $1 2>/dev/null"
}

# kill_daemon [RUNDIR]: kill -9 of the daemon; returns once it is gone. Sets killed to its pid.
# shellcheck disable=SC2120 # ok passes RUNDIR, which shellcheck does not see
kill_daemon() {
    read -r killed <"${1:-$run}/dmp.pid"
    kill -KILL "$killed" && gone "$killed"
}

# stopped PID: succeeds once every thread of PID is stopped (state T), within 2 s.
stopped() {
    local stat line i
    for ((i = 0; i < 2000; i++)); do
        for stat in /proc/"$1"/task/*/stat; do
            read -r line <"$stat" 2>/dev/null || continue # a thread that ended
            [[ "${line##*) }" == T* ]] || { nap 0.001 && continue 2; }
        done
        return 0
    done
    return 1
}

# kill_sending DEV: kill -9 of the daemon while it is in the middle of sending the reply to a read
# on DEV. The daemon is stopped (SIGSTOP) before it is looked at, so that what is seen still holds
# when the kill lands: a stopped daemon sends nothing more. A thread stopped in sendmsg either left
# it part way, which it does once it must wait for room in the socket, or had just sent all of it;
# in the first case the kernel still waits for the rest of the reply, so the read stays in flight
# and is not completed for as long as the daemon is stopped (50 ms here). If not, the daemon goes on
# (SIGCONT) for a moment, 0 to 50 ms drawn anew each time so as not to keep step with the reads, and
# is looked at again, for up to 120 s; fails if it never caught a reply part way (and kills it all
# the same). Returns once it is gone.
kill_sending() {
    local task call pause reads before after seen=1 deadline=$((${EPOCHREALTIME/./} + 120000000))
    read -r killed <"$run/dmp.pid"
    while ((seen && ${EPOCHREALTIME/./} < deadline)); do
        kill -STOP "$killed"
        stopped "$killed" || diag "a thread of the daemon did not stop within 2 s"
        for task in /proc/"$killed"/task/*; do
            if ! read -r call _ <"$task/syscall" 2>/dev/null || [[ $call != 46 ]]; then continue; fi
            read -r before _ <"/sys/block/$1/stat"
            nap 0.05
            read -r reads _ <"/sys/block/$1/inflight"
            read -r after _ <"/sys/block/$1/stat"
            ((reads == 1 && after == before)) && seen=0
            break
        done
        printf -v pause '0.%03d' $((RANDOM % 50))
        ((seen == 0)) || { kill -CONT "$killed" && nap "$pause"; }
    done
    kill -KILL "$killed"
    while kill -0 "$killed" 2>/dev/null; do nap 0.01; done
    return "$seen"
}

# set_wmem_default BYTES: the send buffer of sockets made from now on.
set_wmem_default() {
    echo "$1" >/proc/sys/net/core/wmem_default
}

# sockets_kept: succeeds when no daemon logged that the kernel ended one of its connections,
# and status shows 2 sockets for every device; shows what is amiss if not.
sockets_kept() {
    ! grep 'the kernel ended the connection' "$run/dmp.log" && ! ./dmp status | awk '/^nbd/ && $5 != 2'  | grep .
}

# in_flight DEV: the requests the kernel has in flight on DEV.
in_flight() {
    local reads writes
    read -r reads writes <"/sys/block/$1/inflight"
    echo $((reads + writes))
}

# completed DEV: the reads and writes the kernel has completed on DEV.
completed() {
    local -a fields
    read -ra fields <"/sys/block/$1/stat"
    echo $((fields[0] + fields[4]))
}

# no_io_errors: succeeds when the kernel logged no I/O error and no file system error
# since the last `dmesg -C` (and prints what it did log if not).
no_io_errors() {
    ! kernel_log | grep -E 'I/O error|EXT4-fs error|Aborting journal|Remounting filesystem read-only|shutting down sockets'
}

# reattached SIZE DEV...: what a load that takes DEV... (memory backings of SIZE bytes) over prints.
reattached() {
    local size=$1 dev
    shift
    for dev; do echo "$dev: re-attached (memory, $size bytes)"; done
}

# io_flushers PID: succeeds when every thread of PID is an I/O flusher (PR_SET_IO_FLUSHER:
# PF_MEMALLOC_NOIO 0x80000 and PF_LOCAL_THROTTLE 0x100000 in the flags, field 9 of its
# stat) and says how many threads; names the first that is not.
io_flushers() {
    local stat line threads=0
    local -a fields
    for stat in /proc/"$1"/task/*/stat; do
        line=$(<"$stat")
        read -ra fields <<<"${line##*) }" # after the command name, which may hold spaces: field 3 on
        if (((fields[6] & 0x180000) != 0x180000)); then
            printf '%s: flags 0x%x\n' "$stat" "${fields[6]}"
            return 1
        fi
        threads=$((threads + 1))
    done
    echo "$threads threads"
    ((threads > 1))
}

# memory_locked PID: succeeds when PID has locked memory (VmLck in its status above 0).
memory_locked() {
    local kib
    kib=$(sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$1/status")
    echo "VmLck: $kib kB"
    ((kib > 0))
}

# memory_pressure_measures WHEN: the three measures on the running daemon, as three tests.
memory_pressure_measures() {
    local pid
    pid=$(cat "$run/dmp.pid")
    [[ -n $pid ]] || diag "$run/dmp.pid is empty: $(ls -l --time-style=+%T.%N "$run/dmp.pid")"
    ok "$1: every thread of the daemon (pid $pid) is an I/O flusher" io_flushers "$pid"
    ok "$1: its memory is locked" memory_locked "$pid"
    is "$1: its oom_score_adj is -1000" "$(cat "/proc/$pid/oom_score_adj")" -1000
}

# check_verdict: runs `dmp check` and prints "correct" when it says so; "explained" when it
# lists only surpluses (dmp counted more, never fewer) that sum to no more than the requests
# in flight at the takeovers (the sum of devices/*/inflight_at_takeover), and ends saying so
# with that number; otherwise "wrong". Then the output of dmp check, and the sum.
check_verdict() {
    local out status=0 at_takeover=0 file line surplus=0 verdict=explained
    out=$(./dmp check 2>&1) || status=$?
    for file in "$module"/devices/*/inflight_at_takeover; do
        at_takeover=$((at_takeover + $(<"$file")))
    done
    local -a lines
    mapfile -t lines < <(printf '%s\n' "$out" | tail -n +10)
    if ((status == 0)) && [[ ${lines[*]} == correct ]]; then
        verdict=correct
    elif ((status == 0 || ${#lines[@]} < 2)) || [[ ${lines[-1]} != "$at_takeover requests were in flight when a socket was replaced (a new daemon took over, or the kernel gave one up): those counted but not answered on the old socket were sent again, and counted twice" ]]; then
        verdict=wrong
    else
        for line in "${lines[@]:0:${#lines[@]}-1}"; do
            if [[ $line =~ ^(reads|writes|discards|flushes):\ dmp\ ([0-9]+),\ kernel\ ([0-9]+)$ ]] &&
                ((BASH_REMATCH[2] > BASH_REMATCH[3])); then
                surplus=$((surplus + BASH_REMATCH[2] - BASH_REMATCH[3]))
            elif ! [[ $line =~ ^(read|write|discard)\ sectors:\ dmp\ ([0-9]+),\ kernel\ ([0-9]+)$ ]] ||
                ((BASH_REMATCH[2] <= BASH_REMATCH[3])); then
                verdict=wrong
            fi
        done
        ((surplus <= at_takeover)) || verdict=wrong
    fi
    printf '%s\n%s\n%s\n' "$verdict" "$out" "in flight at the takeovers: $at_takeover, surplus: $surplus"
}

# assert_check WHEN: `dmp check` is correct, or explained by the requests in flight at the takeovers.
assert_check() {
    local result
    result=$(check_verdict)
    like "$1: dmp check says correct, or explains its surplus by the requests in flight at the takeovers" "${result%%$'\n'*}" '^(correct|explained)$'
    diag "dmp check (verdict, output, sums):
$result"
}

# fio_results: from /tmp/fio.json, the largest error of fio's jobs, the writes and verifying reads
# they did, and the longest a request took in ms; "unreadable" if it is not there.
fio_results() {
    # fio puts its notes ("fio: ...") before the JSON in the same file.
    python3 -c '
import json
text = open("/tmp/fio.json").read()
jobs = json.loads(text[text.index("{"):])["jobs"]
print(max(abs(job["error"]) for job in jobs), sum(job["write"]["total_ios"] for job in jobs),
      sum(job["read"]["total_ios"] for job in jobs),
      round(max(job[d]["clat_ns"]["max"] for job in jobs for d in ("read", "write")) / 1e6))' 2>/dev/null || {
        echo "unreadable"
        diag "/tmp/fio.json: $(head -c 500 /tmp/fio.json)"
    }
}

nl=$'\n'

# ---- idle: what comes back, and the memory-pressure measures ----
is "load two memory devices, with an NBD socket and a metrics textfile" \
    "$(./dmp load memory memory --size 256M --listen unix:/tmp/dmp.sock --metrics-textfile /tmp/dmp.prom)" "nbd0: memory, 268435456 bytes
nbd1: memory, 268435456 bytes
listening on unix:/tmp/dmp.sock"
status=$(./dmp status)
like "status: every thread an I/O flusher, memory locked, oom_score_adj -1000" "$status" \
    $'\nmemory pressure: every thread an I/O flusher, memory locked, oom_score_adj -1000\n'
like "status: the reattach timeout, 5 minutes by default" "$status" $'\nreattach timeout: 300s '
memory_pressure_measures "loaded"

ok "4 MiB of random data" dd if=/dev/urandom of=/tmp/random4 bs=1M count=4 status=none
ok "... written to nbd0 at 8 MiB" dd if=/tmp/random4 of=/dev/nbd0 bs=64k seek=128 oflag=direct status=none
is "a fault rule on nbd1: reads of its 4 KiB at 1 MiB fail" "$(./dmp fault add nbd1 op=read offset=1M length=4K error=EIO)" \
    "nbd1: rule 1: op=read offset=1048576 length=4096 error=EIO"
fails "... and does" dd if=/dev/nbd1 of=/dev/null bs=4k skip=256 count=1 iflag=direct status=none
volumes_before=$(cat $module/stat/volumes)
ops_before=$(cat $module/devices/nbd0/ops $module/devices/nbd1/ops)
ok "the metrics textfile is there" test -s /tmp/dmp.prom
pid=$(cat $run/dmp.pid)

ok "kill -9 of the idle daemon" kill_daemon
is "load takes both devices over, and listens again" "$(./dmp load)" "$(reattached 268435456 nbd0 nbd1)
listening on unix:/tmp/dmp.sock"
ok "... with a new daemon" test "$(cat $run/dmp.pid)" != "$pid"
is "volumes goes on where it was" "$(cat $module/stat/volumes)" "$volumes_before"
is "... and so do each device's ops" "$(cat $module/devices/nbd0/ops $module/devices/nbd1/ops)" "$ops_before"
is "... nothing was in flight at the takeover" "$(cat $module/devices/nbd0/inflight_at_takeover $module/devices/nbd1/inflight_at_takeover)" "0
0"
is "nbd0 holds the data written before the kill" "$(dd if=/dev/nbd0 bs=64k skip=128 count=64 iflag=direct status=none | md5sum)" "$(md5sum </tmp/random4)"
ok "3 writes to nbd1" dd if=/dev/zero of=/dev/nbd1 bs=4k count=3 seek=1000 oflag=direct status=none
reads_before=$(sed -n 2p <<<"$volumes_before" | tr -dc 0-9)
writes_before=$(sed -n 5p <<<"$volumes_before" | tr -dc 0-9)
is "volumes counts on from before: $((reads_before + 64)) reads, $((writes_before + 3)) writes" \
    "$(sed -n '2p;5p' $module/stat/volumes)" " reqs: $((reads_before + 64))
 reqs: $((writes_before + 3))"
like "the fault rule is still listed, under its id" "$(./dmp fault list nbd1)" $'\nnbd1 +1 +[0-9]+ +op=read offset=1048576 length=4096 error=EIO$'
fails "... and still acts" dd if=/dev/nbd1 of=/dev/null bs=4k skip=256 count=1 iflag=direct status=none
ok "... and reads beside it work" dd if=/dev/nbd1 of=/dev/null bs=4k skip=257 count=1 iflag=direct status=none
is "the NBD socket serves again: nbdinfo sees nbd0" "$(nbdinfo --size 'nbd+unix:///nbd0?socket=/tmp/dmp.sock')" 268435456
reads_now=$(awk '$1 == "read" { print $2 }' $module/devices/nbd0/ops)
ok "the metrics textfile is rewritten by the new daemon: it shows nbd0's $reads_now reads" \
    wait_for_long grep -q "^dmp_requests_total{device=\"nbd0\",operation=\"read\"} $reads_now\$" /tmp/dmp.prom
memory_pressure_measures "after a takeover"
assert_check "after an idle takeover"
ok "fault clear nbd1" ./dmp fault clear nbd1

# ---- ten kills under load: fio verifying its writes through dm-linear, and ext4 ----
sectors=$((256 * 2048))
ok "dmsetup create fio: dm-linear over nbd0" dmsetup create fio --table "0 $sectors linear /dev/nbd0 0"
ok "dmsetup create fs: dm-linear over nbd1" dmsetup create fs --table "0 $sectors linear /dev/nbd1 0"
ok "mkfs.ext4 on /dev/mapper/fs" mkfs.ext4 -q /dev/mapper/fs
mkdir -p /mnt/fs
ok "mount it" mount /dev/mapper/fs /mnt/fs

# writer: files of 64 KiB to 512 KiB of random data on the file system until /tmp/writer.stop
# exists, two in three fsynced; each file's checksum, as written, in /tmp/sums; failures in
# /tmp/writer.err; the longest a file took, in microseconds, in /tmp/writer.longest.
writer() {
    local i=0 sync started took longest=0
    while [[ ! -e /tmp/writer.stop ]]; do
        sync=conv=fsync
        ((i % 3)) || sync=conv=notrunc
        started=$(now)
        if dd if=/dev/urandom of=/mnt/fs/f$i bs=64k count=$((1 + i % 8)) $sync status=none 2>>/tmp/writer.err; then
            md5sum /mnt/fs/f$i >>/tmp/sums
        else
            echo "f$i: dd failed" >>/tmp/writer.err
        fi
        took=$(($(now) - started))
        ((took <= longest)) || longest=$took
        i=$((i + 1))
    done
    echo "$longest" >/tmp/writer.longest
}

# start_load IOPS SECONDS: with the kernel's log cleared, four fio jobs writing and verifying (crc32c)
# a quarter of /dev/mapper/fio each at IOPS per job for SECONDS (results in /tmp/fio.json), and the
# writer on /mnt/fs; 3 s later, returns. Sets start, fio_pid and writer_pid.
start_load() {
    dmesg -C
    : >/tmp/sums
    : >/tmp/writer.err
    rm -f /tmp/writer.stop
    start=$(now)
    fio --name=load --filename=/dev/mapper/fio --ioengine=libaio --direct=1 --rw=randwrite --bs=4k \
        --numjobs=4 --size=32M --offset_increment=32M --iodepth=4 --rate_iops="$1" \
        --verify=crc32c --verify_backlog=16 --verify_fatal=1 --runtime="$2" --time_based \
        --output-format=json --output=/tmp/fio.json >/tmp/fio.out 2>&1 &
    fio_pid=$!
    writer &
    writer_pid=$!
    nap 3
}

# Four fio jobs on a quarter of nbd0 each, rate-limited so that some of them have a request in
# flight at any moment and not all: a job whose request is caught by a kill waits (verify_backlog
# waits for every write before it reads them back) until the kernel sends that request again.
# The kills come every 3 s or so, all within one period of the kernel's request timer, so that
# their waits overlap; fio runs for 60 s, so that it runs through every kill on a busy machine
# too, and writes and verifies again once the waits are over.
start_load 40 60
kills=0 during=0 loads_ok=0 longest_load=0
: >/tmp/kills
while ((kills < 10)); do
    kill -0 "$fio_pid" 2>/dev/null && during=$((during + 1))
    at_kill="nbd0 $(in_flight nbd0), nbd1 $(in_flight nbd1)"
    kill_daemon "$run"
    killed_at=$(now)
    out=$(./dmp load 2>&1) || true
    loaded_at=$(now)
    [[ $out != "$(reattached 268435456 nbd0 nbd1)
listening on unix:/tmp/dmp.sock" ]] || loads_ok=$((loads_ok + 1))
    ((loaded_at - killed_at <= longest_load)) || longest_load=$((loaded_at - killed_at))
    kills=$((kills + 1))
    echo "kill $kills at $(seconds $((killed_at - start))) s, with requests in flight on $at_kill; taken over $(seconds $((loaded_at - killed_at))) s later: ${out//$nl/; }" >>/tmp/kills
    nap 1
done
kill_window=$(($(now) - start))
diag "$(cat /tmp/kills)"
is "10 kills, each while fio ran" "$during" 10
is "... each followed by a load that took both devices over" "$loads_ok" 10
fio_status=0
wait "$fio_pid" || fio_status=$?
fio_took=$(($(now) - start))
# The writer too runs on for as long as fio: files once the waits are over count as much as those during.
touch /tmp/writer.stop
is "fio exits 0" "$fio_status" 0
read -r fio_error fio_writes fio_reads fio_max_ms < <(fio_results)
is "... with err=0 in every job ($fio_writes writes, $fio_reads verifying reads)" "$fio_error" 0
ok "... having written and verified" test "$fio_writes" -gt 50 -a "$fio_reads" -gt 50
[[ ! -s /tmp/fio.out ]] || diag "fio's output: $(cat /tmp/fio.out)"
wait "$writer_pid"
files=$(wc -l </tmp/sums)
diag "longest stall: fio's longest request took $fio_max_ms ms, the ext4 writer's longest file $(seconds "$(cat /tmp/writer.longest)") s; a takeover took at most $(seconds "$longest_load") s; the kills took $(seconds "$kill_window") s and fio $(seconds "$fio_took") s in all"
ok "the longest stall is the kernel's 30 s request timer (twice for a request caught by two kills), not more: $fio_max_ms ms" \
    test "$fio_max_ms" -lt 70000
ok "the ext4 writer wrote $files files, none failed" test "$files" -gt 10 -a ! -s /tmp/writer.err
like "/dev/mapper/fs is still mounted read-write" "$(grep ' /mnt/fs ' /proc/mounts)" '^/dev/mapper/fs /mnt/fs ext4 rw[, ]'
ok "... and a new file can be created there" eval 'echo new >/mnt/fs/new && sync /mnt/fs/new'
log=$(kernel_log)
diag "the kernel's log of the kills, line by line with how often:
$(sort <<<"$log" | uniq -c)"
ok "the kernel logged no I/O error" no_io_errors
is "... and took 2 new sockets for each device at each takeover: 'reconnected socket' 40 times" \
    "$(grep -c 'block nbd[01]: reconnected socket$' <<<"$log")" 40
ok "... and kept them all" sockets_kept
ok "unmount" umount /mnt/fs
ok "fsck -n finds the file system clean" fsck.ext4 -n -f /dev/mapper/fs
ok "mount again" mount /dev/mapper/fs /mnt/fs
ok "every file reads back as written ($files checksums)" md5sum -c --quiet /tmp/sums
assert_check "after ten takeovers under load"

# ---- dmp restart under load, the binary replaced between two restarts ----
# A planned restart hands the sockets over between two requests: the kernel sees nothing, so
# nothing waits for its request timer and nothing is sent again.
mkdir -p /tmp/bin
cp ./dmp /tmp/bin/dmp
start_load 100 20
pid=$(cat $run/dmp.pid)
started=$(now)
is "dmp restart (a copy of the binary in /tmp/bin) during fio and the ext4 writer: each device handed over" \
    "$(/tmp/bin/dmp restart 2>&1)" "$(reattached 268435456 nbd0 nbd1 | sed 's/re-attached/handed over/')
listening on unix:/tmp/dmp.sock"
restart_took=$(($(now) - started))
ok "... to a new daemon" test "$(cat $run/dmp.pid)" != "$pid"
ok "... which the old one made way for" gone "$pid"
is "... running /tmp/bin/dmp" "$(readlink /proc/"$(cat $run/dmp.pid)"/exe)" /tmp/bin/dmp
nap 3
# An upgrade: the binary is replaced (by a rename, as a package manager does) by one that differs.
cp /tmp/bin/dmp /tmp/bin/dmp.new && printf 'an upgrade\n' >>/tmp/bin/dmp.new && mv /tmp/bin/dmp.new /tmp/bin/dmp
pid=$(cat $run/dmp.pid)
like "the running daemon's binary is replaced" "$(readlink /proc/"$pid"/exe)" ' \(deleted\)$'
started=$(now)
is "dmp restart of the new binary: each device handed over" \
    "$(/tmp/bin/dmp restart 2>&1)" "$(reattached 268435456 nbd0 nbd1 | sed 's/re-attached/handed over/')
listening on unix:/tmp/dmp.sock"
((restart_took >= $(now) - started)) || restart_took=$(($(now) - started))
ok "... to a daemon of the new binary" eval "cmp -s /proc/$(cat $run/dmp.pid)/exe /tmp/bin/dmp && ! cmp -s /tmp/bin/dmp ./dmp"
is "... which listens again: nbdinfo sees nbd0" "$(nbdinfo --size 'nbd+unix:///nbd0?socket=/tmp/dmp.sock')" 268435456
memory_pressure_measures "after a restart"
fio_status=0
wait "$fio_pid" || fio_status=$?
touch /tmp/writer.stop
wait "$writer_pid"
is "fio exits 0" "$fio_status" 0
read -r fio_error fio_writes fio_reads fio_max_ms < <(fio_results)
is "... with err=0 in every job ($fio_writes writes, $fio_reads verifying reads)" "$fio_error" 0
ok "... having written and verified" test "$fio_writes" -gt 1000 -a "$fio_reads" -gt 1000
[[ ! -s /tmp/fio.out ]] || diag "fio's output: $(cat /tmp/fio.out)"
diag "restart: the longer of the two took $(seconds "$restart_took") s; fio's longest request $fio_max_ms ms, the ext4 writer's longest file $(seconds "$(cat /tmp/writer.longest)") s"
ok "no request waited for the kernel's request timer: fio's longest took $fio_max_ms ms" test "$fio_max_ms" -lt 10000
files=$(wc -l </tmp/sums)
ok "the ext4 writer wrote $files files, none failed" test "$files" -gt 10 -a ! -s /tmp/writer.err
ok "every file reads back as written" md5sum -c --quiet /tmp/sums
like "/dev/mapper/fs is still mounted read-write" "$(grep ' /mnt/fs ' /proc/mounts)" '^/dev/mapper/fs /mnt/fs ext4 rw[, ]'
is "the kernel logged nothing about nbd0 and nbd1: it saw no daemon go" "$(kernel_log | grep -E 'nbd[01]|I/O error|EXT4-fs (error|warning)')" ""
ok "the daemon kept its sockets" sockets_kept
ok "sync" sync
volumes_before=$(cat $module/stat/volumes)
is "an idle restart: each device handed over" "$(./dmp restart 2>&1)" "$(reattached 268435456 nbd0 nbd1 | sed 's/re-attached/handed over/')
listening on unix:/tmp/dmp.sock"
is "volumes goes on exactly where it was" "$(cat $module/stat/volumes)" "$volumes_before"
assert_check "after three restarts"

# ---- a kill during a flush and during a large read's reply ----
dmesg -C
ok "32 MiB written to a file on ext4, not yet synced" dd if=/dev/urandom of=/mnt/fs/big bs=1M count=32 status=none
big_md5=$(md5sum </mnt/fs/big)
is "a fault rule holds nbd1's next flush in the daemon for 20 s" "$(./dmp fault add nbd1 op=flush count=1 delay=20s)" \
    "nbd1: rule 1: op=flush count=1 delay=20s"
sync /mnt/fs/big &
sync_pid=$!
ok "fsync of the file: a flush reaches the daemon and waits there" wait_for_long grep -q 'fired=1$' $module/devices/nbd1/faults
ok "... while the fsync waits" kill -0 $sync_pid
ok "kill -9 of the daemon during the flush" kill_daemon
# A socket's send buffer is where a reply waits for the kernel to take it; a signal ends a sendmsg
# only while it waits for room there. Sockets made from here on get 8 KiB, so that a 32 MiB reply
# waits again and again, and a kill cuts it short (with the usual 208 KiB, 6.1's kernel keeps up with
# the daemon, which then sends the whole reply in one go, signal or not).
wmem_default=$(</proc/sys/net/core/wmem_default)
ok "sockets made from here on have an 8 KiB send buffer" set_wmem_default 8192
is "load takes the devices over" "$(./dmp load)" "$(reattached 268435456 nbd0 nbd1)
listening on unix:/tmp/dmp.sock"
ok "fault clear nbd1: the flush sent again is not held" ./dmp fault clear nbd1

ok "32 MiB of random data written at the start of nbd0" eval 'dd if=/dev/urandom of=/tmp/random32 bs=1M count=32 status=none &&
    dd if=/tmp/random32 of=/dev/nbd0 bs=1M oflag=direct status=none'
ok "requests of up to 32 MiB on nbd0" eval 'echo 32768 >/sys/block/nbd0/queue/max_sectors_kb'
# Reads of those 32 MiB one after another, each one request, so that a reply is being sent most of the
# time: the kill catches one. Each read's checksum, in /tmp/read32.sums; failures in /tmp/read32.err.
rm -f /tmp/reader.stop
: >/tmp/read32.err
(
    while [[ ! -e /tmp/reader.stop ]]; do
        dd if=/dev/nbd0 bs=32M count=1 iflag=direct status=none 2>>/tmp/read32.err | md5sum
    done >/tmp/read32.sums
) &
reader=$!
# Should the kill not cut a reply short all the same, it is tried again (up to 5 times) until the
# kernel says it lost a reply's rest.
kills=0 loads_ok=0
while ((kills < 5)) && ! kernel_log | grep -q 'block nbd0: Receive data failed'; do
    kills=$((kills + 1))
    kill_sending nbd0 || diag "kill $kills: the daemon was never caught part way through a reply"
    [[ $(./dmp load) != "$(reattached 268435456 nbd0 nbd1)
listening on unix:/tmp/dmp.sock" ]] || loads_ok=$((loads_ok + 1))
done
is "kill -9 of the daemon while it sends the reply to a 32 MiB read ($kills kills), each followed by a load that took the devices over" \
    "$loads_ok" "$kills"
like "the kernel lost the rest of a reply" "$(kernel_log)" 'block nbd0: Receive data failed \(result -[0-9]+\)'
sync_status=0
wait $sync_pid || sync_status=$?
is "the fsync completes, and succeeds" "$sync_status" 0
ok "the 32 MiB read cut short is sent again, and the reads go on" retry 600 eval 'test "$(wc -l </tmp/read32.sums)" -gt 2'
touch /tmp/reader.stop
wait $reader
ok "sockets made from here on have the usual send buffer again ($wmem_default bytes)" set_wmem_default "$wmem_default"
is "every 32 MiB read succeeded" "$(cat /tmp/read32.err)" ""
is "... with the data that was written: $(wc -l </tmp/read32.sums) reads" "$(sort -u /tmp/read32.sums)" "$(md5sum </tmp/random32)"
ok "the kernel's caches dropped" eval 'echo 3 >/proc/sys/vm/drop_caches'
is "the 32 MiB file reads back as written" "$(md5sum </mnt/fs/big)" "$big_md5"
log=$(kernel_log)
diag "the kernel's log:
$log"
ok "the kernel logged no I/O error" no_io_errors
like "the flush and the read were sent again when the kernel's request timer ran out" "$log" 'block nbd[01]: Connection timed out, retrying \(2/2 alive\)'
ok "the daemon kept its sockets" sockets_kept
assert_check "after a kill during a flush and a large read"

# ---- a takeover after the kernel's request timer ran out; meanwhile a 5 s reattach timeout elsewhere ----
dmesg -C
ok "16 MiB of random data" dd if=/dev/urandom of=/tmp/random16 bs=1M count=16 status=none
# A read held in the daemon is surely in flight at the kill (the rule, kept, holds it again when it is
# sent anew: 5 s more); IO sent after the kill waits for a new daemon.
is "a fault rule holds nbd0's next read in the daemon for 5 s" "$(./dmp fault add nbd0 op=read count=1 delay=5s)" \
    "nbd0: rule 1: op=read count=1 delay=5s"
dd if=/dev/nbd0 of=/tmp/late-read bs=64k count=1 skip=320 iflag=direct status=none &
late_held=$!
ok "... which a read waits out" wait_for grep -q 'fired=1$' $module/devices/nbd0/faults
ok "kill -9 of the daemon while it holds the read" kill_daemon
late_killed=$(now)
dd if=/tmp/random16 of=/dev/nbd0 bs=1M oflag=direct status=none &
late_writer=$!
dd if=/dev/nbd1 of=/dev/null bs=4k count=1 iflag=direct status=none &
late_reader=$!

# Meanwhile, a second dmp instance whose devices wait only 5 s for a new daemon.
is "a second instance, with a 5 s reattach timeout" "$(./dmp load --run-dir $short memory --size 16M --reattach-timeout 5s)" \
    "nbd2: memory, 16777216 bytes"
like "status says so" "$(./dmp status --run-dir $short)" $'\nreattach timeout: 5s '
ok "its daemon is killed" kill_daemon $short
start=$(now)
fails_saying "IO on its device waits, then fails" "... with EIO" "Input/output error" \
    dd if=/dev/nbd2 of=/dev/null bs=4k count=1 iflag=direct status=none
waited=$(($(now) - start))
ok "... after about 5 s ($(seconds $waited) s)" test "$waited" -ge 4500000 -a "$waited" -lt 15000000
start=$(now)
fails "... and so does the next" dd if=/dev/nbd2 of=/dev/null bs=4k count=1 iflag=direct status=none
ok "... at once ($(seconds $(($(now) - start))) s)" test "$(($(now) - start))" -lt 2000000
is "a later load still takes its device over" "$(./dmp load --run-dir $short)" "$(reattached 16777216 nbd2)"
ok "... and IO flows again" dd if=/dev/nbd2 of=/dev/null bs=4k count=1 iflag=direct status=none
like "... still with a 5 s reattach timeout" "$(./dmp status --run-dir $short)" $'\nreattach timeout: 5s '

while (($(now) - late_killed < 40000000)); do nap 0.5; done
ok "40 s after the kill, the read held at the kill still waits, not failed" kill -0 $late_held
ok "... and so do the write and the read sent after the kill" kill -0 $late_writer $late_reader
is "load takes the devices over" "$(./dmp load)" "$(reattached 268435456 nbd0 nbd1)
listening on unix:/tmp/dmp.sock"
late_status=0
wait $late_held || late_status=$?
is "the read held at the kill completes, and succeeds" "$late_status" 0
is "... with the data written there" "$(md5sum </tmp/late-read)" "$(dd if=/tmp/random32 bs=64k count=1 skip=320 status=none | md5sum)"
ok "fault clear nbd0" ./dmp fault clear nbd0
late_status=0
wait $late_writer || late_status=$?
is "the write completes, and succeeds" "$late_status" 0
late_status=0
wait $late_reader || late_status=$?
is "the read completes, and succeeds" "$late_status" 0
is "nbd0 holds the 16 MiB" "$(dd if=/dev/nbd0 bs=1M count=16 iflag=direct status=none | md5sum)" "$(md5sum </tmp/random16)"
log=$(kernel_log)
diag "the kernel's log:
$log"
like "the held read was sent again once the kernel's request timer ran out" "$log" 'block nbd0: Connection timed out, retrying \([0-2]/2 alive\)'
ok "the daemon kept its sockets" sockets_kept
ok "nbd0 and nbd1 logged no I/O error" eval "! kernel_log | grep -E 'nbd[01]|dm-' | grep -E 'I/O error|shutting down'"
like "nbd2's reads failed once its 5 s were up" "$log" 'I/O error, dev nbd2, sector 0 '
assert_check "after a takeover slower than the request timer"

ok "unmount" umount /mnt/fs
ok "fsck -n finds the file system clean" fsck.ext4 -n -f /dev/mapper/fs
ok "dmsetup remove fio fs" dmsetup remove fio fs
ok "unload after all these takeovers" ./dmp unload
ok "... which removed the run directory" test ! -e $run

# ---- the old daemon's sockets still open: the kernel keeps them and refuses new ones ----
gcc -Wall -Werror -o /tmp/hold-sockets tests/vm/tools/hold-sockets.c
is "load" "$(./dmp load memory --size 16M)" "nbd0: memory, 16777216 bytes"
ok "16 MiB written to nbd0" dd if=/tmp/random16 of=/dev/nbd0 bs=1M oflag=direct status=none
/tmp/hold-sockets "$(cat $run/dmp.pid)" >/tmp/held 2>&1 &
holder=$!
ok "another process takes copies of the daemon's sockets (pidfd_getfd)" wait_for grep -q '^holding [0-9]* sockets$' /tmp/held
diag "$(cat /tmp/held)"
is "attach a device, after the copies were taken" "$(./dmp attach memory --size 16M)" "nbd1: memory, 16777216 bytes"
ok "kill -9 of the daemon" kill_daemon
out=$(./dmp load 2>&1)
diag "load: $out"
like "load takes nbd1 over" "$out" "(^|$nl)nbd1: re-attached \(memory, 16777216 bytes\)(\$|$nl)"
like "... and says in one line that it left nbd0 alone" "$out" "(^|$nl)nbd0: left alone \(see $run/dmp.log\)(\$|$nl)"
is "... two lines in all" "$(wc -l <<<"$out")" 2
like "the log says why" "$(cat $run/dmp.log)" "nbd0: not taken over, left as it is: nbd0: the kernel keeps the old daemon's sockets, which are still open: is that daemon stopped rather than gone\?"
is "nbd0 is still connected, at its size" "$(cat /sys/block/nbd0/size)" 32768
is "... still ours" "$(cat /sys/block/nbd0/backend)" "dmp:$run"
like "... and still in the device table" "$(cat $run/devices)" $'(^|\n)nbd0\t16777216\tmemory\t'
ok "IO on nbd1 flows" dd if=/dev/nbd1 of=/dev/null bs=4k count=1 iflag=direct status=none
ok "the process holding the old sockets is killed" kill "$holder"
wait "$holder" || true
ok "kill -9 of the new daemon" kill_daemon
is "load now takes both over" "$(./dmp load | sort)" "$(reattached 16777216 nbd0 nbd1)"
is "nbd0 holds its 16 MiB" "$(dd if=/dev/nbd0 bs=1M count=16 iflag=direct status=none | md5sum)" "$(md5sum </tmp/random16)"
ok "status lists both, with 2 sockets each" sockets_kept

pid=$(cat $run/dmp.pid)
ok "SIGSTOP to the daemon" kill -STOP "$pid"
fails_saying "load refuses while it is stopped" "... with File exists: its pid lock is held" \
    "^dmp: could not load module dmp: File exists \(the daemon runs as pid $pid\)$" ./dmp load
ok "SIGCONT" kill -CONT "$pid"
ok "... and it serves on" dd if=/dev/nbd0 of=/dev/null bs=4k count=1 iflag=direct status=none

# ---- device table lines that are not a device, or not ours ----
ok "kill -9 of the daemon" kill_daemon
printf 'not a device at all\nnbd2\t16777216\tmemory\t-\tnone\t2\nnbd5\t16777216\tmemory\t-\tnone\t2\n' >>$run/devices
diag "the device table, edited:
$(cat $run/devices)"
short_pid=$(cat $short/dmp.pid)
is "load takes over its own devices and no other" "$(./dmp load | sort)" "$(reattached 16777216 nbd0 nbd1)"
log=$(cat $run/dmp.log)
like "the log names the line that is not a device" "$log" "$run/devices:3: not a device: 'not a device at all': left alone"
like "... and nbd2, served by the other instance" "$log" "nbd2: not taken over: it is no longer ours \(its backend is 'dmp:$short'\), so it is left alone and no longer listed"
like "... and nbd5, served by nobody" "$log" "nbd5: not taken over: it is no longer ours \(its backend is ''\), so it is left alone and no longer listed"
is "the device table lists our two devices only" "$(cut -f1 $run/devices | sort)" "nbd0
nbd1"
is "the other instance's daemon runs on" "$(cat $short/dmp.pid)" "$short_pid"
ok "... and its device serves IO" dd if=/dev/nbd2 of=/dev/null bs=4k count=1 iflag=direct status=none
like "... on its 2 sockets" "$(./dmp status --run-dir $short)" "nbd2 +16777216 +memory +- +2 "
is "nbd5 is still free" "$(cat /sys/block/nbd5/size)" 0
ok "unload" ./dmp unload
ok "unload the other instance" ./dmp unload --run-dir $short

done_testing
