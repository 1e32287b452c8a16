#!/usr/bin/env bash
# Runs each tests/vm/suites/*.sh, or the named ones, in its own guest on each
# kernel (common.sh's VM_KERNELS, or those named with --kernel), one after
# another; prints their TAP output prefixed by SUITE@KERNEL, then a summary.
# Exits non-zero if any test failed or any suite did not finish, on any kernel.
# The other options before the suite names go to guest.sh for every suite.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

usage() {
    echo "usage: ${0##*/} [--kernel $(IFS='|' && echo "${VM_KERNELS[*]}")]... [--timeout SECS] [--mem MB] [--smp N] [--env NAME=VALUE]... [SUITE...]" >&2
    exit 2
}

guest_opts=() kernels=()
while (($#)); do
    case $1 in
    --kernel)
        vm_is_series "${2:-}" || usage
        kernels+=("$2")
        shift 2
        ;;
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

((${#kernels[@]})) || kernels=("${VM_KERNELS[@]}")
# The version of each kernel, as deps.sh settles on it (fetching it if need be).
declare -A version=()
while read -r series v; do
    version[$series]=$v
    echo "vm: kernel $series is $v"
done < <("$VM_DIR/deps.sh" "${kernels[@]}")
for series in "${kernels[@]}"; do
    [[ -n ${version[$series]:-} ]] || vm_die "deps.sh named no kernel $series"
done

# suite_timeout SUITE: the seconds SUITE may take, as its "# guest-timeout: SECS" line says, or guest.sh's
# default of 600 (a --timeout given to run-all.sh comes later and wins).
suite_timeout() {
    local secs
    secs=$(sed -n 's/^# guest-timeout: \([0-9][0-9]*\)$/\1/p' "$1")
    echo "${secs:-600}"
}

# suite_init SUITE: the guest's init, as its "# guest-init: systemd" line says, or guest.sh's default (a shell).
suite_init() {
    local init
    init=$(sed -n 's/^# guest-init: \([a-z]*\)$/\1/p' "$1")
    echo "${init:-shell}"
}

out=$(mktemp "${TMPDIR:-/tmp}/dmp-vm-suite.XXXXXX")
trap 'rm -f -- "$out"' EXIT
passed=0 failed=0
declare -A kpassed=() kfailed=()
summary=() failures=()
for suite in "${suites[@]}"; do
    for series in "${kernels[@]}"; do
        name=$(basename "$suite" .sh)@$series
        start=$SECONDS
        for attempt in 1 2; do
            rc=0
            "$VM_DIR/guest.sh" --kernel "${version[$series]}" --timeout "$(suite_timeout "$suite")" --init "$(suite_init "$suite")" \
                ${guest_opts[@]+"${guest_opts[@]}"} "$suite" 2>&1 |
                tee "$out" | sed -u "s/^/$name: /" || rc=${PIPESTATUS[0]}
            # A guest that stopped before the suite's first test (qemu's emulation now and then fails a
            # boot) is booted once more; one that stops again counts as a failure below.
            ((attempt == 1 && rc == 125)) && ! grep -qE '^(not )?ok [0-9]+' "$out" || break
            echo "$name: the guest stopped before the first test: once more"
        done
        ok=$(grep -cE '^ok [0-9]+' "$out" || true)
        not_ok=$(grep -cE '^not ok [0-9]+' "$out" || true)
        took="$((SECONDS - start)) s"
        if ((rc == 0 && not_ok == 0)); then
            summary+=("$name: ok ($ok tests, $took)")
        elif ((not_ok)); then
            summary+=("$name: FAILED ($not_ok of $((ok + not_ok)) tests failed, exit status $rc, $took)")
            # Each failed test with the first lines of its diagnostics, repeated at the very end, where a
            # log that keeps only its tail (CI's) still shows what failed.
            mapfile -t -O "${#failures[@]}" failures < <(awk -v name="$name" '
                /^not ok [0-9]+/ { print name ": " $0; left = 4; next }
                /^(ok|not ok) [0-9]+/ { left = 0 }
                left && /^#/ { print name ":   " $0; left-- }' "$out")
        else
            # Count a suite that died or hung, not having failed a test, as one failure.
            not_ok=1
            summary+=("$name: FAILED (exit status $rc after $ok tests passed, $took)")
        fi
        kpassed[$series]=$((${kpassed[$series]:-0} + ok))
        kfailed[$series]=$((${kfailed[$series]:-0} + not_ok))
        passed=$((passed + ok))
        failed=$((failed + not_ok))
    done
done

echo "== summary"
printf '%s\n' "${summary[@]}"
for series in "${kernels[@]}"; do
    echo "kernel $series (${version[$series]}): ${kpassed[$series]} passed, ${kfailed[$series]} failed"
done
echo "vm: $passed passed, $failed failed"
if ((${#failures[@]})); then
    echo "== failed"
    printf '%s\n' "${failures[@]}"
fi
((failed == 0))
