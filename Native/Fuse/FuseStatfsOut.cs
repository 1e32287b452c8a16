using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_statfs_out</c> (a <c>struct fuse_kstatfs</c>), 80 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct FuseStatfsOut
{
    public ulong Blocks;
    public ulong FreeBlocks;
    public ulong AvailableBlocks;
    public ulong Files;
    public ulong FreeFiles;
    public uint BlockSize;
    public uint NameLength;
    public uint FragmentSize;
    public uint Padding;
    public fixed uint Spare[6];
}
