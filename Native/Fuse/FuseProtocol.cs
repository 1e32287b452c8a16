namespace Dmp.Native.Fuse;

/// <summary>Constants of the FUSE kernel protocol (linux/fuse.h).</summary>
internal static class FuseProtocol
{
    public const uint MajorVersion = 7;

    /// <summary>The minor we speak: 7.31 has every field dmp uses, and the kernel accepts any older minor.</summary>
    public const uint MinorVersion = 31;

    public const ulong RootNodeId = 1;

    /// <summary>The kernel refuses a /dev/fuse read into a buffer smaller than this (FUSE_MIN_READ_BUFFER).</summary>
    public const int MinimumReadBuffer = 8192;

    /// <summary>The most a READ asks for: FUSE_DEFAULT_MAX_PAGES_PER_REQ pages, as dmp does not raise max_pages at INIT.</summary>
    public const uint MaxReadSize = 32 * 4096;

    public const uint DirectoryEntryTypeDirectory = 4; // DT_DIR
    public const uint DirectoryEntryTypeRegular = 8;   // DT_REG
    public const uint DirectoryEntryTypeLink = 10;     // DT_LNK
}
