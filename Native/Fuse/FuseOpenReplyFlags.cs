namespace Dmp.Native.Fuse;

/// <summary><c>FOPEN_*</c> flags of <see cref="FuseOpenOut"/>.</summary>
[Flags]
internal enum FuseOpenReplyFlags : uint
{
    None = 0,

    /// <summary>Bypass the page cache: every read(2) becomes one READ, not clamped to the file size.</summary>
    DirectIo = 1 << 0,

    /// <summary>The file cannot seek (lseek fails with ESPIPE), like a pipe.</summary>
    NonSeekable = 1 << 2,

    /// <summary>The file is a stream: the kernel keeps no position, and reads may run at once.</summary>
    Stream = 1 << 4,
}
