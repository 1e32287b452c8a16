using Dmp.Nbd;

namespace Dmp.Fuzz.Targets;

/// <summary>
/// The transmission phase: the input is what a client sends once the handshake is over (request headers, flags,
/// lengths, WRITE payloads, any number of requests), served by a real <see cref="NbdConnection"/> over a socketpair
/// on a memory export until the client's end closes.
/// </summary>
internal static class NbdTransmissionTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        using var exports = new NbdExports();
        using var peer = SocketPeer.Start(input);
        Serve(peer, exports.Memory);
    }

    /// <summary>Serves <paramref name="export"/> on the peer's socket until it ends; the connection closes the socket.</summary>
    public static void Serve(SocketPeer peer, NbdExport export)
    {
        using var connection = new NbdConnection("fuzz", peer.Served, export);
        _ = connection.Run(); // a reason to end (a bad magic, a short payload) is the server's answer to bad input, not a finding
    }
}
