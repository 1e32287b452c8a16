#!/usr/bin/env bash
# Runs each tests/vm/suites/*.sh, or the named ones, in its own guest, one
# after another; prints their TAP output prefixed by the suite's name, then a
# summary. Exits non-zero if any test failed or any suite did not finish.
# Options before the suite names go to guest.sh for every suite.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

usage() {
    echo "usage: ${0##*/} [--timeout SECS] [--mem MB] [--smp N] [--env NAME=VALUE]... [SUITE...]" >&2
    exit 2
}

guest_opts=()
while (($#)); do
    case $1 in
    --timeout | --mem | --smp | --env)
        (($# >= 2)) || usage
        guest_opts+=("$1" "$2")
        shift 2
        ;;
    -*) usage ;;
    *) break ;;
    esac
done

suites=()
if (($#)); then
    for name in "$@"; do
        name=${name##*/}
        suite=$VM_DIR/suites/${name%.sh}.sh
        [[ -f $suite ]] || vm_die "no such suite: $suite"
        suites+=("$suite")
    done
else
    suites=("$VM_DIR"/suites/*.sh)
fi

echo "vm: kernel $("$VM_DIR/deps.sh")"

out=$(mktemp "${TMPDIR:-/tmp}/dmp-vm-suite.XXXXXX")
trap 'rm -f -- "$out"' EXIT
passed=0 failed=0
summary=()
for suite in "${suites[@]}"; do
    name=$(basename "$suite" .sh)
    start=$SECONDS
    rc=0
    "$VM_DIR/guest.sh" ${guest_opts[@]+"${guest_opts[@]}"} "$suite" 2>&1 |
        tee "$out" | sed -u "s/^/$name: /" || rc=${PIPESTATUS[0]}
    ok=$(grep -cE '^ok [0-9]+' "$out" || true)
    not_ok=$(grep -cE '^not ok [0-9]+' "$out" || true)
    passed=$((passed + ok))
    failed=$((failed + not_ok))
    took="$((SECONDS - start)) s"
    if ((rc == 0 && not_ok == 0)); then
        summary+=("$name: ok ($ok tests, $took)")
    elif ((not_ok)); then
        summary+=("$name: FAILED ($not_ok of $((ok + not_ok)) tests failed, exit status $rc, $took)")
    else
        # Count a suite that died or hung, not having failed a test, as one failure.
        failed=$((failed + 1))
        summary+=("$name: FAILED (exit status $rc after $ok tests passed, $took)")
    fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
echo "vm: $passed passed, $failed failed"
((failed == 0))
