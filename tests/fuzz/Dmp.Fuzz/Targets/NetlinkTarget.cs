using Dmp.Native;
using Dmp.Native.Netlink;

namespace Dmp.Fuzz.Targets;

/// <summary>
/// What the kernel answers on the generic netlink socket, as one receive brings it: the reply to request 1 of the
/// nbd family, its attributes then read as the nbd client and the family lookup read them. A malformed message is
/// refused with EPROTO (a <see cref="NativeException"/>), never read past.
/// </summary>
internal static class NetlinkTarget
{
    /// <summary>The sequence number of the request the input answers, and its family, as the seeds have them.</summary>
    public const uint Sequence = 1;
    public const ushort FamilyId = 0x20;

    public static void Run(ReadOnlySpan<byte> input)
    {
        byte[] attributes = [];
        NetlinkReply? reply;
        try
        {
            reply = GenericNetlinkSocket.ReadMessages(input, Sequence, FamilyId, ref attributes);
        }
        catch (NativeException)
        {
            return;
        }

        if (reply is null)
        {
            return;
        }

        var read = new NetlinkAttributes(reply.Attributes);
        foreach (NetlinkAttribute attribute in read)
        {
            var nested = new NetlinkAttributes(attribute.Payload);
            _ = nested.TryGetUInt32(attribute.Type, out _);
            _ = nested.TryGetString(attribute.Type, out _);
        }

        _ = read.TryGetUInt16(1, out _);
        _ = read.TryGetUInt32(1, out _);
        _ = read.TryGetString(2, out _);
    }
}
