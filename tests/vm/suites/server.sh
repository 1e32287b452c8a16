#!/usr/bin/env bash
# dmp as an NBD server for ordinary clients, on a real kernel: Debian's nbd-client attaching a
# `dmp serve` export to /dev/nbd0, and `dmp load --listen` serving one device to the kernel and to
# network clients at once, both counted in the same statistics.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

# ---- the kernel's own client against dmp serve ----
ok "modprobe nbd" modprobe nbd max_part=0
./dmp serve memory --size 64M --listen unix:/tmp/serve.sock --run-dir /tmp/serve 2>/tmp/serve.log &
serve=$!
ok "dmp serve becomes ready" wait_for grep -q ": ready: " /tmp/serve.log
ok "nbd-client attaches export0 to /dev/nbd1" nbd-client -unix /tmp/serve.sock /dev/nbd1 -b 512 -N export0
is "nbd1 has the export's size" "$(cat /sys/block/nbd1/size)" 131072
ok "4 MiB of random data" dd if=/dev/urandom of=/tmp/random bs=1M count=4 status=none
ok "written through the kernel" dd if=/tmp/random of=/dev/nbd1 bs=64k oflag=direct status=none
is "read back through the kernel" "$(dd if=/dev/nbd1 bs=1M count=4 iflag=direct status=none | md5sum)" "$(md5sum </tmp/random)"
is "and through libnbd, on another connection" "$(nbdcopy 'nbd+unix:///export0?socket=/tmp/serve.sock' - | head -c 4194304 | md5sum)" "$(md5sum </tmp/random)"
is "the kernel's writes are counted" "$(sed -n 5p /tmp/serve/module/stat/volumes)" " reqs: 64"
ok "nbd-client detaches" nbd-client -d /dev/nbd1
ok "SIGTERM stops dmp serve" kill -TERM "$serve"
ok "... which exits 0" wait "$serve"
fails "... and removes its socket" test -e /tmp/serve.sock

# ---- load --listen: one device, the kernel and network clients together ----
is "load --listen" "$(./dmp load memory --size 64M --listen unix:/tmp/load.sock)" "nbd0: memory, 67108864 bytes
listening on unix:/tmp/load.sock"
ok "nbdcopy writes the image through the export nbd0" nbdcopy /tmp/random 'nbd+unix:///nbd0?socket=/tmp/load.sock'
is "the kernel's /dev/nbd0 reads what the client wrote" "$(dd if=/dev/nbd0 bs=1M count=4 iflag=direct status=none | md5sum)" "$(md5sum </tmp/random)"
ok "the kernel overwrites the first 64k" dd if=/dev/zero of=/dev/nbd0 bs=64k count=1 oflag=direct status=none
is "... and the client sees it" "$(nbdcopy 'nbd+unix:///nbd0?socket=/tmp/load.sock' - | head -c 65536 | tr -d '\0' | wc -c)" 0
like "both are counted in volumes" "$(./dmp stat | sed -n 2p)" "reqs: [1-9][0-9]*"
ok "a client stays connected" eval "nbd-client -unix /tmp/load.sock /dev/nbd2 -b 512 -N nbd0"
ok "unload ends it too" ./dmp unload
ok "... and cleans up" eval "! pgrep -x dmp >/dev/null && test ! -e /run/dmp && test ! -e /tmp/load.sock"
ok "nbd-client lets go of the dead link" nbd-client -d /dev/nbd2

# ---- load --listen --tls require, kept by a new daemon after a kill -9 ----
mkdir -p /tmp/pki
ok "openssl makes a CA and a server and a client certificate" eval "(cd /tmp/pki && {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -keyout ca-key.pem -out ca-cert.pem
    for role in server client; do
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost -keyout \$role-key.pem -out \$role.csr
        printf 'keyUsage=critical,digitalSignature\nsubjectAltName=DNS:localhost\n' >\$role.ext
        openssl x509 -req -days 2 -in \$role.csr -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial -extfile \$role.ext -out \$role-cert.pem
    done
} >/dev/null 2>&1)"
tls_uri='nbds+unix:///nbd0?socket=/tmp/tls.sock&tls-certificates=/tmp/pki'
ok "load --listen --tls require" ./dmp load memory --size 64M --listen unix:/tmp/tls.sock --tls require --tls-certificates /tmp/pki --tls-verify-peer
is "nbdinfo over TLS, with a client certificate" "$(nbdinfo --size "$tls_uri")" 67108864
fails "a client that skips TLS is refused" nbdinfo --size 'nbd+unix:///nbd0?socket=/tmp/tls.sock'
read -r daemon </run/dmp/dmp.pid
ok "kill -9 of the daemon" kill -KILL "$daemon"
ok "... which is gone" wait_for eval "! kill -0 $daemon 2>/dev/null"
ok "a new load takes over" ./dmp load
is "TLS still serves" "$(nbdinfo --size "$tls_uri")" 67108864
fails "and is still required" nbdinfo --size 'nbd+unix:///nbd0?socket=/tmp/tls.sock'
ok "TLS options kept in the options file" grep -qx -- --tls-verify-peer /run/dmp/options
ok "unload" ./dmp unload

done_testing
