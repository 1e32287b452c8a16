using System.Runtime.InteropServices;

namespace Dmp.Native.IoUring;

/// <summary><c>struct io_sqring_offsets</c>: where the submission ring's fields lie in its mapping.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringSubmissionRingOffsets
{
    public uint Head;
    public uint Tail;
    public uint RingMask;
    public uint RingEntries;
    public uint Flags;
    public uint Dropped;
    public uint Array;
    public uint Reserved1;
    public ulong Reserved2;
}
