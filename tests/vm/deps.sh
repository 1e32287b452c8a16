#!/usr/bin/env bash
# Installs what the VM tests need: the Debian packages, and a stock Debian
# kernel unpacked into the cache (default /var/cache/dmp-vm, or $DMP_VM_CACHE).
# Idempotent; prints the kernel version in use.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

export DEBIAN_FRONTEND=noninteractive
apt_updated=

# Runs an apt command; if it fails, refreshes the package lists once and
# retries (a fresh machine may have no lists, an old one stale versions).
apt_retry() {
    "$@" && return 0
    [[ -z $apt_updated ]] || return 1
    apt_updated=1
    echo "deps.sh: '$*' failed; running apt-get update and retrying" >&2
    apt-get update -q >&2
    "$@"
}

declare -A state=()
while read -r pkg abbrev; do
    state[$pkg]=$abbrev
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${VM_PACKAGES[@]}" 2>/dev/null || true)
missing=()
for pkg in "${VM_PACKAGES[@]}"; do
    [[ ${state[$pkg]:-} == ii ]] || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "deps.sh: installing ${missing[*]}" >&2
    apt_retry apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi

# linux-image-amd64 depends on the current linux-image-VERSION-amd64.
# (awk reads all of its input, so that apt-cache never meets a closed pipe.)
current_kernel() {
    apt-cache depends linux-image-amd64 2>/dev/null | awk '
        !v && sub(/^ *Depends: linux-image-/, "") && /-amd64$/ { v = $0 }
        END { if (v) print v; else exit 1 }'
}
version=$(apt_retry current_kernel) ||
    vm_die "cannot find the kernel version: apt-cache depends linux-image-amd64 names none"

# Unpacks the xz-compressed kernel image inside a bzImage, if it is one.
extract_vmlinux() {
    local offset
    offset=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | awk -F: 'NR == 1 { print $1 }')
    [[ -n $offset ]] || return 0
    tail -c +$((offset + 1)) "$1" | xz -dc --single-stream >"$2.new" 2>/dev/null || true
    if [[ $(head -c 4 "$2.new") == $'\x7fELF' ]]; then mv "$2.new" "$2"; else rm -f "$2.new"; fi
}

kdir=$(vm_kernel_dir "$version")
if [[ ! -d $kdir ]]; then
    vm_lock_cache
    if [[ ! -d $kdir ]]; then # another run may have made it while we waited
        echo "deps.sh: fetching kernel $version into $VM_CACHE" >&2
        work=$(mktemp -d "$VM_CACHE/.kernel-XXXXXX")
        trap 'rm -rf -- "$work"' EXIT
        # The -unsigned package holds the same kernel and its modules, without
        # the signed-image indirection. Sandbox::User=root: the _apt user may
        # not be able to write here, and apt would warn about it.
        (cd "$work" && apt_retry apt-get download -q -o APT::Sandbox::User=root \
            "linux-image-$version-unsigned" >&2)
        dpkg -x "$work"/linux-image-*.deb "$work/root"
        # depmod -b and modprobe -d look under DIR/lib/modules; newer
        # packages ship usr/lib/modules only.
        if [[ ! -e $work/root/lib && -d $work/root/usr/lib/modules ]]; then
            ln -s usr/lib "$work/root/lib"
        fi
        [[ -f $work/root/boot/vmlinuz-$version ]] ||
            vm_die "the package has no boot/vmlinuz-$version"
        depmod -b "$work/root" "$version"
        # qemu boots an uncompressed ELF kernel with a PVH entry point
        # directly: no firmware, no decompression, about 3 s less per boot
        # under TCG. guest.sh falls back to vmlinuz without it.
        if grep -qx 'CONFIG_PVH=y' "$work/root/boot/config-$version"; then
            extract_vmlinux "$work/root/boot/vmlinuz-$version" "$work/root/boot/vmlinux-$version"
        fi
        # Rename last, so a cache entry is always complete.
        mv "$work/root" "$kdir"
    fi
fi

if [[ $(cat "$VM_CACHE/kernel-version" 2>/dev/null) != "$version" ]]; then
    vm_lock_cache
    printf '%s\n' "$version" >"$VM_CACHE/.kernel-version.$$"
    mv "$VM_CACHE/.kernel-version.$$" "$VM_CACHE/kernel-version"
fi
echo "$version"
