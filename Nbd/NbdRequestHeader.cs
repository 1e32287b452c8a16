using System.Buffers.Binary;

namespace Dmp.Nbd;

/// <summary>A request as it comes off the wire: 28 big-endian bytes.</summary>
internal readonly struct NbdRequestHeader
{
    public NbdRequestHeader(NbdCommandFlags flags, NbdCommand command, ulong cookie, ulong offset, uint length)
    {
        Flags = flags;
        Command = command;
        Cookie = cookie;
        Offset = offset;
        Length = length;
    }

    public NbdCommandFlags Flags { get; }

    public NbdCommand Command { get; }

    /// <summary>Opaque to the server; echoed in the reply (the kernel packs a tag into it).</summary>
    public ulong Cookie { get; }

    public ulong Offset { get; }

    public uint Length { get; }

    /// <summary>Parses a header; false when the magic is wrong (the stream cannot be trusted any more).</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out NbdRequestHeader header)
    {
        if (bytes.Length < NbdProtocol.RequestHeaderLength ||
            BinaryPrimitives.ReadUInt32BigEndian(bytes) != NbdProtocol.RequestMagic)
        {
            header = default;
            return false;
        }

        header = new NbdRequestHeader(
            (NbdCommandFlags)BinaryPrimitives.ReadUInt16BigEndian(bytes[4..]),
            (NbdCommand)BinaryPrimitives.ReadUInt16BigEndian(bytes[6..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt32BigEndian(bytes[24..]));
        return true;
    }

    public void Write(Span<byte> bytes)
    {
        BinaryPrimitives.WriteUInt32BigEndian(bytes, NbdProtocol.RequestMagic);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[4..], (ushort)Flags);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[6..], (ushort)Command);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], Cookie);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[16..], Offset);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[24..], Length);
    }
}
