#!/usr/bin/env bash
# Devices declared in a dmptab: load --config with memory, a file, a read-only block device by a
# /dev/disk/by-id path and a device without dm; IO through /dev/mapper/NAME; reload adding, removing
# and changing devices, refusing to remove one in use and refusing a bad line, changing nothing then;
# a device's own NBD listener (listen=) added, moved and dropped by reload without touching the device;
# a daemon killed and taken over that still knows its dmptab and listeners; a bare load reading /etc/dmp/dmptab.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

# state: what a refused command must leave unchanged.
state() {
    ./dmp status | tail -n +5
    dmsetup table | sort
    cat /run/dmp/devices
}

# nothing_loaded: no daemon, no run directory, every nbd device free, no dm device.
nothing_loaded() {
    ! pgrep -x dmp >/dev/null && [[ ! -e /run/dmp ]] && ! grep -qv '^0$' /sys/block/nbd*/size && ! dmsetup ls | grep -qv '^No devices'
}

tab=/tmp/dmptab
mkdir -p /tmp/disks
truncate -s 16M /tmp/disks/data.img /tmp/disks/archive.img
dd if=/dev/urandom of=/tmp/disks/archive.img bs=1M count=2 conv=notrunc status=none
ok "a loop device" modprobe loop
loop=$(losetup -f --show /tmp/disks/archive.img)
# What udev would make: the block device by a stable name, a symlink.
mkdir -p /dev/disk/by-id
ln -sf "../../${loop#/dev/}" /dev/disk/by-id/dmp-test-archive

# ---- a bad file starts nothing ----
printf 'disk0 memory size=8M\n\n# a comment\ndisk1 memory size=8M,ro,bogus\n' >"$tab"
fails_saying "load --config with a bad line fails" "... naming the file, the line and what is wrong" \
    "^dmp: /tmp/dmptab:4: unknown option 'bogus'" ./dmp load --config "$tab"
ok "... and starts nothing" nothing_loaded

# ---- load --config ----
cat >"$tab" <<TAB
# NAME   BACKING                            OPTIONS
disk0    memory                             size=64M
data     /tmp/disks/data.img                cache=writeback,connections=1   # a comment after the fields
archive  /dev/disk/by-id/dmp-test-archive   ro
scratch  zero                               size=16M,nodm,listen=unix:/tmp/scratch.sock
TAB
is "load --config brings up every line, printing each with its nbd device and dm device" "$(./dmp load --config "$tab")" \
    "disk0: nbd0, memory, 67108864 bytes, /dev/mapper/disk0
data: nbd1, /tmp/disks/data.img, 16777216 bytes, /dev/mapper/data
archive: nbd2, /dev/disk/by-id/dmp-test-archive, 16777216 bytes, /dev/mapper/archive, read-only
scratch: nbd3, zero, 16777216 bytes, listening on unix:/tmp/scratch.sock"
is "scratch is served to NBD clients on its own socket, as export scratch" "$(nbdinfo --size 'nbd+unix:///scratch?socket=/tmp/scratch.sock')" 16777216
for name in disk0 data archive; do
    ok "/dev/mapper/$name is a block device" test -b "/dev/mapper/$name"
done
fails "nodm: no dm device scratch" test -e /dev/mapper/scratch
is "dm tables as dmp create makes them: linear over the nbd device" "$(dmsetup table disk0; dmsetup table archive)" \
    "0 131072 linear $(cat /sys/block/nbd0/dev) 0
0 32768 linear $(cat /sys/block/nbd2/dev) 0"
is "the device table remembers each device's dmptab name and whether it is read-only" "$(cut -f1,4,7,8 /run/dmp/devices)" \
    "$(printf 'nbd0\tdisk0\tdisk0\trw\nnbd1\tdata\tdata\trw\nnbd2\tarchive\tarchive\tro\nnbd3\t-\tscratch\trw')"
is "the daemon's options keep the config" "$(grep -A1 -x -- --config /run/dmp/options)" "--config
$tab"
is "connections=1 is one socket" "$(./dmp status | awk '$1 == "nbd1" { print $5 }')" 1

ok "4 MiB written through /dev/mapper/disk0" dd if=/dev/urandom of=/tmp/random bs=1M count=4 status=none
ok "... with O_DIRECT" dd if=/tmp/random of=/dev/mapper/disk0 bs=64k oflag=direct status=none
is "... reads back the same" "$(dd if=/dev/mapper/disk0 bs=1M count=4 iflag=direct status=none | md5sum)" "$(md5sum </tmp/random)"
ok "and through /dev/mapper/data" dd if=/tmp/random of=/dev/mapper/data bs=64k oflag=direct conv=fsync status=none
is "... is in the file" "$(head -c 4194304 /tmp/disks/data.img | md5sum)" "$(md5sum </tmp/random)"

# ---- read-only ----
is "the kernel made the read-only nbd device read-only" "$(cat /sys/block/nbd2/ro)" 1
is "... and its dm device" "$(blockdev --getro /dev/mapper/archive)" 1
is "reads of the read-only device work" "$(dd if=/dev/mapper/archive bs=1M count=2 iflag=direct status=none | md5sum)" \
    "$(head -c 2097152 /tmp/disks/archive.img | md5sum)"
archive=$(md5sum </tmp/disks/archive.img)
fails_saying "a write to /dev/mapper/archive fails" "... as the kernel refuses writes to a read-only device" \
    "Operation not permitted|Read-only file system" dd if=/tmp/random of=/dev/mapper/archive bs=4k count=1 oflag=direct status=none
fails_saying "a write to /dev/nbd2 fails" "... the same" \
    "Operation not permitted|Read-only file system" dd if=/tmp/random of=/dev/nbd2 bs=4k count=1 oflag=direct status=none
is "the backing is unchanged" "$(md5sum </tmp/disks/archive.img)" "$archive"

# ---- reload: add, remove, change ----
is "reload with the file unchanged" "$(./dmp reload)" "nothing to change"
cat >"$tab" <<TAB
disk0    memory                             size=64M
data     /tmp/disks/data.img                cache=writeback,connections=2
archive  /dev/disk/by-id/dmp-test-archive   ro
extra    memory                             size=8M
TAB
like "reload removes scratch, replaces data (its line changed) and adds extra" "$(./dmp reload)" \
    "^scratch: removed
data: changed: nbd[0-9]+, /tmp/disks/data.img, 16777216 bytes, /dev/mapper/data
extra: added: nbd[0-9]+, memory, 8388608 bytes, /dev/mapper/extra$"
is "data has two sockets now" "$(./dmp status | awk '$3 == "/tmp/disks/data.img" { print $5 }')" 2
is "... and the same contents (its file)" "$(dd if=/dev/mapper/data bs=1M count=4 iflag=direct status=none | md5sum)" "$(md5sum </tmp/random)"
is "disk0 was left alone: its memory still holds what was written" \
    "$(dd if=/dev/mapper/disk0 bs=1M count=4 iflag=direct status=none | md5sum)" "$(md5sum </tmp/random)"
ok "/dev/mapper/extra exists" test -b /dev/mapper/extra
fails "scratch's socket went with it" test -e /tmp/scratch.sock
is "four devices are served, scratch's zero device gone" "$(cut -f3,7 /run/dmp/devices | sort)" \
    "$(printf '/dev/disk/by-id/dmp-test-archive\tarchive\n/tmp/disks/data.img\tdata\nmemory\tdisk0\nmemory\textra')"
is "reload again: nothing to change" "$(./dmp reload)" "nothing to change"

# ---- devices attached by hand are not the file's ----
ok "a device attached by hand" ./dmp attach zero --size 1M
hand=$(./dmp status | awk '$3 == "zero" { print $1 }')
is "reload leaves it" "$(./dmp reload)" "nothing to change"
like "... attached" "$(./dmp status)" "$hand +1048576 +zero"
ok "... and detach takes it away" ./dmp detach "$hand"

# ---- reload refuses to remove a device in use, and changes nothing ----
ok "a file system on /dev/mapper/extra" mkfs.ext4 -q /dev/mapper/extra
mkdir -p /mnt/extra
ok "... mounted" mount /dev/mapper/extra /mnt/extra
sed -i '/^extra/d' "$tab"
echo "more memory size=4M" >>"$tab"
before=$(state)
fails_saying "unload is refused while a dmptab device's file system is mounted" "... naming it" \
    "^dmp: module dmp is in use: /dev/mapper/extra is open$" ./dmp unload
is "... and nothing changed" "$(state)" "$before"
fails_saying "reload refuses to remove the mounted device" "... saying why, and that nothing changed" \
    "^dmp: extra is in use: /dev/mapper/extra is open; nothing was changed$" ./dmp reload
is "... and nothing changed: more is not added" "$(state)" "$before"
sed -i 's/^disk0 .*/disk0 memory size=32M/' "$tab"
echo "extra memory size=8M" >>"$tab"
exec 3</dev/mapper/disk0
fails_saying "a change of a device whose dm device is open is refused too" "... saying so" \
    "^dmp: disk0 is in use: /dev/mapper/disk0 is open; nothing was changed$" ./dmp reload
exec 3<&-
is "... and nothing changed" "$(state)" "$before"
ok "unmounted" umount /mnt/extra
sed -i '/^disk0/d; /^extra/d' "$tab"
echo "disk0 memory size=64M" >>"$tab"
like "then reload removes it and adds more" "$(./dmp reload)" "^extra: removed
more: added: nbd[0-9]+, memory, 4194304 bytes, /dev/mapper/more$"
fails "/dev/mapper/extra is gone" test -e /dev/mapper/extra

# ---- a bad line: refused, nothing changed ----
before=$(state)
echo "bad memory size=12345" >>"$tab"
fails_saying "reload with a bad line fails" "... naming the line" \
    "^dmp: /tmp/dmptab:5: invalid size '12345': must be a multiple of 512 bytes$" ./dmp reload
is "... and nothing changed" "$(state)" "$before"
sed -i '/^bad/d' "$tab"

# ---- listen=: a device served alone to NBD clients, changed by reload without touching the device ----
disk0_nbd() { awk -F'\t' '$7 == "disk0" { print $1 }' /run/dmp/devices; }
nbd=$(disk0_nbd)
sed -i 's|^disk0 .*|disk0 memory size=64M,listen=unix:/tmp/disk0.sock|' "$tab"
is "reload gives disk0 a listener of its own, and only that" "$(./dmp reload)" \
    "disk0: changed: $nbd, memory, 67108864 bytes, /dev/mapper/disk0, listening on unix:/tmp/disk0.sock"
is "... disk0 is the same nbd device" "$(disk0_nbd)" "$nbd"
is "... the device table has the address" "$(awk -F'\t' '$7 == "disk0" { print $9 }' /run/dmp/devices)" "unix:/tmp/disk0.sock"
is "an NBD client there sees one export, disk0" "$(nbdinfo --list 'nbd+unix://?socket=/tmp/disk0.sock' | grep '^export=')" 'export="disk0":'
is "... also the default export, 64 MiB" "$(nbdinfo --size 'nbd+unix://?socket=/tmp/disk0.sock')" 67108864
is "... which holds what was written through /dev/mapper/disk0" \
    "$(nbdcopy 'nbd+unix:///disk0?socket=/tmp/disk0.sock' - | head -c 4194304 | md5sum)" "$(md5sum </tmp/random)"
ok "a client writes 1 MiB at 32 MiB" qemu-io -f raw -c 'write -P 0x5a 32M 1M' 'nbd+unix:///disk0?socket=/tmp/disk0.sock'
is "... which /dev/mapper/disk0 reads" "$(dd if=/dev/mapper/disk0 bs=1M skip=32 count=1 iflag=direct status=none | tr -d '\132' | wc -c)" 0
sed -i 's|listen=unix:/tmp/disk0.sock|listen=tcp:127.0.0.1:10900|' "$tab"
is "reload moves the listener to TCP" "$(./dmp reload)" \
    "disk0: changed: $nbd, memory, 67108864 bytes, /dev/mapper/disk0, listening on tcp:127.0.0.1:10900"
fails "... the Unix socket is gone" test -e /tmp/disk0.sock
is "... and a client reaches disk0 on the port" "$(nbdinfo --size 'nbd://127.0.0.1:10900/disk0')" 67108864
ok "another program listens on port 10901" nbdkit --port=10901 --pidfile=/tmp/nbdkit.pid memory 1M
before=$(state)
sed -i 's|listen=tcp:127.0.0.1:10900|listen=tcp:127.0.0.1:10901|' "$tab"
fails_saying "reload to a port in use fails" "... naming the line and why, and that nothing changed" \
    "^dmp: /tmp/dmptab:[0-9]+: disk0: .*Address already in use; nothing was changed$" ./dmp reload
is "... and nothing changed" "$(state)" "$before"
is "... disk0 still listens where it did" "$(nbdinfo --size 'nbd://127.0.0.1:10900/disk0')" 67108864
ok "the other program ends" kill "$(cat /tmp/nbdkit.pid)"
sed -i 's|listen=tcp:127.0.0.1:10901|listen=tcp:127.0.0.1:10900|' "$tab"

# ---- the daemon killed: load takes over, reload still knows the dmptab ----
ok "the daemon is killed outright" kill -KILL "$(cat /run/dmp/dmp.pid)"
like "load takes every device over" "$(./dmp load)" "nbd[0-9]+: re-attached \(memory, 67108864 bytes\)"
is "... with its dmptab names" "$(cut -f7 /run/dmp/devices | sort | tr '\n' ' ')" "archive data disk0 more "
archive_nbd=$(awk -F'\t' '$7 == "archive" { print $1 }' /run/dmp/devices)
is "... and its read-only device read-only" "$(cat "/sys/block/$archive_nbd/ro")" 1
fails "... still refusing writes" dd if=/tmp/random of=/dev/mapper/archive bs=4k count=1 oflag=direct status=none
is "... disk0 listens again where it did" "$(nbdinfo --size 'nbd://127.0.0.1:10900/disk0')" 67108864
is "reload after the take-over: nothing to change" "$(./dmp reload)" "nothing to change"
sed -i '/^more/d' "$tab"
is "reload removes a line's device after the take-over" "$(./dmp reload)" "more: removed"
is "disk0 still holds its data" "$(dd if=/dev/mapper/disk0 bs=1M count=4 iflag=direct status=none | md5sum)" "$(md5sum </tmp/random)"
sed -i 's|,listen=tcp:127.0.0.1:10900||' "$tab"
is "reload takes disk0's listener away" "$(./dmp reload)" "disk0: changed: $(disk0_nbd), memory, 67108864 bytes, /dev/mapper/disk0"
fails "... and nobody listens there" nbdinfo --size 'nbd://127.0.0.1:10900/disk0'


# ---- unload takes the dm devices made for the dmptab with it ----
ok "unload" ./dmp unload
ok "... leaves nothing: no dm device, no nbd device, no daemon" nothing_loaded
is "the file backing keeps its data" "$(head -c 4194304 /tmp/disks/data.img | md5sum)" "$(md5sum </tmp/random)"

# ---- reload without a dmptab ----
ok "load with a backing named" ./dmp load memory --size 1M
fails_saying "reload fails" "... saying dmp was loaded without a dmptab" "^dmp: dmp was loaded without a dmptab" ./dmp reload
ok "unload" ./dmp unload

# ---- a bare load reads /etc/dmp/dmptab ----
mkdir -p /etc/dmp
printf 'etc0 memory size=4M\netc1 memory size=4M,nodm\n' >/etc/dmp/dmptab
is "a bare load brings up /etc/dmp/dmptab" "$(./dmp load)" "etc0: nbd0, memory, 4194304 bytes, /dev/mapper/etc0
etc1: nbd1, memory, 4194304 bytes"
echo "etc2 memory size=1M" >>/etc/dmp/dmptab
like "reload reads it again" "$(./dmp reload)" "^etc2: added: nbd2, memory, 1048576 bytes, /dev/mapper/etc2$"
ok "a file system mounted on the nodm device" eval "mkfs.ext4 -q /dev/nbd1 && mount /dev/nbd1 /mnt/extra"
sed -i '/^etc1/d' /etc/dmp/dmptab
fails_saying "reload refuses to remove it" "... saying it is mounted" \
    "^dmp: etc1 is in use: nbd1 is open exclusively \(mounted\?\); nothing was changed$" ./dmp reload
ok "unmounted" umount /mnt/extra
is "then reload removes it" "$(./dmp reload)" "etc1: removed"
pid=$(cat /run/dmp/dmp.pid)
ok "SIGTERM stops the daemon (as a service manager stops it)" kill -TERM "$pid"
ok "... which exits" wait_for eval "! kill -0 $pid 2>/dev/null"
ok "... taking the dm devices made for its dmptab with it, and leaving nothing" wait_for nothing_loaded
echo "etc3 zero size=1M,connections=99" >>/etc/dmp/dmptab
fails_saying "a bare load with a bad /etc/dmp/dmptab fails" "... naming its line" \
    "^dmp: /etc/dmp/dmptab:3: connections= must be a number from 1 to 16, not '99'$" ./dmp load
ok "... and starts nothing" nothing_loaded
is "a bare load with a backing named ignores /etc/dmp/dmptab" "$(./dmp load memory --size 1M)" "nbd0: memory, 1048576 bytes"
ok "unload" ./dmp unload
rm -r /etc/dmp

ok "the loop device detaches: nothing holds it" losetup -d "$loop"
done_testing
