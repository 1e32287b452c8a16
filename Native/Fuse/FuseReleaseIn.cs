using System.Runtime.InteropServices;

namespace Dmp.Native.Fuse;

/// <summary><c>struct fuse_release_in</c>, 24 bytes: the body of RELEASE and RELEASEDIR.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct FuseReleaseIn
{
    public ulong FileHandle;
    public uint Flags;
    public uint ReleaseFlags;
    public ulong LockOwner;
}
