namespace Dmp.Native.Fuse;

/// <summary><c>FOPEN_*</c> flags of <see cref="FuseOpenOut"/>.</summary>
[Flags]
internal enum FuseOpenReplyFlags : uint
{
    None = 0,

    /// <summary>Bypass the page cache: every read(2) becomes one READ, not clamped to the file size.</summary>
    DirectIo = 1 << 0,
}
