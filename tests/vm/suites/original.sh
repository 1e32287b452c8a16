#!/usr/bin/env bash
# The original dmp's README, followed with dmp on a real kernel: its example (a dmp
# target over dm-zero, the shared statistics, reset) and its "Manual testing" section,
# with `dmp create` and `dmp check` where the original has its target and its script.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

# ---- issue 3's walkthrough, as a user types it ----
ok "sudo ./dmp load" sudo ./dmp load
ok "dmsetup create zero1 --table \"0 1024 zero\"" dmsetup create zero1 --table "0 1024 zero"
ok "sudo ./dmp create dmp1 --table \"0 1024 dmp /dev/mapper/zero1\"" sudo ./dmp create dmp1 --table "0 1024 dmp /dev/mapper/zero1"
ok "/dev/mapper/dmp1 is a block device" test -b /dev/mapper/dmp1
is "dmp1 has the table's 1024 sectors" "$(blockdev --getsz /dev/mapper/dmp1)" 1024
is "cat /run/dmp/module/stat/volumes" "$(cat /run/dmp/module/stat/volumes)" "$(volumes 0 0 0 0 0 0)"
is "./dmp check dmp1 prints volumes, then correct" "$(./dmp check dmp1)" "$(volumes 0 0 0 0 0 0)
correct"
ok "dd if=/dev/zero of=/dev/mapper/dmp1 bs=4K count=1" dd if=/dev/zero of=/dev/mapper/dmp1 bs=4K count=1
check=$(./dmp check dmp1) || true
is "./dmp check dmp1 counts the write and is correct" "$check" "$(volumes 0 0 1 4096 1 4096)
correct"
is "the original's way, by dm-N, agrees" "$(./dmp check dm-1 | tail -1)" correct
is "... and by nbd device" "$(./dmp check nbd1 | tail -1)" correct

# ---- the original's example: stats shared by every dmp device, and reset ----
ok "a second underlying device" dmsetup create zero2 --table "0 2048 zero"
ok "a second dmp device over it" ./dmp create dmp2 --table "0 2048 dmp /dev/mapper/zero2"
ok "3 reads of 4k on dmp2" dd if=/dev/mapper/dmp2 of=/dev/null bs=4k count=3 iflag=direct status=none
ok "2 writes of 1k on dmp1" dd if=/dev/zero of=/dev/mapper/dmp1 bs=1k count=2 oflag=direct status=none
# reads 3 x 4096; writes 4096 + 2 x 1024 = 6144 / 3 = 2048; total 18432 / 6 = 3072
is "volumes counts both devices together" "$(cat /run/dmp/module/stat/volumes)" "$(volumes 3 4096 3 2048 6 3072)"
is "dmp1 alone" "$(./dmp check dmp1 | head -9)" "$(volumes 0 0 3 2048 3 2048)"
is "dmp2 alone" "$(./dmp check dmp2 | head -9)" "$(volumes 3 4096 0 0 3 4096)"
is "both, checked together, are correct" "$(./dmp check dmp1 dmp2 | tail -1)" correct
ok "sudo bash -c \"echo 1 > /run/dmp/module/stat/reset\"" sudo bash -c "echo 1 > /run/dmp/module/stat/reset"
is "volumes reads zero after the reset" "$(cat /run/dmp/module/stat/volumes)" "$(volumes 0 0 0 0 0 0)"
is "and, unlike the original's script, the check stays correct" "$(./dmp check)" "$(volumes 0 0 0 0 0 0)
correct"
ok "more load" dd if=/dev/mapper/dmp1 of=/dev/null bs=512 count=5 iflag=direct status=none
is "counted from the reset" "$(./dmp check dmp1)" "$(volumes 5 512 0 0 5 512)
correct"

# ---- clean up, as the original's README does (dmp devices first: zero1 is held by dmp) ----
fails "dmsetup cannot remove zero1 while dmp serves it" dmsetup remove zero1
fails_saying "unload is refused while dmp devices exist" "... like rmmod: in use" "^dmp: module dmp is in use: nbd1 is held by dm-1 \(dmp1\)$" sudo ./dmp unload
ok "sudo ./dmp remove dmp1" sudo ./dmp remove dmp1
ok "sudo ./dmp remove dmp2" sudo ./dmp remove dmp2
fails "dmp1 is gone" test -e /dev/mapper/dmp1
is "its nbd devices are detached" "$(cat /sys/block/nbd1/size /sys/block/nbd2/size)" "0
0"
ok "dmsetup remove zero1" dmsetup remove zero1
ok "dmsetup remove zero2" dmsetup remove zero2
ok "sudo ./dmp unload" sudo ./dmp unload
is "nothing of dmp is left in device-mapper" "$(dmsetup ls)" "No devices found"
fails "nor a run directory" test -e /run/dmp

done_testing
