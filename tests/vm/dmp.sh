# shellcheck shell=bash
# Helpers the dmp suites share: source it after lib.sh. It also moves to the repository
# root, where ./dmp is.

cd "$(dirname -- "${BASH_SOURCE[0]}")/../.." || exit

# The guest runs as root and may have no sudo; the walkthroughs' "sudo" is then a no-op.
command -v sudo >/dev/null || sudo() { "$@"; }

# volumes R AR W AW T AT: the text of stat/volumes for those requests and average sizes.
volumes() {
    printf 'read:\n reqs: %s\n avg size: %s\nwrite:\n reqs: %s\n avg size: %s\ntotal:\n reqs: %s\n avg size: %s\n' "$@"
}

# column OPERATION FIELD FILE: a field of an operation's line in an ops file (1 = the name).
column() {
    awk -v op="$1" -v n="$2" '$1 == op { print $n }' "$3"
}

# kernel_log: the kernel's messages since the last `dmesg -C`, without their timestamps.
kernel_log() {
    dmesg | sed 's/^\[ *[0-9.]*\] //'
}
