using System.Buffers.Binary;
using Dmp.Nbd;
using Dmp.Native;

namespace Dmp.Tests.Nbd;

/// <summary>
/// The client end of a transmission phase, as the kernel drives it: pipelined requests, replies in
/// any order. Reusable buffers, so that a test can measure the server's allocations alone.
/// </summary>
internal sealed class NbdTestClient : IDisposable
{
    private readonly FileDescriptor _socket;
    private readonly byte[] _header = new byte[NbdProtocol.RequestHeaderLength];
    private readonly byte[] _reply = new byte[NbdProtocol.SimpleReplyLength];

    public NbdTestClient(FileDescriptor socket) => _socket = socket;

    public void Send(NbdCommand command, ulong cookie, ulong offset, uint length, ReadOnlySpan<byte> payload = default, NbdCommandFlags flags = NbdCommandFlags.None)
    {
        new NbdRequestHeader(flags, command, cookie, offset, length).Write(_header);
        Check(StreamSocket.SendAll(_socket.Value, _header, payload), "send");
    }

    /// <summary>Sends bytes as they are, for requests a well-behaved client would never send.</summary>
    public void SendRaw(ReadOnlySpan<byte> bytes) => Check(StreamSocket.SendAll(_socket.Value, bytes, default), "send");

    /// <summary>Reads one reply header and returns its error and cookie.</summary>
    public (uint Error, ulong Cookie) ReceiveReply()
    {
        ReceiveExactly(_reply);
        if (BinaryPrimitives.ReadUInt32BigEndian(_reply) != NbdProtocol.SimpleReplyMagic)
        {
            throw new InvalidDataException("bad reply magic");
        }

        return (BinaryPrimitives.ReadUInt32BigEndian(_reply.AsSpan(4)), BinaryPrimitives.ReadUInt64BigEndian(_reply.AsSpan(8)));
    }

    public void ReceiveExactly(Span<byte> buffer) => Check(StreamSocket.ReceiveExactly(_socket.Value, buffer), "receive");

    /// <summary>Reads <paramref name="length"/> bytes at <paramref name="offset"/>, alone on the connection, and returns them.</summary>
    public byte[] ReadBack(ulong cookie, ulong offset, int length)
    {
        Send(NbdCommand.Read, cookie, offset, (uint)length);
        Assert.Equal((0u, cookie), ReceiveReply());
        byte[] data = new byte[length];
        ReceiveExactly(data);
        return data;
    }

    /// <summary>Shuts the connection down from the client's side.</summary>
    public void Close() => StreamSocket.Shutdown(_socket.Value);

    public void Dispose() => _socket.Dispose();

    // Not xunit's Assert: it allocates, and the allocation test measures this thread too.
    private static void Check(int status, string operation)
    {
        if (status != 0)
        {
            throw new IOException($"{operation} failed: {(status == StreamSocket.EndOfStream ? "end of stream" : Errno.Describe(status))}");
        }
    }
}
