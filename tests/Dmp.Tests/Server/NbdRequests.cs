using System.Buffers.Binary;
using Dmp.Nbd;

namespace Dmp.Tests.Server;

/// <summary>
/// Whole requests over a <see cref="RawNbdClient"/>, one at a time, and replies taken in whatever order the
/// server sends them. Errors are the protocol's numbers, which are Linux's errno values.
/// </summary>
internal static class NbdRequests
{
    public const uint Eperm = 1;
    public const uint Eio = 5;
    public const uint Enomem = 12;
    public const uint Einval = 22;
    public const uint Enospc = 28;
    public const uint Eoverflow = 75;
    public const uint Enotsup = 95;
    public const uint Eshutdown = 108;

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> and returns the reply's error.</summary>
    public static uint Write(this RawNbdClient client, ulong offset, byte[] data, NbdCommandFlags flags = NbdCommandFlags.None)
    {
        client.SendRequest(NbdCommand.Write, offset, (uint)data.Length, flags, data);
        return client.ReceiveReply();
    }

    /// <summary>Reads <paramref name="length"/> bytes: the reply's error, and the data (null when it failed, as no data follows an error).</summary>
    public static (uint Error, byte[]? Data) Read(this RawNbdClient client, ulong offset, int length)
    {
        client.SendRequest(NbdCommand.Read, offset, (uint)length);
        uint error = client.ReceiveReply();
        return (error, error == 0 ? client.Receive(length) : null);
    }

    /// <summary>Sends a request without payload (FLUSH, TRIM, CACHE, WRITE_ZEROES) and returns the reply's error.</summary>
    public static uint Send(this RawNbdClient client, NbdCommand command, ulong offset = 0, uint length = 0)
    {
        client.SendRequest(command, offset, length);
        return client.ReceiveReply();
    }

    /// <summary>One request of <paramref name="command"/> at <paramref name="offset"/>, 4 KiB long (a FLUSH has no range), and its error.</summary>
    public static uint Request(this RawNbdClient client, NbdCommand command, ulong offset = 0) => command switch
    {
        NbdCommand.Read => client.Read(offset, 4096).Error,
        NbdCommand.Write => client.Write(offset, new byte[4096]),
        NbdCommand.Flush => client.Send(NbdCommand.Flush),
        _ => client.Send(command, offset, 4096),
    };

    /// <summary>The next simple reply, whichever request it answers: its cookie and error.</summary>
    public static (ulong Cookie, uint Error) ReceiveAnyReply(this RawNbdClient client)
    {
        byte[] reply = client.Receive(NbdProtocol.SimpleReplyLength);
        Assert.Equal(0x67446698u, BinaryPrimitives.ReadUInt32BigEndian(reply));
        return (BinaryPrimitives.ReadUInt64BigEndian(reply.AsSpan(8)), BinaryPrimitives.ReadUInt32BigEndian(reply.AsSpan(4)));
    }

    /// <summary><paramref name="length"/> bytes of a pattern that differs at every offset of a 251-byte cycle, starting with <paramref name="seed"/>.</summary>
    public static byte[] Pattern(int length, byte seed)
    {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)(seed + (i % 251));
        }

        return data;
    }
}
