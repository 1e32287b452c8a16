using Dmp.Native;

namespace Dmp.Fuzz;

/// <summary>
/// The client's end of a socketpair for a target that serves the other end in-process: it sends the fuzz input
/// and shuts its sending side, while it reads (and drops) whatever the server answers until the server closes,
/// so that neither side can block the other however much either sends.
/// </summary>
internal sealed class SocketPeer : IDisposable
{
    private readonly FileDescriptor _peer;
    private readonly Task _sender;
    private readonly Task _receiver;

    private SocketPeer(FileDescriptor served, FileDescriptor peer, byte[] input)
    {
        Served = served;
        _peer = peer;
        _sender = Task.Run(() => Send(input));
        _receiver = Task.Run(Drain);
    }

    /// <summary>The end the code under test serves; closing it ends the peer.</summary>
    public FileDescriptor Served { get; }

    public static SocketPeer Start(ReadOnlySpan<byte> input)
    {
        (FileDescriptor served, FileDescriptor peer) = StreamSocket.CreatePair();
        return new SocketPeer(served, peer, input.ToArray());
    }

    /// <summary>Waits for the peer, once the served end is closed, and closes its end.</summary>
    public void Dispose()
    {
        Task.WaitAll(_sender, _receiver);
        _peer.Dispose();
    }

    private void Send(byte[] input)
    {
        _ = StreamSocket.SendAll(_peer.Value, input, default); // EPIPE when the server hung up first, as it may
        StreamSocket.ShutdownSending(_peer.Value);
    }

    private void Drain()
    {
        byte[] buffer = new byte[64 * 1024];
        while (StreamSocket.Receive(_peer.Value, buffer, wait: true) > 0)
        {
        }
    }
}
