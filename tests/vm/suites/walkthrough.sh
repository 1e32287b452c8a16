#!/usr/bin/env bash
# Issue 2's walkthrough, verbatim, on a real kernel: load, a dm-linear mapping
# on /dev/nbd0, a known workload whose numbers are checked exactly and against
# the kernel's own accounting of nbd0, reset, and an rmmod-like unload.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

# ---- the walkthrough, as a user types it ----
ok "make && sudo ./dmp load" eval 'make --silent && sudo ./dmp load'
ok "dmsetup create dmp1 --table \"0 1024 linear /dev/nbd0 0\"" dmsetup create dmp1 --table "0 1024 linear /dev/nbd0 0"
ok "dd 7 x 4k to /dev/mapper/dmp1 with O_DIRECT" dd if=/dev/urandom of=/dev/mapper/dmp1 bs=4k count=7 oflag=direct
is "volumes counts the 7 writes of 4096 bytes" "$(cat /run/dmp/module/stat/volumes)" "$(volumes 0 0 7 4096 7 4096)"
is "nbd0/stat agrees: 7 writes" "$(stat_field nbd0 5)" 7
is "nbd0/stat agrees: 56 sectors written" "$(stat_field nbd0 7)" 56
ok "dd 3 x 512 from /dev/mapper/dmp1 with O_DIRECT" dd if=/dev/mapper/dmp1 of=/dev/null bs=512 count=3 iflag=direct
is "volumes counts the 3 reads of 512 bytes as well" "$(cat /run/dmp/module/stat/volumes)" "$(volumes 3 512 7 4096 10 3020)"
ok "echo 1 | sudo tee /run/dmp/module/stat/reset" eval 'echo 1 | sudo tee /run/dmp/module/stat/reset'
is "volumes reads zero after the reset" "$(cat /run/dmp/module/stat/volumes)" "$(volumes 0 0 0 0 0 0)"

# ---- a known workload, checked exactly and against the kernel's counters ----
reads0=$(stat_field nbd0 1) rsect0=$(stat_field nbd0 3) writes0=$(stat_field nbd0 5) wsect0=$(stat_field nbd0 7)
ok "10 direct reads of 4k" dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=10 iflag=direct status=none
ok "3 direct writes of 512 bytes" dd if=/dev/urandom of=/dev/mapper/dmp1 bs=512 count=3 seek=16 oflag=direct status=none
ok "2 direct writes of 1k" dd if=/dev/urandom of=/dev/mapper/dmp1 bs=1k count=2 seek=20 oflag=direct status=none
# reads 10 x 4096; writes 3 x 512 + 2 x 1024 = 3584 / 5 = 716; total 44544 / 15 = 2969
is "volumes has the workload's exact numbers" "$(cat /run/dmp/module/stat/volumes)" "$(volumes 10 4096 5 716 15 2969)"
is "nbd0/stat: 10 more reads" "$(($(stat_field nbd0 1) - reads0))" 10
is "nbd0/stat: 80 more sectors read" "$(($(stat_field nbd0 3) - rsect0))" 80
is "nbd0/stat: 5 more writes" "$(($(stat_field nbd0 5) - writes0))" 5
is "nbd0/stat: 7 more sectors written" "$(($(stat_field nbd0 7) - wsect0))" 7
is "dmp stat prints volumes" "$(./dmp stat)" "$(volumes 10 4096 5 716 15 2969)"

# ---- sysfs semantics of reset ----
fails "echo 2 > reset fails" eval 'echo 2 > /run/dmp/module/stat/reset'
like "... with EINVAL" "$(echo 2 2>&1 >/run/dmp/module/stat/reset || true)" "Invalid argument"
is "... and changes nothing" "$(cat /run/dmp/module/stat/volumes)" "$(volumes 10 4096 5 716 15 2969)"
fails "volumes is not writable, even by root" eval 'echo 1 > /run/dmp/module/stat/volumes'
ok "dmp reset" ./dmp reset
is "dmp reset zeroes the counters" "$(./dmp stat)" "$(volumes 0 0 0 0 0 0)"

# ---- like insmod and rmmod ----
pid=$(cat /run/dmp/dmp.pid)
fails_saying "a second load fails" "... saying File exists" "^dmp: could not load module dmp: File exists" ./dmp load
is "... and changes nothing: the same daemon" "$(cat /run/dmp/dmp.pid)" "$pid"
is "... the same devices" "$(cat /run/dmp/devices)" "$(printf 'nbd0\t1073741824\tmemory\t-\tnone\t2')"
fails_saying "unload is refused while dmp1 sits on nbd0" "... saying what holds it" "^dmp: module dmp is in use: nbd0 is held by dm-0 \(dmp1\)$" ./dmp unload
ok "... and the daemon still serves" dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=1 iflag=direct status=none
is "... and still counts" "$(./dmp stat | sed -n 2p)" " reqs: 1"

ok "dmsetup remove dmp1" dmsetup remove dmp1
ok "sudo ./dmp unload" sudo ./dmp unload
fails "no daemon is left" kill -0 "$pid"
fails "no stat mount is left" grep -q " /run/dmp/module " /proc/mounts
is "nbd0 is disconnected" "$(cat /sys/block/nbd0/size)" 0
fails "nbd0 has no server pid" test -e /sys/block/nbd0/pid
fails "the run directory is gone" test -e /run/dmp
ok "make clean" make --silent clean
fails "make clean removed ./dmp" test -e dmp

done_testing
