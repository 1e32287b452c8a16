# bash completion for dmp(8).
#
# dmp completes itself: System.CommandLine's [suggest:POS] directive answers with the commands, options and
# values that fit where the cursor is, so the completions never disagree with the binary's --help. The device
# names (nbdK, dm names) come from the running daemon's device table (RUNDIR/devices, or that of --run-dir on
# the line): without a daemon there is no table, and nothing is offered. Where dmp offers nothing that fits
# (a BACKING path, --run-dir DIR, --metrics-textfile PATH), file names are completed.

_dmp()
{
    local cur=${COMP_WORDS[COMP_CWORD]}
    # The line up to the cursor, with the command itself as dmp names its root (it may have been typed as ./dmp).
    local line=${COMP_LINE:0:COMP_POINT}
    line="dmp${line#*"${COMP_WORDS[0]}"}"

    local word
    local -a offered=()
    while IFS= read -r word; do
        case $word in
        -\? | /\? | /h) ;; # --help's other spellings are noise in a list
        *) offered+=("$word") ;;
        esac
    done < <("${COMP_WORDS[0]}" "[suggest:${#line}]" "$line" 2>/dev/null)

    local IFS=$'\n' # compgen -W splits its words on IFS
    mapfile -t COMPREPLY < <(compgen -W "${offered[*]}" -- "$cur")
    if ((${#COMPREPLY[@]} == 0)) && [[ $cur != -* ]]; then
        compopt -o filenames 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    fi
}

complete -F _dmp dmp
