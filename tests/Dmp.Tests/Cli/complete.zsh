#!/usr/bin/env zsh
# complete.zsh FPATH_DIR LINE: types LINE and a Tab into a real interactive zsh (in a pty, with compinit's
# completion system and FPATH_DIR first in fpath) and prints each match zsh's compadd accepted, one a line.
# compadd is wrapped to report what it adds (after zsh's own matching against the word), then add it as usual.
emulate -L zsh
zmodload zsh/zpty || exit 2

# await MARKER: reads the shell's output until MARKER has been printed (the typed command echoes it split).
await() {
    local chunk
    output=''
    while zpty -r completion chunk; do
        output+=$chunk
        [[ $output == *"<$1>"* ]] && return 0
    done
    return 1
}

local output
zpty completion zsh -f -i || exit 2
zpty -w completion "PS1=''; PS2=''; fpath=(${(q)1} \$fpath); autoload -Uz compinit && compinit -u -D"
# (Only a word that is an -O, -A or -D option counts: a match such as /tmp/dmp-completion-Dx/ is no option.)
zpty -w completion 'compadd() {
    local word; for word in "$@"; do
        [[ $word == -- ]] && break
        if [[ $word == -[OAD]* ]]; then builtin compadd "$@"; return; fi
    done
    local -a added; builtin compadd -O added "$@"
    (( $#added )) && print -r -l -- "<""match>"${^added} >/dev/tty
    builtin compadd "$@"
}'
# Tab completes and then says so, so that nothing is typed before the completion has run.
zpty -w completion 'complete-and-say() { zle complete-word; print -r -- "<comp""leted>" >/dev/tty; }'
zpty -w completion 'zle -N complete-and-say && bindkey "^I" complete-and-say && print -r -- "<rea""dy>"'
await ready || exit 2
zpty -w -n completion "$2"$'\t'
await completed || exit 2
local matches=$output
zpty -w completion $'\C-e\C-u''exit'
zpty -d completion
print -r -- ${matches//$'\r'/} | sed -n 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/^.*<match>//p' | sort -u
