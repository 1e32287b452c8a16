namespace Dmp.Nbd;

/// <summary>Sizes and magics of the NBD protocol (doc/proto.md of the reference implementation).</summary>
internal static class NbdProtocol
{
    public const ulong HandshakeMagic = 0x4e42444d41474943; // "NBDMAGIC"
    public const ulong OptionMagic = 0x49484156454F5054;    // "IHAVEOPT"
    public const ulong OptionReplyMagic = 0x0003e889045565a9;

    /// <summary>The 124 bytes of zeroes after an NBD_OPT_EXPORT_NAME reply, unless NO_ZEROES was agreed.</summary>
    public const int ExportNamePadding = 124;

    /// <summary>The longest option a client may send; names are at most 4096 bytes, so this leaves room.</summary>
    public const int MaxOptionLength = 64 * 1024;

    /// <summary>The block sizes advertised with NBD_INFO_BLOCK_SIZE: any byte range, 4 KiB preferred, 32 MiB at most.</summary>
    public const uint MinimumBlockSize = 1;
    public const uint PreferredBlockSize = 4096;

    public const uint RequestMagic = 0x25609513;
    public const uint SimpleReplyMagic = 0x67446698;

    public const int RequestHeaderLength = 28;
    public const int SimpleReplyLength = 16;

    /// <summary>The largest READ or WRITE served: the kernel's own limit (max_hw_sectors 65536 × 512).</summary>
    public const int MaxPayloadLength = 32 << 20;
}
