using System.Runtime.InteropServices;

namespace Dmp.Native.IoUring;

/// <summary>
/// <c>struct io_uring_sqe</c>, 64 bytes: one operation for the kernel to start. The unions of the header
/// are named for what dmp puts in them; <see cref="Address3"/> and <see cref="Padding2"/> are where an
/// <c>IORING_OP_URING_CMD</c> carries its command bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringSubmissionEntry
{
    /// <summary>IORING_FSYNC_DATASYNC: fdatasync rather than fsync.</summary>
    public const uint FsyncDataOnly = 1;

    /// <summary>RWF_DSYNC (linux/fs.h): this write is durable when it completes, as if followed by fdatasync.</summary>
    public const uint WriteDataSync = 2;

    /// <summary>IOSQE_FIXED_FILE (in <see cref="Flags"/>): <see cref="FileDescriptor"/> is a slot of the ring's registered files.</summary>
    public const byte FixedFile = 1;

    /// <summary>POLLIN: there is data to read.</summary>
    public const uint PollIn = 1;

    public IoUringOpcode Opcode;
    public byte Flags;
    public ushort IoPriority;
    public int FileDescriptor;

    /// <summary>The file offset (<c>off</c>; <c>cmd_op</c> for a command).</summary>
    public ulong Offset;

    /// <summary>The buffer (<c>addr</c>).</summary>
    public ulong Address;
    public uint Length;

    /// <summary>The operation's own flags: <c>rw_flags</c>, <c>fsync_flags</c>, <c>poll32_events</c>...</summary>
    public uint OperationFlags;

    /// <summary>Handed back untouched in the completion: says which operation completed.</summary>
    public ulong UserData;
    public ushort BufferIndex;
    public ushort Personality;
    public int SpliceFileDescriptorIn;
    public ulong Address3;
    public ulong Padding2;

    /// <summary>An operation that does nothing and completes with 0.</summary>
    public void PrepareNop(ulong userData) => Prepare(IoUringOpcode.Nop, -1, null, 0, 0, 0, userData);

    /// <summary>pread of <paramref name="length"/> bytes at <paramref name="offset"/> into memory that stays put until completion.</summary>
    public void PrepareRead(int fd, byte* buffer, int length, long offset, ulong userData) =>
        Prepare(IoUringOpcode.Read, fd, buffer, (uint)length, (ulong)offset, 0, userData);

    /// <summary>pwritev2 of <paramref name="length"/> bytes at <paramref name="offset"/>, with RWF_* <paramref name="writeFlags"/>.</summary>
    public void PrepareWrite(int fd, byte* buffer, int length, long offset, uint writeFlags, ulong userData) =>
        Prepare(IoUringOpcode.Write, fd, buffer, (uint)length, (ulong)offset, writeFlags, userData);

    /// <summary>fallocate with FALLOC_FL_* <paramref name="mode"/> over a range (the kernel reads its length from <c>addr</c>, the mode from <c>len</c>).</summary>
    public void PrepareAllocate(int fd, int mode, long offset, long length, ulong userData) =>
        Prepare(IoUringOpcode.Fallocate, fd, (void*)length, (uint)mode, (ulong)offset, 0, userData);

    /// <summary>fdatasync.</summary>
    public void PrepareDataSync(int fd, ulong userData) => Prepare(IoUringOpcode.Fsync, fd, null, 0, 0, FsyncDataOnly, userData);

    /// <summary>Completes (once) when <paramref name="fd"/> has data to read, or has been shut down.</summary>
    public void PreparePollIn(int fd, ulong userData) => Prepare(IoUringOpcode.PollAdd, fd, null, 0, 0, PollIn, userData);

    private void Prepare(IoUringOpcode opcode, int fd, void* address, uint length, ulong offset, uint operationFlags, ulong userData)
    {
        this = default; // every field the operation does not use must be zero
        Opcode = opcode;
        FileDescriptor = fd;
        Address = (ulong)address;
        Length = length;
        Offset = offset;
        OperationFlags = operationFlags;
        UserData = userData;
    }
}
