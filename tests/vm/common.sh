# shellcheck shell=bash disable=SC2034 # the variables are for the sourcing scripts
# Shared by the tests/vm scripts: sourced, never run.

VM_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
VM_CACHE=${DMP_VM_CACHE:-/var/cache/dmp-vm}
# The host tools the tests use (the guest runs the host's userland too) plus qemu
# and what builds the initramfs.
VM_PACKAGES=(qemu-system-x86 busybox-static cpio kmod xz-utils dmsetup fio
    nbdkit nbd-client libnbd-bin qemu-utils python3-prometheus-client zstd
    systemd prometheus curl zsh mandoc lintian openssl afl++)
# What the initramfs must load to mount a 9p root with a tmpfs overlay;
# modprobe adds their dependencies.
VM_BOOT_MODULES=(virtio_pci 9pnet_virtio 9p overlay)

vm_die() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

# The guest kernels, by series: 6.1 is Debian 12's own (linux-image-amd64),
# 6.12 that of its backports (linux-image-amd64/bookworm-backports). deps.sh
# fetches each; guest.sh boots the first unless told otherwise (--kernel, or
# DMP_VM_KERNEL), and run-all.sh runs every suite on each.
VM_KERNELS=(6.1 6.12)

# The unpacked linux-image package of kernel version $1.
vm_kernel_dir() {
    printf '%s/kernel-%s\n' "$VM_CACHE" "$1"
}

# vm_cached_version [KERNEL]: the full version (6.1.0-57-amd64, say) of
# KERNEL, a series of VM_KERNELS (default the first) as deps.sh last settled
# on it, or a full version; fails if that kernel is not in the cache.
vm_cached_version() {
    local kernel=${1:-${VM_KERNELS[0]}} version
    if vm_is_series "$kernel"; then
        version=$(cat "$VM_CACHE/kernel-version-$kernel" 2>/dev/null) || return 1
    else
        version=$kernel
    fi
    [[ -n $version && $version != */* && -d $(vm_kernel_dir "$version") ]] || return 1
    printf '%s\n' "$version"
}

# Succeeds if $1 is one of VM_KERNELS.
vm_is_series() {
    local series
    for series in "${VM_KERNELS[@]}"; do
        [[ $1 != "$series" ]] || return 0
    done
    return 1
}

# Quote for sh and bash alike: 'x' with ' written as '\''.
vm_quote() {
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

# Hold an exclusive lock on the cache until the calling shell exits, so that
# two runs never build the same cache entry at once.
vm_lock_cache() {
    [[ -z ${VM_LOCK_FD:-} ]] || return 0
    mkdir -p "$VM_CACHE"
    exec {VM_LOCK_FD}>"$VM_CACHE/.lock"
    flock "$VM_LOCK_FD"
}

# retry TENTHS COMMAND...: retries COMMAND every 0.1 s, TENTHS times at most, until it succeeds.
retry() {
    local tries=$1 try
    shift
    for ((try = 0; try < tries; try++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
