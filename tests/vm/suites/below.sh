#!/usr/bin/env bash
# Faults from below: the disk under a dmp device fails (dm-error, dm-flakey), its file system fills up
# (tmpfs, ext4), or it hangs (a suspended dm device, dm-delay). Each time: what the application and the
# kernel above dmp see, the errors counted in the ops files, the daemon alive, a second, healthy device
# served throughout, and unload and detach answering within their bound while requests hang.
# guest-timeout: 900
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

module=/run/dmp/module
sectors=131072 # 64 MiB

# The kernel's messages, kept whole across the `dmesg -c` of each case, for the check at the end.
all_kernel_log=/tmp/below-kernel.log
# take_kernel_log: the kernel's messages since the last call, without timestamps; clears them.
take_kernel_log() {
    kernel_log | tee -a "$all_kernel_log"
    dmesg -C
}
dmesg -C

# A stuck thread counts as hung after 45 s rather than 120: a hang of dmp's own (or of a process it
# should have freed) then shows before the suite ends. Each hang below lasts well under that.
echo 45 >/proc/sys/kernel/hung_task_timeout_secs

# errors OPERATION DEVICE: the errors counted for OPERATION on DEVICE (nbdK), or module-wide with "stat".
errors() {
    if [[ $2 == stat ]]; then column "$1" 4 "$module/stat/ops"; else column "$1" 4 "$module/devices/$2/ops"; fi
}

# daemon_alive: the daemon's process is there and answers status.
daemon_alive() {
    kill -0 "$(cat /run/dmp/dmp.pid)" && timeout 10 ./dmp status >/dev/null
}

# healthy_serves: the healthy device (nbd0) takes a MiB with O_DIRECT and gives it back, within 10 s each way
# (a device held up by another's disk would wait for as long as that hangs).
dd if=/dev/urandom of=/tmp/pattern bs=1M count=1 status=none
pattern=$(md5sum </tmp/pattern)
healthy_serves() {
    local at=$((RANDOM % 64))
    timeout 10 dd if=/tmp/pattern of=/dev/nbd0 bs=1M seek="$at" oflag=direct status=none &&
        [[ $(timeout 10 dd if=/dev/nbd0 bs=1M skip="$at" count=1 iflag=direct status=none | md5sum) == "$pattern" ]]
}

# served_nbd OUTPUT: the nbd device named in what create or attach printed.
served_nbd() {
    grep -o 'nbd[0-9]*' <<<"$1" | head -1
}

# still_running PID: process PID has not ended.
still_running() {
    kill -0 "$1" 2>/dev/null
}

# ended PID: process PID ends within 10 s.
ended() {
    wait_for eval "! kill -0 $1 2>/dev/null"
}

# exit_status PID: the exit status of background job PID, which has ended.
exit_status() {
    local status=0
    wait "$1" || status=$?
    echo "$status"
}

# threads_left PID: the threads of PID still there, a line each, with where each waits in the kernel and its stack.
threads_left() {
    local task
    for task in /proc/"$1"/task/*; do
        [[ -e $task/comm ]] && echo "$(cat "$task/comm") ($(cat "$task/wchan" 2>/dev/null)): $(head -12 "$task/stack" 2>/dev/null | awk '{ print $2 }' | paste -s -d ' ')"
    done
}

# open_count NAME: how many openers the dm device NAME has.
open_count() {
    dmsetup info -c --noheadings -o open "$1" | tr -d ' '
}

ok "two RAM disks, loop, dm-flakey, dm-delay" eval "modprobe brd rd_nr=2 rd_size=65536 && modprobe loop && modprobe dm-flakey && modprobe dm-delay"
is "load: the healthy device, on /dev/ram1" "$(./dmp load /dev/ram1)" "nbd0: /dev/ram1, 67108864 bytes"
ok "the healthy device serves" healthy_serves

# ---- 1. a disk that fails every request: dm-error ----
# How the block layer logs a failed flush, on 6.1 and 6.12 alike: as the WRITE without data that carried it.
flush_error="I/O error, dev nbd[0-9]+, sector 0 op 0x1:\(WRITE\) flags 0x[0-9a-f]+ phys_seg 0 "
ok "dm-error: dmsetup create bad" dmsetup create bad --table "0 $sectors error"
for cache in none writeback; do
    name=eio-$cache
    created=$(./dmp create "$name" --table "0 $sectors dmp /dev/mapper/bad" --cache "$cache")
    like "create $name: dmp over dm-error with --cache $cache" "$created" "^$name: dm-[0-9]+ on nbd[0-9]+ \(/dev/mapper/bad\)$"
    nbd=$(served_nbd "$created")
    take_kernel_log >/dev/null
    fails_saying "$cache: a direct read fails" "... with an I/O error" "Input/output error" \
        dd if="/dev/mapper/$name" of=/dev/null bs=4k count=1 iflag=direct status=none
    if [[ $cache == none ]]; then
        fails_saying "$cache: a direct write fails" "... with an I/O error" "error writing '/dev/mapper/$name': Input/output error" \
            dd if=/tmp/pattern of="/dev/mapper/$name" bs=4k count=1 oflag=direct status=none
        ok "$cache: a flush succeeds: dm-error has no write cache, so the block layer answers it" \
            dd if=/dev/null of="/dev/mapper/$name" conv=fsync,notrunc status=none
    else
        # The write lands in dmp's page cache of the disk, and is acknowledged; writing it back fails, and the
        # next flush (fdatasync) says so, as it would to a program writing to the disk itself.
        fails_saying "$cache: a direct write is acknowledged (it lands in dmp's page cache), and the fsync after it fails" \
            "... with an I/O error" "fsync failed for '/dev/mapper/$name': Input/output error" \
            dd if=/tmp/pattern of="/dev/mapper/$name" bs=4k count=1 oflag=direct conv=fsync status=none
    fi
    log=$(take_kernel_log)
    diag "the kernel's log:
$log"
    like "$cache: the nbd client logs the error reply: 'block $nbd: Other side returned error (5)'" "$log" "block $nbd: Other side returned error \(5\)"
    like "$cache: the block layer logs the failed read, as for a failing disk" "$log" "I/O error, dev $nbd, sector [0-9]+ op 0x0:\(READ\)"
    if [[ $cache == none ]]; then
        like "$cache: ... and the failed write" "$log" "I/O error, dev $nbd, sector [0-9]+ op 0x1:\(WRITE\)"
        is "$cache: $nbd's ops: 1 read and 1 write, each an error; no flush error" \
            "$(errors read "$nbd") $(errors write "$nbd") $(errors flush "$nbd")" "1 1 0"
    else
        like "$cache: ... and the failed flush" "$log" "$flush_error"
        is "$cache: $nbd's ops: 1 read error, no write error, 1 flush error" \
            "$(errors read "$nbd") $(errors write "$nbd") $(errors flush "$nbd")" "1 0 1"
    fi
    ok "$cache: the daemon is alive" daemon_alive
    ok "$cache: the healthy device serves" healthy_serves
    ok "remove $name" ./dmp remove "$name"
done
like "stat/ops counts the errors of both devices, removed or not: 2 reads, 1 write, 1 flush" \
    "$(errors read stat) $(errors write stat) $(errors flush stat)" "^2 1 1$"
ok "dmsetup remove bad" dmsetup remove bad

# ---- 2. a disk that fails, flushes too, and comes back: dm-flakey over a loop device ----
# (A loop device has a write cache, so flushes reach dm-flakey: while it is down it fails them as well.)
truncate -s 64M /tmp/flakey.img
loop=$(losetup -f --show /tmp/flakey.img)
up="0 $sectors flakey $loop 0 60 0"
down="0 $sectors flakey $loop 0 0 60"
ok "dm-flakey over $loop, up" dmsetup create flaky --table "$up"
for cache in none writeback; do
    name=flakey-$cache
    created=$(./dmp create "$name" --table "0 $sectors dmp /dev/mapper/flaky" --cache "$cache")
    like "create $name: dmp over dm-flakey with --cache $cache" "$created" "^$name: dm-[0-9]+ on nbd[0-9]+"
    nbd=$(served_nbd "$created")
    ok "$cache: writes and a flush succeed while the disk is up" \
        dd if=/tmp/pattern of="/dev/mapper/$name" bs=64k oflag=direct conv=fsync status=none
    ok "$cache: the disk goes down (dmsetup reload, resume)" eval "dmsetup reload flaky --table '$down' && dmsetup resume flaky"
    take_kernel_log >/dev/null
    fails_saying "$cache: a direct read fails" "... with an I/O error" "Input/output error" \
        dd if="/dev/mapper/$name" of=/dev/null bs=4k skip=1000 count=1 iflag=direct status=none
    if [[ $cache == none ]]; then
        fails_saying "$cache: a direct write fails" "... with an I/O error" "error writing '/dev/mapper/$name': Input/output error" \
            dd if=/tmp/pattern of="/dev/mapper/$name" bs=4k count=1 oflag=direct status=none
    else
        ok "$cache: a direct write is acknowledged (it lands in dmp's page cache)" \
            dd if=/tmp/pattern of="/dev/mapper/$name" bs=4k count=1 oflag=direct status=none
    fi
    fails_saying "$cache: a flush alone fails" "... with an I/O error" "fsync failed for '/dev/mapper/$name': Input/output error" \
        dd if=/dev/null of="/dev/mapper/$name" conv=fsync,notrunc status=none
    log=$(take_kernel_log)
    diag "the kernel's log:
$log"
    like "$cache: the nbd client logs the error replies" "$log" "block $nbd: Other side returned error \(5\)"
    like "$cache: the block layer logs the failed flush" "$log" "$flush_error"
    is "$cache: $nbd's ops: 1 read error, $([[ $cache == none ]] && echo 1 || echo 0) write error, 1 flush error" \
        "$(errors read "$nbd") $(errors write "$nbd") $(errors flush "$nbd")" "1 $([[ $cache == none ]] && echo 1 || echo 0) 1"
    ok "$cache: the daemon is alive" daemon_alive
    ok "$cache: the healthy device serves" healthy_serves
    ok "$cache: the disk comes back up" eval "dmsetup reload flaky --table '$up' && dmsetup resume flaky"
    ok "$cache: the same dmp device writes, flushes and reads again" eval \
        "dd if=/tmp/pattern of=/dev/mapper/$name bs=64k oflag=direct conv=fsync status=none &&
         [[ \$(dd if=/dev/mapper/$name bs=1M count=1 iflag=direct status=none | md5sum) == '$pattern' ]]"
    ok "remove $name" ./dmp remove "$name"
done
ok "dmsetup remove flaky, detach $loop" eval "dmsetup remove flaky && losetup -d $loop"

# ---- 3. a full file system: a sparse file on a small tmpfs, then on a small ext4 ----
# fill NBD: writes 16 MiB of random data to NBD with O_DIRECT, more than the file system under it holds.
dd if=/dev/urandom of=/tmp/random bs=1M count=16 status=none
fill() {
    dd if=/tmp/random of="/dev/$1" bs=1M oflag=direct status=none
}
mkdir -p /mnt/small
ok "an 8 MiB tmpfs" mount -t tmpfs -o size=8M small /mnt/small
truncate -s 64M /mnt/small/sparse.img
attached=$(./dmp attach /mnt/small/sparse.img)
is "attach a 64 MiB sparse file on it" "$attached" "$(served_nbd "$attached"): /mnt/small/sparse.img, 67108864 bytes"
nbd=$(served_nbd "$attached")
like "... served inline, as memory" "$(./dmp status)" "$nbd +67108864 +/mnt/small/sparse.img +none +[0-9]+ +inline "
take_kernel_log >/dev/null
fails_saying "writing 16 MiB fails" "... with an I/O error" "error writing '/dev/$nbd': Input/output error" fill "$nbd"
log=$(take_kernel_log)
diag "the kernel's log (its first 8 lines):
$(head -8 <<<"$log")"
like "the nbd client logs the server's error 28 (ENOSPC, NBD_ENOSPC)" "$log" "block $nbd: Other side returned error \(28\)"
like "the block layer logs the failed write" "$log" "I/O error, dev $nbd, sector [0-9]+ op 0x1:\(WRITE\)"
write_errors=$(errors write "$nbd")
ok "$nbd's ops count the failed writes ($write_errors)" test "$write_errors" -ge 1
diag "df: $(df -k /mnt/small | tail -1)"
ok "the daemon is alive" daemon_alive
ok "the healthy device serves" healthy_serves
ok "a discard of the whole device gives the space back (holes punched)" blkdiscard "/dev/$nbd"
ok "... and a MiB writes again" dd if=/tmp/pattern of="/dev/$nbd" bs=1M count=1 oflag=direct status=none
ok "detach $nbd" ./dmp detach "$nbd"
ok "unmount the tmpfs" umount /mnt/small

truncate -s 16M /tmp/ext4.img
ok "a 16 MiB ext4 on a loop device" eval "mkfs.ext4 -q /tmp/ext4.img && mount -o loop /tmp/ext4.img /mnt/small"
for cache in none writeback; do
    rm -f /mnt/small/sparse.img
    truncate -s 64M /mnt/small/sparse.img
    attached=$(./dmp attach /mnt/small/sparse.img --cache "$cache")
    nbd=$(served_nbd "$attached")
    like "$cache: attach a 64 MiB sparse file on it: served on io_uring" "$(./dmp status)" \
        "$nbd +67108864 +/mnt/small/sparse.img +$cache +[0-9]+ +io_uring "
    take_kernel_log >/dev/null
    fails_saying "$cache: writing 16 MiB fails" "... with an I/O error" "error writing '/dev/$nbd': Input/output error" fill "$nbd"
    log=$(take_kernel_log)
    like "$cache: the nbd client logs error 28 (ENOSPC)" "$log" "block $nbd: Other side returned error \(28\)"
    write_errors=$(errors write "$nbd")
    ok "$cache: $nbd's ops count the failed writes ($write_errors)" test "$write_errors" -ge 1
    ok "$cache: the daemon is alive" daemon_alive
    ok "$cache: the healthy device serves" healthy_serves
    ok "$cache: detach $nbd" ./dmp detach "$nbd"
done
ok "unmount the ext4" umount /mnt/small

# ---- 4. a disk that hangs: a suspended dm device ----
# io_period: fio on the healthy device for 3 s, 4 KiB random reads and writes; prints requests done and
# the slowest one's latency in µs.
io_period() {
    fio --output-format=json --output=/tmp/healthy.json --ioengine=libaio --direct=1 --filename=/dev/nbd0 \
        --name=healthy --rw=randrw --bs=4k --iodepth=4 --size=32M --time_based --runtime=3 >/dev/null 2>&1 &&
        python3 -c '
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]
print(job["read"]["total_ios"] + job["write"]["total_ios"], max(job["read"]["lat_ns"]["max"], job["write"]["lat_ns"]["max"]) // 1000)' /tmp/healthy.json
}
read -r before_ios before_max < <(io_period)
diag "the healthy device alone: $before_ios requests in 3 s, the slowest in $before_max µs"

# hold NBD: a direct read and a direct write of NBD in the background, which wait on its disk; sets
# reader and writer.
hold() {
    dd if="/dev/$1" of=/dev/null bs=4k skip=100 count=1 iflag=direct status=none 2>/tmp/reader.err &
    reader=$!
    dd if=/tmp/pattern of="/dev/$1" bs=4k seek=200 count=1 oflag=direct status=none 2>/tmp/writer.err &
    writer=$!
}

ok "a linear dm device, hang, over /dev/ram0" dmsetup create hang --table "0 $sectors linear /dev/ram0 0"
attached=$(./dmp attach /dev/mapper/hang)
nbd=$(served_nbd "$attached")
ok "attach it: $nbd" test -n "$nbd"
ok "$nbd serves while the disk answers" dd if=/tmp/pattern of="/dev/$nbd" bs=1M oflag=direct status=none
ok "the disk hangs: dmsetup suspend hang" dmsetup suspend hang
hold "$nbd"
ok "a read and a write of $nbd are in flight at dmp" wait_for eval \
    "[[ \$(column read 5 $module/devices/$nbd/ops) == 1 && \$(column write 5 $module/devices/$nbd/ops) == 1 ]]"
read -r during_ios during_max < <(io_period)
diag "the healthy device while $nbd hangs: $during_ios requests in 3 s, the slowest in $during_max µs"
ok "the healthy device served while the other hung: $during_ios requests" test "${during_ios:-0}" -gt 0
ok "... none of them waited 2 s (one held up by the hung disk would wait the whole 3 s)" test "${during_max:-99999999}" -lt 2000000
ok "the read and the write still wait" eval "still_running $reader && still_running $writer"
ok "status answers at once, within 5 s" timeout 5 ./dmp status
ok "... and stat/ops" timeout 5 cat "$module/stat/ops"
start=$(date +%s%N)
detach_status=0
said=$(timeout 60 ./dmp detach "$nbd" 2>&1) || detach_status=$?
took=$((($(date +%s%N) - start) / 1000000))
diag "detach took $took ms and said: $said"
is "detach $nbd while its disk hangs: exit status 0" "$detach_status" 0
ok "... within 15 s ($took ms)" test "$took" -lt 15000
like "... saying in one line why it waited and what is left" "$said" \
    "^$nbd: /dev/mapper/hang did not answer 2 requests in 5 s \\(failed with EIO\\); it stays open until it answers$"
ok "the waiting read ends" ended "$reader"
like "... with an I/O error" "$(exit_status "$reader") $(cat /tmp/reader.err)" "^1 .*Input/output error"
ok "the waiting write ends" ended "$writer"
like "... with an I/O error" "$(exit_status "$writer") $(cat /tmp/writer.err)" "^1 .*Input/output error"
ok "status no longer lists $nbd" eval "! ./dmp status | grep -q '^$nbd '"
ok "dmp still holds the hung disk open" test "$(open_count hang)" -gt 0
ok "the healthy device serves" healthy_serves
ok "the disk answers again: dmsetup resume hang" dmsetup resume hang
ok "... dmp closes it once its requests are answered" wait_for eval "[[ \$(open_count hang) == 0 ]]"
like "... and its log says so" "$(cat /run/dmp/dmp.log)" "$nbd: /dev/mapper/hang answered at last; closed"
ok "the daemon is alive, after the late answers" daemon_alive
ok "the healthy device serves" healthy_serves
ok "dmsetup remove hang" dmsetup remove hang
log=$(take_kernel_log)
diag "the kernel's log:
$log"

# ---- 5. unload while a disk hangs: dm-delay, a minute per request, in each cache mode ----
# (Under writeback a write lands in dmp's page cache and is answered: only the read waits.)
for cache in none writeback; do
    if [[ $cache == writeback ]]; then
        is "load the healthy device again" "$(./dmp load /dev/ram1)" "nbd0: /dev/ram1, 67108864 bytes"
        held=1 writer_status=0
    else
        held=2 writer_status=1
    fi
    ok "$cache: a dm-delay device, slow, over /dev/ram0: each request waits 60 s" dmsetup create slow --table "0 $sectors delay /dev/ram0 0 60000"
    attached=$(./dmp attach /dev/mapper/slow --cache "$cache")
    nbd=$(served_nbd "$attached")
    ok "$cache: attach it: $nbd" test -n "$nbd"
    hold "$nbd"
    ok "$cache: $held of a read and a write of $nbd in flight at dmp" wait_for eval \
        "[[ \$(column read 5 $module/devices/$nbd/ops) == 1 && \$(column write 5 $module/devices/$nbd/ops) == $((held - 1)) ]]"
    ok "$cache: the healthy device serves" healthy_serves
    pid=$(cat /run/dmp/dmp.pid)
    start=$(date +%s%N)
    unload_status=0
    said=$(timeout 60 ./dmp unload 2>&1) || unload_status=$?
    took=$((($(date +%s%N) - start) / 1000000))
    diag "unload took $took ms and said: $said"
    is "$cache: unload while a disk hangs: exit status 0" "$unload_status" 0
    ok "$cache: ... within 15 s ($took ms)" test "$took" -lt 15000
    like "$cache: ... saying in one line why it waited and what is left" "$said" \
        "^$nbd: /dev/mapper/slow did not answer $held request$( ((held == 1)) || echo s) in 5 s \\(failed with EIO\\); it stays open until it answers$"
    # Not a thread of it stays behind: the last close of the disk, which waits for its dirty pages (writeback) or
    # its reads (none), is the kernel's own worker's.
    ok "$cache: the daemon has exited, every thread of it" ended "$pid"
    diag "$cache: threads of the daemon still waiting in the kernel for the disk: $(threads_left "$pid")"
    ok "$cache: ... and its run directory" test ! -e /run/dmp
    ok "$cache: the waiting read ends" ended "$reader"
    like "$cache: ... with an I/O error" "$(exit_status "$reader") $(cat /tmp/reader.err)" "^1 .*Input/output error"
    ok "$cache: the write ends" ended "$writer"
    is "$cache: ... with exit status $writer_status" "$(exit_status "$writer")" "$writer_status"
    ok "$cache: suspending slow sends its delayed requests on; then nothing holds it" eval \
        "dmsetup suspend slow && dmsetup resume slow && wait_for eval '[[ \$(open_count slow) == 0 ]]'"
    ok "$cache: ... and nothing is left of the daemon" wait_for eval "! kill -0 $pid 2>/dev/null"
    ok "$cache: dmsetup remove slow" dmsetup remove slow
    log=$(take_kernel_log)
    diag "the kernel's log:
$log"
done

is "in the whole run, the kernel logged no oops, BUG, warning or hung task" \
    "$(grep -E 'Oops|BUG:|WARNING:|blocked for more than|Call Trace|general protection' "$all_kernel_log")" ""

done_testing
