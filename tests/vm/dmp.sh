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

