using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Dmp.Native;

/// <summary>An owned Unix file descriptor, closed exactly once.</summary>
internal sealed class FileDescriptor : SafeHandle
{
    public FileDescriptor(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle == -1;

    /// <summary>The raw descriptor; the caller keeps this object alive while using it.</summary>
    public int Value => (int)handle;

    /// <summary>Opens <paramref name="path"/> (always close-on-exec), throwing on failure.</summary>
    public static FileDescriptor Open(string path, int flags, int mode = 0) =>
        TryOpen(path, flags, out int errno, mode) ?? throw new NativeException($"open {path}", errno);

    /// <summary>Opens <paramref name="path"/> (always close-on-exec); null and errno on failure.</summary>
    public static unsafe FileDescriptor? TryOpen(string path, int flags, out int errno, int mode = 0)
    {
        fixed (byte* name = NativeString.NullTerminated(path))
        {
            int fd = LibC.open(name, flags | LibC.O_CLOEXEC, (mode_t)mode);
            errno = fd < 0 ? Errno.Last : 0;
            return fd < 0 ? null : new FileDescriptor(fd);
        }
    }

    /// <summary>Wraps the result of a syscall that returns a descriptor, throwing on failure.</summary>
    public static FileDescriptor FromResult(int fd, string operation) =>
        fd >= 0 ? new FileDescriptor(fd) : throw NativeException.FromLast(operation);

    protected override bool ReleaseHandle() => LibC.close((int)handle) == 0;
}
