using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Dmp.Nbd;

namespace Dmp.Tests.Server;

/// <summary>An NBD client that sends whatever bytes a test asks for, well formed or not.</summary>
internal sealed class RawNbdClient : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);

    public RawNbdClient(string socketPath)
    {
        _socket.Connect(new UnixDomainSocketEndPoint(socketPath));
        _socket.ReceiveTimeout = 10_000;
    }

    /// <summary>Connects, checks the greeting and answers it with fixed-newstyle and no-zeroes.</summary>
    public static RawNbdClient Negotiating(string socketPath)
    {
        var client = new RawNbdClient(socketPath);
        client.ReceiveGreeting();
        client.SendUInt32((uint)(NbdHandshakeFlags.FixedNewstyle | NbdHandshakeFlags.NoZeroes));
        return client;
    }

    /// <summary>Negotiates <paramref name="export"/> with NBD_OPT_GO, ready for requests.</summary>
    public static RawNbdClient Transmitting(string socketPath, string export = "")
    {
        RawNbdClient client = Negotiating(socketPath);
        client.SendOption(NbdOption.Go, GoRequest(export));
        while (client.ReceiveOptionReply() is var (_, type, _) && type == NbdOptionReplyType.Info)
        {
        }

        return client;
    }

    public static byte[] GoRequest(string export, params ushort[] information)
    {
        byte[] name = Encoding.UTF8.GetBytes(export);
        byte[] request = new byte[4 + name.Length + 2 + (2 * information.Length)];
        BinaryPrimitives.WriteUInt32BigEndian(request, (uint)name.Length);
        name.CopyTo(request, 4);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4 + name.Length), (ushort)information.Length);
        for (int i = 0; i < information.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(6 + name.Length + (2 * i)), information[i]);
        }

        return request;
    }

    public (ulong Magic, ulong OptionMagic, ushort Flags) ReceiveGreeting()
    {
        byte[] greeting = Receive(18);
        return (BinaryPrimitives.ReadUInt64BigEndian(greeting), BinaryPrimitives.ReadUInt64BigEndian(greeting.AsSpan(8)),
            BinaryPrimitives.ReadUInt16BigEndian(greeting.AsSpan(16)));
    }

    public void SendUInt32(uint value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        _socket.Send(bytes);
    }

    public void SendOption(NbdOption option, byte[] data) => SendOptionHeader(NbdProtocol.OptionMagic, option, (uint)data.Length, data);

    public void SendOptionHeader(ulong magic, NbdOption option, uint length, byte[]? data = null)
    {
        byte[] header = new byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(header, magic);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), (uint)option);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(12), length);
        _socket.Send(header);
        if (data is { Length: > 0 })
        {
            _socket.Send(data);
        }
    }

    public (NbdOption Option, NbdOptionReplyType Type, byte[] Data) ReceiveOptionReply()
    {
        byte[] header = Receive(20);
        Assert.Equal(NbdProtocol.OptionReplyMagic, BinaryPrimitives.ReadUInt64BigEndian(header));
        int length = (int)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(16));
        return ((NbdOption)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(8)),
            (NbdOptionReplyType)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(12)), Receive(length));
    }

    public void SendRequest(NbdCommand command, ulong offset, uint length, NbdCommandFlags flags = NbdCommandFlags.None, byte[]? payload = null, ulong cookie = 1)
    {
        byte[] header = new byte[NbdProtocol.RequestHeaderLength];
        new NbdRequestHeader(flags, command, cookie, offset, length).Write(header);
        SendRaw(header);
        if (payload is not null)
        {
            SendRaw(payload);
        }
    }

    public void SendRaw(byte[] bytes) => _socket.Send(bytes);

    /// <summary>A simple reply's error, after checking its magic and cookie.</summary>
    public uint ReceiveReply(ulong cookie = 1)
    {
        byte[] reply = Receive(NbdProtocol.SimpleReplyLength);
        Assert.Equal(NbdProtocol.SimpleReplyMagic, BinaryPrimitives.ReadUInt32BigEndian(reply));
        Assert.Equal(cookie, BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8)));
        return BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(4));
    }

    public byte[] Receive(int length)
    {
        byte[] buffer = new byte[length];
        for (int done = 0; done < length;)
        {
            int received = _socket.Receive(buffer, done, length - done, SocketFlags.None);
            if (received == 0)
            {
                throw new EndOfStreamException($"the server closed after {done} of {length} bytes");
            }

            done += received;
        }

        return buffer;
    }

    /// <summary>True when the server has closed the connection (end of stream, without sending anything more).</summary>
    public bool IsClosedByServer()
    {
        try
        {
            return _socket.Receive(new byte[1]) == 0;
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    public void Dispose() => _socket.Dispose();
}
