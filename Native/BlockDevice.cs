using Tmds.Linux;

namespace Dmp.Native;

/// <summary>Block-device ioctls (linux/fs.h).</summary>
internal static unsafe class BlockDevice
{
    internal const int GetSize64 = unchecked((int)0x80081272); // BLKGETSIZE64: _IOR(0x12, 114, size_t)
    internal const int Discard = 0x1277;                        // BLKDISCARD:   _IO(0x12, 119), u64[2] range
    internal const int ZeroOut = 0x127f;                        // BLKZEROOUT:   _IO(0x12, 127), u64[2] range
    internal const int GetLogicalBlockSize = 0x1268;            // BLKSSZGET:    _IO(0x12, 104), int

    /// <summary>The device's size in bytes.</summary>
    public static long GetSize(int fd, string path)
    {
        ulong size;
        return LibC.ioctl(fd, GetSize64, &size) == 0 ? (long)size : throw NativeException.FromLast($"size of {path}");
    }

    /// <summary>The smallest unit the device addresses (512, or 4096 on 4Kn disks): O_DIRECT's alignment.</summary>
    public static int GetBlockSize(int fd, string path)
    {
        int size;
        return LibC.ioctl(fd, GetLogicalBlockSize, &size) == 0 ? size : throw NativeException.FromLast($"block size of {path}");
    }

    /// <returns>0 or errno.</returns>
    public static int DiscardRange(int fd, long offset, long length) => RangeIoctl(fd, Discard, offset, length);

    /// <returns>0 or errno.</returns>
    public static int ZeroRange(int fd, long offset, long length) => RangeIoctl(fd, ZeroOut, offset, length);

    private static int RangeIoctl(int fd, int request, long offset, long length)
    {
        ulong* range = stackalloc ulong[2];
        range[0] = (ulong)offset;
        range[1] = (ulong)length;
        return Errno.Of(LibC.ioctl(fd, request, range));
    }
}
