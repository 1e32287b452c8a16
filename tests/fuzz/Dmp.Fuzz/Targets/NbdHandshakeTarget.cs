using Dmp.Nbd;

namespace Dmp.Fuzz.Targets;

/// <summary>
/// A whole client session as <see cref="NbdServer"/> serves it: the input is everything the client sends (flags,
/// options with their data, info requests, export names), through <see cref="NbdHandshake"/> on a socketpair;
/// once an export is chosen, the rest goes to the transmission phase on the same socket.
/// </summary>
internal static class NbdHandshakeTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        using var exports = new NbdExports();
        using var peer = SocketPeer.Start(input);
        NbdHandshakeResult handshake = NbdHandshake.Negotiate(peer.Served.Value, exports.Catalog, admit: () => null);
        if (handshake.Export is null)
        {
            peer.Served.Dispose();
            return;
        }

        NbdTransmissionTarget.Serve(peer, handshake.Export);
    }
}
