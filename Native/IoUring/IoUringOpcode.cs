namespace Dmp.Native.IoUring;

/// <summary>The <c>IORING_OP_*</c> operations dmp submits (linux/io_uring.h).</summary>
internal enum IoUringOpcode : byte
{
    Nop = 0,
    Fsync = 3,
    PollAdd = 6,
    Fallocate = 17,
    Read = 22,
    Write = 23,
}
