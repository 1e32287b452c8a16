using System.Buffers.Binary;

namespace Dmp.Nbd;

/// <summary>The 16-byte simple reply: magic, error, the request's cookie. A READ's data follows on success.</summary>
internal static class NbdSimpleReply
{
    public static void Write(Span<byte> bytes, int error, ulong cookie)
    {
        BinaryPrimitives.WriteUInt32BigEndian(bytes, NbdProtocol.SimpleReplyMagic);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[4..], (uint)error);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], cookie);
    }
}
