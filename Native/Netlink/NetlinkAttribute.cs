namespace Dmp.Native.Netlink;

/// <summary>One attribute: its type (flags stripped) and its payload.</summary>
internal readonly ref struct NetlinkAttribute
{
    public NetlinkAttribute(ushort type, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Payload = payload;
    }

    public ushort Type { get; }

    public ReadOnlySpan<byte> Payload { get; }
}
