namespace Dmp.Nbd;

/// <summary>Sizes and magics of the NBD transmission phase (doc/proto.md of the reference implementation).</summary>
internal static class NbdProtocol
{
    public const uint RequestMagic = 0x25609513;
    public const uint SimpleReplyMagic = 0x67446698;

    public const int RequestHeaderLength = 28;
    public const int SimpleReplyLength = 16;

    /// <summary>The largest READ or WRITE served: the kernel's own limit (max_hw_sectors 65536 × 512).</summary>
    public const int MaxPayloadLength = 32 << 20;
}
