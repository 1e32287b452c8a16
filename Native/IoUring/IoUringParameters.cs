using System.Runtime.InteropServices;

namespace Dmp.Native.IoUring;

/// <summary><c>struct io_uring_params</c>: what io_uring_setup is asked for, and what it answers.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringParameters
{
    /// <summary>IORING_FEAT_SINGLE_MMAP: both rings lie in one mapping (5.4).</summary>
    public const uint FeatureSingleMmap = 1 << 0;

    /// <summary>IORING_FEAT_NODROP: completions are never dropped when the completion ring is full (5.5).</summary>
    public const uint FeatureNoDrop = 1 << 1;

    /// <summary>IORING_FEAT_RW_CUR_POS (5.6): the release that brought IORING_OP_READ and IORING_OP_WRITE.</summary>
    public const uint FeatureReadWriteCurrentPosition = 1 << 3;

    public uint SubmissionEntries;
    public uint CompletionEntries;
    public uint Flags;
    public uint SubmissionThreadCpu;
    public uint SubmissionThreadIdle;
    public uint Features;
    public uint WorkQueueFd;
    public fixed uint Reserved[3];
    public IoUringSubmissionRingOffsets SubmissionRing;
    public IoUringCompletionRingOffsets CompletionRing;
}
