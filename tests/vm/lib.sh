# shellcheck shell=bash
# TAP assertions for guest test scripts: source it, assert, end with
# done_testing. Each assertion prints "ok N - description" or
# "not ok N - description" followed by "# " lines that say why.

# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

_tap_count=0
_tap_failed=0
# Commands' output goes to a file rather than a pipe, so that a daemon a
# command leaves running (holding its stdout) cannot hang the test.
# (No EXIT trap here: the script may want its own; done_testing removes it.)
_tap_out=$(mktemp "${TMPDIR:-/tmp}/tap.XXXXXX")

# Prints text $1 as TAP comment lines.
diag() {
    printf '%s\n' "$1" | sed 's/^/# /'
}

# _tap_result PASSED DESCRIPTION [DETAIL]: the result line, then the detail
# as comments if the test failed.
_tap_result() {
    _tap_count=$((_tap_count + 1))
    if (($1)); then
        echo "ok $_tap_count - $2"
    else
        _tap_failed=$((_tap_failed + 1))
        echo "not ok $_tap_count - $2"
        [[ -z ${3:-} ]] || diag "$3"
    fi
}

# _tap_run WANT DESCRIPTION COMMAND...: runs COMMAND in this shell; passes
# when it succeeds (WANT=0) or fails (WANT=1).
_tap_run() {
    local want=$1 desc=$2 rc=0 detail
    shift 2
    "$@" >"$_tap_out" 2>&1 || rc=$?
    detail="  \$ ${*@Q}"
    [[ ! -s $_tap_out ]] || detail+=$'\n'$(sed 's/^/  /' "$_tap_out")
    _tap_result $(((rc != 0) == want)) "$desc" "$detail"$'\n'"  exit status $rc"
}

# ok DESCRIPTION COMMAND...: passes when COMMAND exits 0. COMMAND runs in
# this shell (so a function's variable assignments stay), with set -e off.
ok() {
    _tap_run 0 "$@"
}

# fails DESCRIPTION COMMAND...: passes when COMMAND exits non-zero.
fails() {
    _tap_run 1 "$@"
}

# fails_saying DESCRIPTION SAYING REGEX COMMAND...: two tests from one run:
# COMMAND exits non-zero, and what it printed (stdout and stderr) matches REGEX.
fails_saying() {
    local saying=$2 regex=$3
    fails "$1" "${@:4}"
    like "$saying" "$(<"$_tap_out")" "$regex"
}

# is DESCRIPTION ACTUAL EXPECTED: passes when the strings are equal.
is() {
    local same=0
    [[ $2 == "$3" ]] && same=1
    _tap_result "$same" "$1" "  got:      '$2'
  expected: '$3'"
}

# like DESCRIPTION ACTUAL REGEX: passes when ACTUAL matches the bash regex.
like() {
    local matched=0
    [[ $2 =~ $3 ]] && matched=1
    _tap_result "$matched" "$1" "  got:          '$2'
  expected like: '$3'"
}

# wait_for COMMAND...: retries COMMAND for up to 10 s until it succeeds.
wait_for() {
    retry 100 "$@"
}

# wait_for_long COMMAND...: retries COMMAND for up to 30 s (for what runs on a timer).
wait_for_long() {
    retry 300 "$@"
}

# stat_field DEV N: field N (1-based) of /sys/block/DEV/stat.
stat_field() {
    awk -v n="$2" '{ print $n }' "/sys/block/$1/stat"
}

# done_testing: the plan line and a summary; exits 1 if any test failed.
done_testing() {
    rm -f -- "$_tap_out"
    echo "1..$_tap_count"
    diag "$((_tap_count - _tap_failed)) passed, $_tap_failed failed"
    ((_tap_failed == 0)) || exit 1
    exit 0
}
