#!/usr/bin/env bash
# dmp under systemd's notification protocol, on a real kernel, with a python3 listener on
# an AF_UNIX datagram socket standing in for systemd: `dmp load` (its daemon) says READY=1,
# with its own pid as MAINPID, once /dev/nbd0 is connected and the stat tree is there and
# before load returns; STATUS as devices come and go; WATCHDOG=1 while it serves (with
# WATCHDOG_PID naming `dmp load`, as systemd sets it), and none while a request is stuck
# (held by a fault rule's delay); STOPPING=1 at unload. Also: journal logging when
# JOURNAL_STREAM is stderr, SIGUSR1 (the unit's KillSignal) leaving the devices for the
# next load to take over, and `dmp restart` refused for a daemon systemd supervises.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

socket=/tmp/notify.sock
messages=/tmp/notify.log

# The listener: one line per notification, "SECONDS MESSAGE" with the message's newlines as
# '|'; at READY=1 it adds what it saw at that moment: nbd0's size and whether stat/volumes reads.
cat >/tmp/listener.py <<'PY'
import os, socket, sys, time
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(log, "a", buffering=1) as out:
    while True:
        message = s.recv(4096).decode()
        seen = ""
        if "READY=1" in message.split("\n"):
            size = open("/sys/block/nbd0/size").read().strip()
            tree = "stat-tree" if os.path.exists("/run/dmp/module/stat/volumes") else "no-stat-tree"
            seen = f" [nbd0-size={size} {tree}]"
        out.write(f"{time.time():.6f} {message.replace(chr(10), '|')}{seen}\n")
PY
python3 /tmp/listener.py "$socket" "$messages" &
listener=$!
trap 'kill $listener' EXIT
wait_for test -S "$socket"

# count LINE: how many notifications have the line LINE.
count() {
    cut -d' ' -f2- "$messages" | tr '|' '\n' | grep -cx "$1" || true
}

# last: the last notification other than WATCHDOG=1 (which the watchdog may send at any time).
last() {
    cut -d' ' -f2- "$messages" | grep -vx 'WATCHDOG=1' | tail -n 1
}

# load_journaled: load with stderr appended to /tmp/journal, which JOURNAL_STREAM names.
load_journaled() {
    local stream
    stream=$(stat -c %d:%i /tmp/journal)
    JOURNAL_STREAM=$stream ./dmp load memory --size 1M 2>>/tmp/journal
}

# ---- load: READY=1 once the device serves, from the daemon, before load returns ----
is "load under NOTIFY_SOCKET, with a watchdog meant for load's own pid (as systemd sets WATCHDOG_PID)" \
    "$(NOTIFY_SOCKET=$socket WATCHDOG_USEC=1000000 bash -c 'export WATCHDOG_PID=$$; exec ./dmp load memory --size 16M')" \
    "nbd0: memory, 16777216 bytes"
returned=$EPOCHREALTIME
read -r daemon </run/dmp/dmp.pid
ready=$(grep -m1 'READY=1' "$messages")
like "READY=1 came with the daemon's pid as MAINPID and the device count as STATUS" "$ready" \
    "\|?READY=1\|STATUS=serving 1 device: nbd0\|MAINPID=$daemon( |$)"
like "... once nbd0 was connected and the stat tree mounted" "$ready" "\[nbd0-size=32768 stat-tree\]$"
ok "... before load returned" awk -v t="${ready%% *}" -v r="$returned" 'BEGIN { exit !(t <= r) }'
is "only one READY=1" "$(count READY=1)" 1

watchdogs=$(count WATCHDOG=1)
sleep 2.5
ok "WATCHDOG=1 every half second while it serves (the daemon's, though WATCHDOG_PID named load)" \
    test $(($(count WATCHDOG=1) - watchdogs)) -ge 4

# ---- no WATCHDOG=1 while a request is stuck ----
ok "a fault rule holds nbd0's reads for 4 s" ./dmp fault add nbd0 op=read delay=4s
sent=$EPOCHREALTIME
ok "a read waits for it" dd if=/dev/nbd0 of=/dev/null bs=4k count=1 iflag=direct status=none
answered=$EPOCHREALTIME
ok "... 4 s" awk -v s="$sent" -v a="$answered" 'BEGIN { exit !(a - s >= 4) }'
# (The read reaches dmp some time after dd starts, up to several tenths of a second in an emulated guest: so the
# window starts at 2.5 s, not at the 1.5 s after which a 1 s watchdog checked every 0.5 s must be silent.)
is "no WATCHDOG=1 from 2.5 s into the read (a 1 s watchdog, checked every 0.5 s) until it was answered" \
    "$(awk -v from="$sent" -v to="$answered" '$2 == "WATCHDOG=1" && $1 > from + 2.5 && $1 < to' "$messages" | wc -l)" 0
sleep 1.5
ok "WATCHDOG=1 again once it was answered" \
    test "$(awk -v from="$answered" '$2 == "WATCHDOG=1" && $1 > from' "$messages" | wc -l)" -ge 2
like "the daemon logged why it held WATCHDOG=1 back" "$(cat /run/dmp/dmp.log)" \
    "watchdog: nbd0 has had requests in flight and answered none for longer than 1s"
ok "clear the rule" ./dmp fault clear nbd0

# ---- STATUS as devices come and go ----
ok "attach a second device" ./dmp attach memory --size 1M
wait_for grep -q 'STATUS=serving 2 devices: nbd0, nbd1' "$messages"
ok "... STATUS says 2 devices" grep -q 'STATUS=serving 2 devices: nbd0, nbd1' "$messages"
ok "detach it" ./dmp detach nbd1
wait_for eval "[[ \$(last) == 'STATUS=serving 1 device: nbd0' ]]"
is "... STATUS says 1 device again" "$(last)" "STATUS=serving 1 device: nbd0"

# ---- restart is systemd's to do ----
fails_saying "dmp restart of a daemon systemd supervises is refused" "... saying to use systemctl" \
    "^dmp: the daemon \(pid $daemon\) runs under systemd.*: restart it with .*systemctl" ./dmp restart
is "... and the daemon serves on" "$(cat /run/dmp/dmp.pid)" "$daemon"

# ---- unload: STOPPING=1 ----
ok "unload" ./dmp unload
like "STOPPING=1 came last" "$(last)" "^STOPPING=1\|STATUS=unloading"
is "... once" "$(count STOPPING=1)" 1

# ---- SIGUSR1: exit and leave the devices for the next daemon ----
: >"$messages"
ok "load again" env NOTIFY_SOCKET=$socket ./dmp load memory --size 16M
ok "write to nbd0" dd if=/dev/urandom of=/tmp/written bs=1M count=1 status=none
ok "... through O_DIRECT" dd if=/tmp/written of=/dev/nbd0 bs=1M oflag=direct status=none
read -r daemon </run/dmp/dmp.pid
ok "SIGUSR1 to the daemon" kill -USR1 "$daemon"
wait_for eval "! kill -0 $daemon 2>/dev/null"
like "STOPPING=1 says the devices wait for the next daemon" "$(last)" \
    "^STOPPING=1\|STATUS=exiting; the devices wait for the next daemon to take them over$"
is "nbd0 is still there" "$(cat /sys/block/nbd0/size)" 32768
like "dmp status says the daemon died" "$(./dmp status 2>&1 || true)" "died without unloading"
like "load takes nbd0 over" "$(NOTIFY_SOCKET=$socket ./dmp load)" "^nbd0: "
is "... READY=1 again" "$(count READY=1)" 2
is "... with what was written" "$(dd if=/dev/nbd0 bs=1M count=1 iflag=direct status=none | md5sum)" "$(md5sum </tmp/written)"
ok "unload" ./dmp unload

# ---- the journal: priorities on stderr, no dmp.log ----
: >/tmp/journal
ok "load with JOURNAL_STREAM naming its stderr" load_journaled
like "the daemon logs to stderr with syslog priorities" "$(cat /tmp/journal)" $'(^|\n)<6>loaded: nbd0 \\(memory\\)'
ok "... and no line without one" eval "! grep -v '^<[0-7]>' /tmp/journal"
ok "... and keeps no dmp.log" test ! -e /run/dmp/dmp.log
ok "unload" ./dmp unload
ok "load without JOURNAL_STREAM" ./dmp load memory --size 1M
like "... logs to dmp.log with timestamps" "$(cat /run/dmp/dmp.log)" $'(^|\n)[0-9-]+T[0-9:.]+Z dmp\\[[0-9]+\\]: loaded: nbd0'
ok "unload" ./dmp unload

done_testing
