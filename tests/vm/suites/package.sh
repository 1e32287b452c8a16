#!/usr/bin/env bash
# make deb's package on a real Debian system: dpkg -i puts every file where it belongs (and enables the
# unit, as Debian packages do), the installed dmp loads and unloads a device, dpkg -r removes it but the
# admin's dmptab, and dpkg --purge leaves nothing behind. The guest's root is the host's userland under a
# throwaway overlay, so the host's own dpkg database never sees the package.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../lib.sh"
# shellcheck source=SCRIPTDIR/../dmp.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/../dmp.sh"

version=$(cat VERSION)
deb=build/dmp_${version}_amd64.deb
# Where the package and its scripts may leave something, listed before and after, so that a purge is seen to
# leave nothing (the folders only: a find through all of /etc and /usr takes a minute under emulation).
touched=(/etc/dmp /etc/systemd /lib/systemd/system /usr/sbin /usr/share/man/man8
    /usr/share/bash-completion/completions /usr/share/zsh/vendor-completions /usr/share/doc/dmp
    /usr/share/lintian/overrides /var/lib/systemd)
listing() {
    find "${touched[@]}" -xdev 2>/dev/null | sort
    find /var/lib/dpkg/info -name 'dmp.*'
}
# The unit and the example dmptab are in the package when the tree has them (make install installs what is there).
unit=$([[ -e contrib/systemd/dmp.service ]] && echo yes || echo no)
dmptab=$([[ -e contrib/dmptab ]] && echo yes || echo no)

# man-db's trigger rebuilds the whole index at each dpkg run, minutes under emulation; the page is found without it.
rm -f /var/lib/man-db/auto-update
ok "make deb built $deb" test -s "$deb"
before=$(listing)
fails "dmp is not installed yet" dpkg-query -W dmp
ok "dpkg -i installs it" dpkg -i "$deb"
is "dpkg: dmp $version installed" "$(dpkg-query -W -f '${Status} ${Version}' dmp)" "install ok installed $version"
for path in /usr/sbin/dmp /usr/share/man/man8/dmp.8.gz /usr/share/bash-completion/completions/dmp \
    /usr/share/zsh/vendor-completions/_dmp /usr/share/doc/dmp/copyright /usr/share/doc/dmp/changelog.gz; do
    ok "$path is installed" test -s "$path"
done
ok "the files are those md5sums lists, unchanged" dpkg --verify dmp
is "dmp --version says the package's version" "$(/usr/sbin/dmp --version)" "$version"
if command -v man >/dev/null; then
    is "man -w dmp finds the page" "$(man -w dmp)" /usr/share/man/man8/dmp.8.gz
fi
if [[ $unit == yes ]]; then
    ok "the unit is in /lib/systemd/system" test -s /lib/systemd/system/dmp.service
    ok "the unit names the installed binary" grep -q '/usr/sbin/dmp' /lib/systemd/system/dmp.service
    is "the unit is enabled, as Debian enables a package's services" "$(systemctl is-enabled dmp.service 2>&1)" enabled
fi
if [[ $dmptab == yes ]]; then
    is "/etc/dmp/dmptab is the package's conffile" "$(dpkg-query -W -f '${Conffiles}' dmp | awk '{print $1}')" /etc/dmp/dmptab
fi
# complete LINE: what the installed bash completion offers for LINE (the cursor at its end), on one line.
complete() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    bash -c 'source /usr/share/bash-completion/completions/dmp
        COMP_LINE=$1 COMP_POINT=${#1}
        read -ra COMP_WORDS <<<"$1"
        [[ $1 != *" " ]] || COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _dmp
        echo "${COMPREPLY[*]}"' complete "$1"
}
is "bash completes a command from the installed script" "$(complete "dmp det")" detach

# The installed binary does what ./dmp does (a named backing: a bare load would bring up the dmptab).
ok "/usr/sbin/dmp load memory --size 16M" /usr/sbin/dmp load memory --size 16M
is "nbd0 serves 16M" "$(cat /sys/block/nbd0/size)" 32768
ok "dd writes 4k to nbd0" dd if=/dev/zero of=/dev/nbd0 bs=4k count=1 oflag=direct status=none
like "stat/volumes counts it" "$(cat /run/dmp/module/stat/volumes)" $'write:\n reqs: 1\n'
ok "dmsetup create pk1 on nbd0" dmsetup create pk1 --table "0 1024 linear /dev/nbd0 0"
is "dmp detach completes to the daemon's device" "$(complete "dmp detach n")" nbd0
is "dmp remove completes to the dm device the kernel says maps it" "$(complete "dmp remove p")" pk1
ok "dmsetup remove pk1" dmsetup remove pk1
ok "/usr/sbin/dmp unload" /usr/sbin/dmp unload
fails "the run directory is gone" test -e /run/dmp

ok "dpkg -r removes it" dpkg -r dmp
for path in /usr/sbin/dmp /usr/share/man/man8/dmp.8.gz /usr/share/bash-completion/completions/dmp \
    /usr/share/zsh/vendor-completions/_dmp /lib/systemd/system/dmp.service /usr/share/doc/dmp; do
    fails "$path is gone" test -e "$path"
done
if [[ $dmptab == yes ]]; then
    ok "the admin's /etc/dmp/dmptab stays until purge" test -s /etc/dmp/dmptab
    is "dpkg: only its configuration is left" "$(dpkg-query -W -f '${Status}' dmp)" "deinstall ok config-files"
fi
ok "dpkg --purge purges it" dpkg --purge dmp
fails "dpkg knows no dmp" dpkg-query -W dmp
fails "/etc/dmp is gone" test -e /etc/dmp
after=$(listing)
is "nothing is left: the files are those before the install" "$(diff <(echo "$before") <(echo "$after"))" ""
done_testing
