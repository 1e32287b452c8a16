using System.Runtime.InteropServices;

namespace Dmp.Native.IoUring;

/// <summary><c>struct io_cqring_offsets</c>: where the completion ring's fields lie in its mapping.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringCompletionRingOffsets
{
    public uint Head;
    public uint Tail;
    public uint RingMask;
    public uint RingEntries;
    public uint Overflow;
    public uint Entries;
    public uint Flags;
    public uint Reserved1;
    public ulong Reserved2;
}
