#!/usr/bin/env bash
# NBD over TLS, on the host: fio --ioengine=nbd over nbds+unix:// against dmp serve --tls on and nbdkit
# --tls=on, both a 1 GiB memory store filled first, with the same certificates (openssl, ECDSA P-256),
# interleaved round by round. libnbd finds the client's certificates in ~/.pki/libnbd, since fio's URI may
# not name files.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=SCRIPTDIR/lib.sh
source bench/lib.sh

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; rm -rf "$work"' EXIT

pki=$work/home/.pki/libnbd
mkdir -p "$pki"
(
    cd "$pki"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=dmp-bench-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -keyout ca-key.pem -out ca-cert.pem
    for role in server client; do
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
            -keyout "$role-key.pem" -out "$role.csr"
        printf 'keyUsage=critical,digitalSignature\nsubjectAltName=DNS:localhost\n' >"$role.ext"
        openssl x509 -req -days 2 -in "$role.csr" -CA ca-cert.pem -CAkey ca-key.pem -CAcreateserial \
            -extfile "$role.ext" -out "$role-cert.pem"
    done
) >/dev/null 2>&1

socket() {
    echo "$work/$1.sock"
}

dmp_serve "$work/dmp.log" memory --size 1G --listen "unix:$(socket dmp)" --tls on --tls-certificates "$pki"
pids+=("$served")
nbdkit -f -U "$(socket nbdkit)" --tls=on --tls-certificates="$pki" memory 1G 2>"$work/nbdkit.log" &
pids+=($!)

uri() {
    echo "--ioengine=nbd --uri=nbds+unix:///?socket=$(socket "$1") --size=1G"
}

for name in dmp nbdkit; do
    wait_for test -S "$(socket "$name")"
    # shellcheck disable=SC2046 # uri's words are separate arguments
    HOME=$work/home fill $(uri "$name")
done

# measure NAME RW BS DEPTH JOBS: the rate of one job on NAME's server over TLS (interleave's MEASURE).
measure() {
    # shellcheck disable=SC2046 # uri's words are separate arguments
    HOME=$work/home fio_rate "$2" "$3" "$4" "$5" $(uri "$1")
}

interleave tls "dmp nbdkit" "$ROUNDS" measure "randread 4k 32 1" "read 1M 8 1"
