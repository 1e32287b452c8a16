using System.Runtime.InteropServices;

namespace Dmp.Native.IoUring;

/// <summary><c>struct io_uring_cqe</c>, 16 bytes: how one operation ended.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringCompletionEntry
{
    /// <summary>The submission's <see cref="IoUringSubmissionEntry.UserData"/>.</summary>
    public ulong UserData;

    /// <summary>What the syscall would have returned: a count, or -errno.</summary>
    public int Result;
    public uint Flags;
}
