#!/usr/bin/env bash
# make demo: the README's walkthrough, typed into a throwaway VM whose kernel has nbd and
# device-mapper, for machines whose own kernel lacks them.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/../.."

# run COMMAND: shows COMMAND as typed at a root prompt, then runs it.
run() {
    printf '\n# %s\n' "$1"
    eval "$1"
}

run './dmp load'
run 'dmsetup create dmp1 --table "0 1024 linear /dev/nbd0 0"'
run 'dd if=/dev/urandom of=/dev/mapper/dmp1 bs=4k count=7 oflag=direct'
run 'cat /run/dmp/module/stat/volumes'
run 'dd if=/dev/mapper/dmp1 of=/dev/null bs=512 count=3 iflag=direct'
run 'cat /run/dmp/module/stat/volumes'
run 'echo 1 > /run/dmp/module/stat/reset'
run 'cat /run/dmp/module/stat/volumes'
run './dmp unload || true'
run 'dmsetup remove dmp1'
run './dmp unload'
