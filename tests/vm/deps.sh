#!/usr/bin/env bash
# Installs what the VM tests need: the Debian packages, and a stock Debian
# kernel unpacked into the cache (default /var/cache/dmp-vm, or $DMP_VM_CACHE).
# Idempotent; prints "SERIES VERSION" for each kernel.
# Usage: deps.sh [KERNEL...], KERNEL a series of VM_KERNELS (6.1, 6.12); default all.
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

# The kernels, by series (common.sh's VM_KERNELS): each is the kernel that
# linux-image-amd64 depends on, as apt would install it (6.1) or from the
# backports suite (6.12), which deps.sh adds to apt's sources if need be.
codename=$(. /etc/os-release && printf '%s\n' "${VERSION_CODENAME:-}")
declare -A release=([6.1]='' [6.12]="$codename-backports")
kernels=("$@")
((${#kernels[@]})) || kernels=("${VM_KERNELS[@]}")
for series in "${kernels[@]}"; do
    vm_is_series "$series" || vm_die "no such kernel: $series (there are ${VM_KERNELS[*]})"
done

# Adds suite $1 of the Debian mirror that serves $codename to apt's sources,
# unless apt has it already, and fetches that suite's package list alone.
add_suite() {
    local suite=$1 file uri keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    file=/etc/apt/sources.list.d/dmp-vm-$suite.sources
    # apt's sources, a line "deb RELEASE URI" each.
    sources() {
        # shellcheck disable=SC2016 # $(...) is apt's format, not the shell's
        apt-get indextargets --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' 2>/dev/null
    }
    [[ $'\n'$(sources) == *$'\n'"deb $suite "* ]] && return 0
    vm_lock_cache
    # Another run may have added it while we waited.
    [[ $'\n'$(sources) == *$'\n'"deb $suite "* ]] && return 0
    uri=$(sources | awk -v r="$codename" '$1 == "deb" && $2 == r && !u { u = $3 } END { print u }')
    [[ -n $codename && -n $uri ]] ||
        vm_die "apt has no source for '$codename': cannot tell which mirror serves $suite"
    echo "deps.sh: adding $suite from $uri to apt's sources ($file)" >&2
    {
        echo "# Added by dmp's tests/vm/deps.sh: the guest kernel of $suite."
        echo "Types: deb"
        echo "URIs: $uri"
        echo "Suites: $suite"
        echo "Components: main"
        [[ ! -f $keyring ]] || echo "Signed-By: $keyring"
    } >"$file.new"
    mv "$file.new" "$file"
    apt-get update -q -o Dir::Etc::SourceList="$file" -o Dir::Etc::SourceParts=- \
        -o APT::Get::List-Cleanup=0 >&2
}

# Sets versions[SERIES], for each series asked for, to the kernel that
# linux-image-amd64 depends on in its release (or as apt would install it,
# for an empty release); fails if one is missing. One apt-cache run for all:
# it prints a block per package asked for, in order.
declare -A versions=()
kernel_versions() {
    local specs=() series deps=() i=0
    for series in "${kernels[@]}"; do
        specs+=("linux-image-amd64${release[$series]:+/${release[$series]}}")
    done
    mapfile -t deps < <(apt-cache depends "${specs[@]}" 2>/dev/null | awk '
        /^[^ ]/ { if (n++) print v; v = "" }
        !v && sub(/^ *Depends: linux-image-/, "") && /-amd64$/ { v = $0 }
        END { if (n) print v }')
    for series in "${kernels[@]}"; do
        versions[$series]=${deps[i++]:-}
        [[ -n ${versions[$series]} ]] || return 1
    done
}

# decompress_at IMAGE OUT MAGIC COMMAND...: runs COMMAND on IMAGE from the
# first MAGIC on; keeps its output as OUT if that is an ELF file.
decompress_at() {
    local image=$1 out=$2 magic=$3 offset
    shift 3
    offset=$(LC_ALL=C grep -obUaP "$magic" "$image" | awk -F: 'NR == 1 { print $1 }') || true
    [[ -n $offset ]] || return 0
    # The compressor may fail on what follows its stream: the ELF check judges.
    tail -c +$((offset + 1)) "$image" | "$@" >"$out.new" 2>/dev/null || true
    if [[ $(head -c 4 "$out.new") == $'\x7fELF' ]]; then mv "$out.new" "$out"; else rm -f "$out.new"; fi
}

# Unpacks the kernel image inside a bzImage: xz (Debian's 6.1) or zstd (6.12).
extract_vmlinux() {
    decompress_at "$1" "$2" '\xfd7zXZ\x00' xz -dc --single-stream
    [[ -f $2 ]] || decompress_at "$1" "$2" '\x28\xb5\x2f\xfd' zstd -dcq
}

# Unpacks linux-image-$1-unsigned into the cache, unless it is there.
fetch_kernel() {
    local version=$1 kdir
    kdir=$(vm_kernel_dir "$version")
    [[ ! -d $kdir ]] || return 0
    vm_lock_cache
    [[ ! -d $kdir ]] || return 0 # another run may have made it while we waited
    echo "deps.sh: fetching kernel $version into $VM_CACHE" >&2
    work=$(mktemp -d "$VM_CACHE/.kernel-XXXXXX")
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
    rm -rf -- "$work"
    work=''
}
work=''
trap 'if [[ -n $work ]]; then rm -rf -- "$work"; fi' EXIT

# set_version FILE VERSION: FILE in the cache says VERSION, replaced whole.
set_version() {
    [[ $(cat "$VM_CACHE/$1" 2>/dev/null) != "$2" ]] || return 0
    vm_lock_cache
    printf '%s\n' "$2" >"$VM_CACHE/.$1.$$"
    mv "$VM_CACHE/.$1.$$" "$VM_CACHE/$1"
}

if ! kernel_versions; then
    for series in "${kernels[@]}"; do
        [[ -z ${release[$series]} ]] || add_suite "${release[$series]}"
    done
    if ! apt_retry kernel_versions; then
        for series in "${kernels[@]}"; do
            [[ -n ${versions[$series]} ]] ||
                echo "deps.sh: apt-cache depends linux-image-amd64${release[$series]:+/${release[$series]}} names no kernel" >&2
        done
        vm_die "cannot find the kernels to fetch"
    fi
fi
for series in "${kernels[@]}"; do
    version=${versions[$series]}
    [[ $version == "$series".* ]] ||
        vm_die "kernel $series: linux-image-amd64${release[$series]:+/${release[$series]}} depends on $version, not a $series kernel (this is for Debian 12, bookworm)"
    fetch_kernel "$version"
    set_version "kernel-version-$series" "$version"
    # What guest.sh read before there were several kernels: the default's.
    [[ $series != "${VM_KERNELS[0]}" ]] || set_version kernel-version "$version"
    echo "$series $version"
done
