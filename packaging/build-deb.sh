#!/usr/bin/env bash
# build-deb.sh VERSION OUTPUT: packs what `make install` lays out under /usr, with the control data and
# maintainer scripts of packaging/debian/, into a Debian package at OUTPUT (dpkg-deb; nothing is compiled:
# the binary is the one make built).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
version=$1 output=$2

changelog_version=$(sed -n '1s/^dmp (\([^)]*\)).*/\1/p' packaging/debian/changelog)
if [[ $changelog_version != "$version" ]]; then
    echo "build-deb.sh: packaging/debian/changelog's latest entry is $changelog_version, VERSION says $version: add an entry" >&2
    exit 1
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/dmp
# Debian 12 keeps units in /lib/systemd/system (the /usr merge moves them in a later release).
make -s -o dmp -o build/dmp.8.gz install DESTDIR="$root" PREFIX=/usr UNITDIR=/lib/systemd/system
# The toolchain's .comment (compiler versions) is of no use at run time; the publish step stripped the rest.
strip --remove-section=.comment --remove-section=.note "$root/usr/sbin/dmp"

doc=$root/usr/share/doc/dmp
install -D -m 0644 packaging/debian/copyright "$doc/copyright"
gzip -9n < packaging/debian/changelog > "$doc/changelog.gz"
install -D -m 0644 packaging/lintian-overrides "$root/usr/share/lintian/overrides/dmp"

install -d -m 0755 "$root/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "packaging/debian/$script" "$root/DEBIAN/$script"
done
if [[ -e $root/etc/dmp/dmptab ]]; then
    echo /etc/dmp/dmptab > "$root/DEBIAN/conffiles"
fi
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$size/" packaging/debian/control > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums" "$root"/DEBIAN/conffiles 2>/dev/null || chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

mkdir -p "$(dirname -- "$output")"
dpkg-deb --root-owner-group --build "$root" "$output.new" >/dev/null
mv -f "$output.new" "$output"
echo "$output"
