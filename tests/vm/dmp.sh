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

# stat_field DEV N: field N (1-based) of /sys/block/DEV/stat.
stat_field() {
    awk -v n="$2" '{ print $n }' "/sys/block/$1/stat"
}
