#!/usr/bin/env bash
# Runs SCRIPT inside a stock Debian kernel under qemu (TCG), in a chroot of
# the host's own userland, and exits with SCRIPT's exit status. See README.md.
#
# How results come back: a second 9p share (tag "job", a temp dir on the
# host) carries the job description in, and SCRIPT's stdout+stderr
# ("output") and exit status ("status") out. It is mounted cache=none, so
# every guest write has reached the host file when write() returns; the
# status is written last. The kernel console goes to a separate log file.
set -euo pipefail
# shellcheck source=SCRIPTDIR/common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

usage() {
    echo "usage: ${0##*/} [--kernel $(IFS='|' && echo "${VM_KERNELS[*]}")|VERSION] [--timeout SECS] [--mem MB] [--smp N] [--init shell|systemd] [--env NAME=VALUE]... SCRIPT [ARGS...]" >&2
    exit 2
}

kernel=${DMP_VM_KERNEL:-${VM_KERNELS[0]}}
timeout=600 mem=2048 smp=2 init=shell
envs=()
while (($#)); do
    case $1 in
    --kernel)
        [[ -n ${2:-} ]] || usage
        kernel=$2
        shift 2
        ;;
    --timeout | --mem | --smp)
        [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage
        printf -v "${1#--}" %s "$2" # sets timeout, mem or smp
        shift 2
        ;;
    --init)
        [[ ${2:-} == @(shell|systemd) ]] || usage
        init=$2
        shift 2
        ;;
    --env)
        [[ ${2:-} =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage
        envs+=("$2")
        shift 2
        ;;
    --) shift && break ;;
    -*) usage ;;
    *) break ;;
    esac
done
(($#)) || usage
script=$1
shift
[[ -f $script ]] || vm_die "no such script: $script"
[[ $script == /* ]] || script=$PWD/$script
cwd=$(pwd -P)

# The kernel: a series (deps.sh fetches it if need be) or a version in the cache.
vm_is_series "$kernel" || vm_cached_version "$kernel" >/dev/null ||
    vm_die "no such kernel: $kernel (name one of ${VM_KERNELS[*]}, or a version with a kernel-VERSION in $VM_CACHE)"
if ! version=$(vm_cached_version "$kernel") || ! command -v qemu-system-x86_64 >/dev/null; then
    # (For a version already in the cache, deps.sh need only install qemu.)
    if vm_is_series "$kernel"; then "$VM_DIR/deps.sh" "$kernel"; else "$VM_DIR/deps.sh" "${VM_KERNELS[0]}"; fi >&2
    version=$(vm_cached_version "$kernel") || vm_die "deps.sh left no kernel $kernel in $VM_CACHE"
fi
kdir=$(realpath "$(vm_kernel_dir "$version")")
image=$kdir/boot/vmlinux-$version # see deps.sh
[[ -f $image ]] || image=$kdir/boot/vmlinuz-$version

# The initramfs: busybox, the init script and the modules a 9p root needs,
# cached under a hash of all that goes into it.
initrd_path() {
    local key out ko dest n=10
    key=$({
        cat "$VM_DIR/initramfs-init.sh" /bin/busybox
        printf '%s\n' "$version" "${VM_BOOT_MODULES[@]}"
    } | sha256sum | cut -c1-16)
    out=$VM_CACHE/initrd-$version-$key.cpio.gz
    if [[ ! -f $out ]]; then
        vm_lock_cache
        # Not local: the trap runs after the function has returned. This
        # function runs in a subshell, whose exit runs the trap.
        stage=$(mktemp -d "$VM_CACHE/.initrd-XXXXXX")
        trap 'rm -rf -- "$stage"' EXIT
        mkdir -p "$stage"/root/{bin,dev,proc,sys,job,host,ovl,newroot,modules}
        cp /bin/busybox "$stage/root/bin/"
        ln -s busybox "$stage/root/bin/sh"
        install -m 755 "$VM_DIR/initramfs-init.sh" "$stage/root/init"
        # busybox insmod resolves no dependencies: keep modprobe's order. It
        # takes no compressed modules (Debian's 6.12 ships .ko.xz): unpack them.
        while read -r ko; do
            dest=$stage/root/modules/$((n++))-${ko##*/}
            case $ko in
            *.ko.xz) xz -dc "$ko" >"${dest%.xz}" ;;
            *.ko.zst) zstd -dcq "$ko" >"${dest%.zst}" ;;
            *.ko.gz) gzip -dc "$ko" >"${dest%.gz}" ;;
            *) cp "$ko" "$dest" ;;
            esac
        done < <(modprobe -d "$kdir" -S "$version" --show-depends -a "${VM_BOOT_MODULES[@]}" |
            awk '$1 == "insmod" && !seen[$2]++ { print $2 }')
        [[ -n $(ls "$stage/root/modules") ]] || vm_die "modprobe found no modules for the initramfs"
        (cd "$stage/root" && find . -print0 | cpio --null -o -H newc -R 0:0 --quiet) |
            gzip -1 >"$stage/initrd"
        mv "$stage/initrd" "$out"
        # Drop initramfs images of old inputs (qemu reads its image at start).
        find "$VM_CACHE" -maxdepth 1 -name 'initrd-*.cpio.gz' -mtime +7 -delete
    fi
    printf '%s\n' "$out"
}
# In a subshell, so that the cache lock is dropped before the guest boots.
initrd=$(initrd_path)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dmp-vm.XXXXXX")
[[ $tmp != *,* ]] || vm_die "qemu cannot take a path with a comma: $tmp"
share=$tmp/job
mkdir "$share"
: >"$share/output"
qpid='' tpid=''
cleanup() {
    set +e # a failing kill or wait must not stop the clean-up
    if [[ -n $qpid ]]; then kill "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null; fi
    if [[ -n $tpid ]]; then kill "$tpid" 2>/dev/null && wait "$tpid" 2>/dev/null; fi
    if [[ -n ${DMP_VM_KEEP:-} ]]; then
        echo "guest.sh: kept $tmp" >&2
    else
        rm -rf -- "$tmp"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The guest mounts fresh tmpfs on /tmp and /run. The top entry there of the
# cwd, of the script and of the kernel cache is bind-mounted back over it.
declare -A keep=()
for path in "$cwd" "$(realpath "$script")" "$kdir"; do
    if [[ $path =~ ^/(tmp|run)/[^/]+ ]]; then
        [[ ${BASH_REMATCH[0]} != *[[:space:]]* ]] ||
            vm_die "a path with blanks under /tmp or /run cannot be kept: $path"
        keep[${BASH_REMATCH[0]}]=1
    fi
done
{
    echo "KVER=$(vm_quote "$version")"
    echo "KMODDIR=$(vm_quote "$kdir/lib/modules/$version")"
    echo "KEEP=$(vm_quote "${!keep[*]}")"
    echo "INIT=$init"
} >"$share/boot.conf"

# The job, run by bash in the chroot.
{
    for e in ${envs[@]+"${envs[@]}"}; do
        echo "export ${e%%=*}=$(vm_quote "${e#*=}")"
    done
    echo "cd -- $(vm_quote "$cwd") || { echo 'guest.sh: the cwd is not there in the guest' >&2; exit 126; }"
    if [[ -x $script ]]; then printf 'exec'; else printf 'exec /bin/bash'; fi
    for arg in "$script" "$@"; do printf ' %s' "$(vm_quote "$arg")"; done
    echo
} >"$share/job.sh"

# tsc=reliable: TCG's TSC is sound, but the kernel distrusts it and would
# read the clock from the (emulated, slow) HPET instead.
qemu=(qemu-system-x86_64 -accel tcg -cpu max -m "$mem" -smp "$smp"
    -nodefaults -no-user-config -display none -monitor none -no-reboot -nic none
    -serial "file:$tmp/console.log"
    -kernel "$image" -initrd "$initrd"
    -append "console=ttyS0 quiet panic=-1 tsc=reliable"
    -fsdev "local,id=host,path=/,security_model=none,readonly=on,multidevs=remap"
    -device "virtio-9p-pci,fsdev=host,mount_tag=host"
    -fsdev "local,id=job,path=$share,security_model=none"
    -device "virtio-9p-pci,fsdev=job,mount_tag=job")

# timeout kills qemu (and, 5 s later, KILLs it if need be) past the limit.
timeout -k 5 "$timeout" "${qemu[@]}" </dev/null >"$tmp/qemu.log" 2>&1 &
qpid=$!
# Streams the output as it comes; after qemu has exited, tail reads the file
# once more to the end, then exits.
tail -n +1 -s 0.2 -f --pid="$qpid" "$share/output" &
tpid=$!
rc=0
wait "$qpid" || rc=$?
qpid=''
wait "$tpid" || true
tpid=''

if [[ -f $share/status ]]; then
    status=$(<"$share/status")
    [[ $status =~ ^[0-9]+$ ]] && exit "$status"
fi
if ((rc == 124 || rc == 137)); then
    why="timed out after $timeout s before the script reported a status"
    rc=124
else
    why="the guest stopped (qemu exit status $rc) before the script reported a status"
    rc=125
fi
{
    echo "guest.sh: $why"
    [[ ! -s $tmp/qemu.log ]] || sed 's/^/  qemu: /' "$tmp/qemu.log"
    if [[ -s $tmp/console.log ]]; then
        echo "guest.sh: the kernel console ended with:"
        tail -n 40 "$tmp/console.log" | sed 's/^/  | /'
    else
        echo "guest.sh: the kernel console is empty"
    fi
} >&2
exit "$rc"
