using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Dmp.Native.Netlink;

/// <summary>
/// A NETLINK_GENERIC socket that sends one request at a time and collects its reply:
/// the family's answer (if any) and the final ACK or error.
/// </summary>
internal sealed unsafe class GenericNetlinkSocket : IDisposable
{
    private const int ReceiveBufferSize = 64 * 1024;

    private readonly FileDescriptor _fd;
    private readonly byte[] _receiveBuffer = new byte[ReceiveBufferSize];
    private uint _sequence;

    private GenericNetlinkSocket(FileDescriptor fd) => _fd = fd;

    public static GenericNetlinkSocket Open()
    {
        var fd = FileDescriptor.FromResult(
            LibC.socket(Netlink.AddressFamily, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, Netlink.GenericProtocol),
            "netlink socket");
        int enable = 1;
        // Extended ACKs carry the kernel's own error text; older kernels ignore the option.
        _ = LibC.setsockopt(fd.Value, Netlink.SocketOptionLevel, Netlink.ExtendedAckOption, &enable, sizeof(int));
        return new GenericNetlinkSocket(fd);
    }

    /// <summary>Looks up a generic-netlink family id by name through nlctrl.</summary>
    /// <returns>The id, or null when the kernel has no such family (its module is not loaded).</returns>
    public ushort? ResolveFamily(string name)
    {
        var request = new GenericNetlinkMessage(Netlink.ControllerFamilyId, Netlink.ControllerGetFamily, version: 1)
            .AddString(Netlink.ControllerFamilyNameAttribute, name);
        NetlinkReply reply = Send(request);
        if (reply.ErrorNumber == LibC.ENOENT)
        {
            return null;
        }

        reply.ThrowIfFailed($"resolve generic netlink family '{name}'");
        return new NetlinkAttributes(reply.Attributes).TryGetUInt16(Netlink.ControllerFamilyIdAttribute, out ushort id)
            ? id
            : throw new NativeException($"resolve generic netlink family '{name}'", LibC.EPROTO);
    }

    /// <summary>Sends <paramref name="request"/> with NLM_F_ACK and waits for the kernel's answer.</summary>
    public NetlinkReply Send(GenericNetlinkMessage request)
    {
        uint sequence = ++_sequence;
        ReadOnlySpan<byte> bytes = request.Complete(sequence, Netlink.RequestFlag | Netlink.AckFlag);
        if (StreamSocket.SendAll(_fd.Value, bytes, default) is int error and not 0)
        {
            throw new NativeException("netlink send", error);
        }

        byte[] attributes = [];
        while (true)
        {
            int received = Receive();
            if (ReadMessages(_receiveBuffer.AsSpan(0, received), sequence, request.FamilyId, ref attributes) is { } reply)
            {
                return reply;
            }
        }
    }

    /// <summary>
    /// Reads what one receive brought: the family's answer to request <paramref name="sequence"/> goes to
    /// <paramref name="attributes"/>, and its ACK or error ends the reply; answers to earlier requests are skipped.
    /// </summary>
    /// <returns>The reply once it has ended, or null when more is to come.</returns>
    /// <exception cref="NativeException">EPROTO: a message that is not whole, or shorter than its headers.</exception>
    internal static NetlinkReply? ReadMessages(ReadOnlySpan<byte> messages, uint sequence, ushort familyId, ref byte[] attributes)
    {
        while (messages.Length >= Unsafe.SizeOf<NetlinkMessageHeader>())
        {
            var header = MemoryMarshal.Read<NetlinkMessageHeader>(messages);
            if (header.Length < Unsafe.SizeOf<NetlinkMessageHeader>() || header.Length > messages.Length)
            {
                throw new NativeException("netlink receive", LibC.EPROTO);
            }

            ReadOnlySpan<byte> body = messages[Unsafe.SizeOf<NetlinkMessageHeader>()..(int)header.Length];
            messages = messages[Math.Min(Netlink.Align((int)header.Length), messages.Length)..];
            if (header.Sequence != sequence)
            {
                continue; // a late answer to an earlier request
            }

            // What each kind of message begins with: the errno of an error or ACK, the genl header of the family's answer.
            int start = header.Type == Netlink.ErrorMessage ? sizeof(int) : header.Type == familyId ? Unsafe.SizeOf<GenericNetlinkHeader>() : 0;
            if (body.Length < start)
            {
                throw new NativeException("netlink receive", LibC.EPROTO);
            }

            if (header.Type == Netlink.ErrorMessage)
            {
                return ParseError(header, body, attributes);
            }

            if (header.Type == familyId)
            {
                attributes = body[start..].ToArray();
            }
        }

        return null;
    }

    public void Dispose() => _fd.Dispose();

    private int Receive()
    {
        int received = StreamSocket.Receive(_fd.Value, _receiveBuffer, wait: true);
        return received >= 0 ? received : throw new NativeException("netlink receive", -received);
    }

    /// <summary>
    /// NLMSG_ERROR: <c>int error</c>, the echoed request header (whole request unless capped),
    /// then extended-ACK attributes when NLM_F_ACK_TLVS is set.
    /// </summary>
    private static NetlinkReply ParseError(NetlinkMessageHeader header, ReadOnlySpan<byte> body, byte[] attributes)
    {
        int error = BinaryPrimitives.ReadInt32LittleEndian(body);
        string? kernelMessage = null;
        if ((header.Flags & Netlink.AckHasTlvsFlag) != 0)
        {
            int echoed = sizeof(int) + Unsafe.SizeOf<NetlinkMessageHeader>();
            if ((header.Flags & Netlink.CappedFlag) == 0 && body.Length >= echoed)
            {
                // An echo said to be longer than the message leaves no room for attributes.
                uint request = MemoryMarshal.Read<NetlinkMessageHeader>(body[sizeof(int)..]).Length;
                echoed = request <= body.Length - sizeof(int) ? sizeof(int) + (int)request : body.Length + 1;
            }

            if (echoed <= body.Length &&
                new NetlinkAttributes(body[Math.Min(Netlink.Align(echoed), body.Length)..]).TryGetString(Netlink.ErrorAttributeMessage, out string text))
            {
                kernelMessage = text;
            }
        }

        return new NetlinkReply(-error, kernelMessage, attributes);
    }
}
