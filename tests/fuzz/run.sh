#!/usr/bin/env bash
# Coverage-guided fuzzing of dmp's parsers: SharpFuzz instruments a JIT build of dmp.dll, afl-fuzz drives it.
# Usage: run.sh replay                 every corpus file and regression input through its target, once
#        run.sh fuzz SECONDS [RESULTS]  every target (or those in $FUZZ_TARGETS) under afl-fuzz for SECONDS
#                                       each; prints executions, coverage, crashes and hangs per target, and
#                                       writes them as a Markdown table to RESULTS if given
# Installs what it needs (afl++ from apt, the SharpFuzz tool) when missing. Fails on any finding.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/../.."

DOTNET=${DOTNET:-dotnet}
SHARPFUZZ_VERSION=2.3.0
work=build/fuzz
corpus=tests/fuzz/corpus
regressions=tests/fuzz/regressions
read -r -a targets <<< "${FUZZ_TARGETS:-nbd-handshake nbd-transmission fuse control dm-table size netlink dmptab fault-rule http}"

die() {
    printf 'fuzz: %s\n' "$*" >&2
    exit 1
}

# The uninstrumented build (for replays) in $work/bin.
build() {
    "$DOTNET" build tests/fuzz/Dmp.Fuzz/Dmp.Fuzz.csproj -c Release -nologo -clp:NoSummary -v q -o "$work/bin" >&2
}

# The inputs of target $1: its seeds and its regression inputs.
inputs() {
    local dir
    for dir in "$corpus/$1" "$regressions/$1"; do
        [[ -d $dir ]] && printf '%s\n' "$dir"
    done
    return 0
}

replay() {
    build
    local target failed=0
    for target in "${targets[@]}"; do
        mapfile -t dirs < <(inputs "$target")
        ((${#dirs[@]})) || die "$target has no corpus under $corpus/$target"
        "$work/bin/Dmp.Fuzz" --replay "$target" "${dirs[@]}" || failed=1
    done
    return $failed
}

install_tools() {
    if ! command -v afl-fuzz > /dev/null; then
        echo "fuzz: installing afl++" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends afl++ >&2 ||
            { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends afl++ >&2; }
    fi
    if [[ ! -x $work/tools/sharpfuzz ]]; then
        "$DOTNET" tool install --tool-path "$work/tools" SharpFuzz.CommandLine --version "$SHARPFUZZ_VERSION" >&2
    fi
}

# A fresh copy of the build with dmp.dll instrumented (SharpFuzz refuses an assembly it instrumented already).
instrument() {
    rm -rf "$work/instrumented"
    cp -r "$work/bin" "$work/instrumented"
    "$work/tools/sharpfuzz" "$work/instrumented/dmp.dll" >&2
}

# stat FILE KEY: a value from afl-fuzz's fuzzer_stats.
stat() {
    sed -n "s/^$2 *: //p" "$1"
}

fuzz() {
    local seconds=$1 results=${2:-} target failed=0 rows=()
    [[ $seconds =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a positive number, not '$seconds'"
    install_tools
    build
    instrument
    # In a container: no CPU frequency governor, core dumps piped elsewhere, no core to bind to.
    export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
    # The target is the .NET host, instrumented at run time by SharpFuzz, not by afl's compilers.
    export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_FAST_CAL=1
    printf '%-17s %12s %8s %7s %7s %10s %8s %6s\n' TARGET EXECUTIONS EXECS/S EDGES BITMAP STABILITY CRASHES HANGS
    for target in "${targets[@]}"; do
        local in=$work/in/$target out=$work/out/$target
        rm -rf "$in" "$out"
        mkdir -p "$in" "$work/out"
        mapfile -t dirs < <(inputs "$target")
        ((${#dirs[@]})) || die "$target has no corpus under $corpus/$target"
        find "${dirs[@]}" -type f -exec cp -t "$in" {} +
        # -t: one input may take 2 s before it counts as a hang (each takes well under a millisecond).
        if ! afl-fuzz -V "$seconds" -t 2000 -m none -i "$in" -o "$out" -- "$work/instrumented/Dmp.Fuzz" "$target" \
            > "$work/$target.log" 2>&1; then
            tail -n 20 "$work/$target.log" >&2
            die "afl-fuzz failed on $target (log: $work/$target.log)"
        fi
        local stats=$out/default/fuzzer_stats
        local execs edges bitmap stability crashes hangs speed
        execs=$(stat "$stats" execs_done) speed=$(stat "$stats" execs_per_sec) edges=$(stat "$stats" edges_found)
        bitmap=$(stat "$stats" bitmap_cvg) stability=$(stat "$stats" stability)
        crashes=$(stat "$stats" saved_crashes) hangs=$(stat "$stats" saved_hangs)
        printf '%-17s %12s %8.0f %7s %7s %10s %8s %6s\n' "$target" "$execs" "$speed" "$edges" "$bitmap" "$stability" "$crashes" "$hangs"
        rows+=("| $target | $execs | ${speed%.*} | $edges | $bitmap | $stability | $crashes | $hangs |")
        if ((crashes + hangs)); then
            echo "fuzz: $target: findings in $out/default/crashes and $out/default/hangs" >&2
            failed=1
        fi
    done
    if [[ -n $results ]]; then
        {
            printf '# The last long fuzzing run\n\n'
            printf '`make fuzz FUZZ_SECONDS=%s` on %s, dmp at %s, %s CPUs (%s), afl-fuzz %s, SharpFuzz %s.\n' \
                "$seconds" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
                "$(nproc)" "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)" \
                "$(dpkg-query -W -f='${Version}' afl++ 2>/dev/null || echo '?')" "$SHARPFUZZ_VERSION"
            printf 'Edges are those afl saw in dmp.dll; bitmap is their share of its 64 Ki map; stability is how often an\n'
            printf 'input took the same edges again (below 100%% where threads and socket timing play a part).\n\n'
            printf '| target | executions | execs/s | edges | bitmap | stability | crashes | hangs |\n'
            printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
            printf '%s\n' "${rows[@]}"
        } > "$results"
    fi
    return $failed
}

case ${1:-} in
    replay) replay ;;
    fuzz) fuzz "${2:-60}" "${3:-}" ;;
    *) die "usage: run.sh replay | run.sh fuzz SECONDS [RESULTS]" ;;
esac
