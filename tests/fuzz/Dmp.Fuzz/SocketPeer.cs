using System.Net.Sockets;
using Dmp.Native;

namespace Dmp.Fuzz;

/// <summary>
/// The client's end of a socketpair for a target that serves the other end in-process: it sends the fuzz input and
/// shuts its sending side, while it reads (and drops) whatever the server answers until the server closes, so that
/// neither side can block the other however much either sends. It uses .NET's sockets rather than dmp's own, so that
/// only the server's side adds to the coverage afl sees; an input that fits in the socket's buffer is all there before
/// the server starts, so that the server reads it the same way each time.
/// </summary>
internal sealed class SocketPeer : IDisposable
{
    /// <summary>Well within a Unix stream socket's default buffer (208 KiB).</summary>
    private const int SentAtOnce = 64 * 1024;

    private readonly Socket _peer;
    private readonly Task _sender;
    private readonly Task _receiver;

    private SocketPeer(FileDescriptor served, FileDescriptor peer, byte[] input)
    {
        Served = served;
        _peer = new Socket(new SafeSocketHandle(peer.DangerousGetHandle(), ownsHandle: true));
        peer.SetHandleAsInvalid(); // the socket owns it now
        if (input.Length <= SentAtOnce)
        {
            Send(input);
            _sender = Task.CompletedTask;
        }
        else
        {
            _sender = Task.Run(() => Send(input));
        }

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
        try
        {
            _peer.Send(input);
            _peer.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The server hung up first, as it may.
        }
    }

    private void Drain()
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (_peer.Receive(buffer) > 0)
            {
            }
        }
        catch (SocketException)
        {
            // Reset by the server: as good as closed.
        }
    }
}
