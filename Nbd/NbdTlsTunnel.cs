using System.Net.Security;
using Dmp.Native;

namespace Dmp.Nbd;

/// <summary>
/// Carries a connection over TLS without the handshake or the transmission phase knowing: they serve the plain end
/// of a socket pair (<see cref="Plain"/>) exactly as they serve a client's own socket (the same request path,
/// counting, trace and faults, with its batching and polling), and two threads move the bytes between that pair
/// and the <see cref="SslStream"/> on the client's socket, one each way. When either side ends, both do: the
/// client then sees its connection close, and the server end of the pair sees end of stream.
/// </summary>
internal sealed class NbdTlsTunnel : IDisposable
{
    /// <summary>At most what one receive from the plain side takes: a batch of replies, encrypted in one write.</summary>
    private const int OutgoingCapacity = 256 * 1024;

    /// <summary>What one TLS read yields is a record at most (16 KiB); a little more lets it hand over whatever it has.</summary>
    private const int IncomingCapacity = 64 * 1024;

    private readonly int _socket;
    private readonly SslStream _stream;
    private readonly FileDescriptor _ours;
    private readonly Thread _incoming;
    private readonly Thread _outgoing;

    private NbdTlsTunnel(int socket, SslStream stream)
    {
        _socket = socket;
        _stream = stream;
        (_ours, Plain) = StreamSocket.CreatePair();
        _incoming = new Thread(Decrypt) { IsBackground = true, Name = "nbd tls in" };
        _outgoing = new Thread(Encrypt) { IsBackground = true, Name = "nbd tls out" };
    }

    /// <summary>The end the server reads requests from and writes replies to, in plain text. The connection that serves
    /// it may close it; otherwise <see cref="Dispose"/> does.</summary>
    public FileDescriptor Plain { get; }

    /// <summary>Starts carrying a connection whose TLS handshake <paramref name="stream"/> has completed on <paramref name="socket"/>.</summary>
    public static NbdTlsTunnel Start(int socket, SslStream stream)
    {
        var tunnel = new NbdTlsTunnel(socket, stream);
        tunnel._incoming.Start();
        tunnel._outgoing.Start();
        return tunnel;
    }

    /// <summary>Ends both directions and waits for the threads, which the caller must do before it closes the client's socket.</summary>
    public void Dispose()
    {
        EndBoth();
        _incoming.Join();
        _outgoing.Join();
        _stream.Dispose();
        _ours.Dispose();
        Plain.Dispose();
    }

    /// <summary>Client to server: decrypted requests into the pair.</summary>
    private void Decrypt()
    {
        using var buffer = new NativeBuffer(IncomingCapacity);
        try
        {
            int received;
            while ((received = _stream.Read(buffer.Span)) > 0 && StreamSocket.SendAll(_ours.Value, buffer.Slice(received), default) == 0)
            {
            }
        }
        catch (Exception)
        {
            // The client's socket failed, was shut down, or brought something that is not TLS: nothing a client
            // sends may take the daemon down, so whatever it was ends only this connection.
        }
        finally
        {
            EndBoth();
        }
    }

    /// <summary>Server to client: replies out of the pair, encrypted, in batches as the server sent them.</summary>
    private void Encrypt()
    {
        using var buffer = new NativeBuffer(OutgoingCapacity);
        try
        {
            int received;
            while ((received = StreamSocket.Receive(_ours.Value, buffer.Span, wait: true)) > 0)
            {
                _stream.Write(buffer.Slice(received));
            }

            if (received == 0)
            {
                // The server ended the connection: TLS's close_notify tells the client it saw every byte.
                _stream.ShutdownAsync().GetAwaiter().GetResult();
            }
        }
        catch (Exception)
        {
            // The client's socket failed or was shut down: this connection ends, as above.
        }
        finally
        {
            EndBoth();
        }
    }

    /// <summary>Wakes both threads, wherever they wait, to end: each then sees end of stream or a failure.</summary>
    private void EndBoth()
    {
        StreamSocket.Shutdown(_ours.Value);
        StreamSocket.Shutdown(_socket);
    }
}
