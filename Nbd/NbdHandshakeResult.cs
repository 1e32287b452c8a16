namespace Dmp.Nbd;

/// <summary>How a handshake ended: with the export the client chose, or without one (and why, unless the client just left).</summary>
/// <param name="Tunnel">With an export chosen over TLS: what carries the connection on; it serves the transmission
/// phase on <see cref="NbdTlsTunnel.Plain"/>, and the caller disposes it once that ends.</param>
internal sealed record NbdHandshakeResult(string? Name, NbdExport? Export, string? Failure, NbdTlsTunnel? Tunnel = null)
{
    public static NbdHandshakeResult Chosen(string name, NbdExport export) => new(name, export, null);

    public static NbdHandshakeResult Ended(string? failure) => new(null, null, failure);
}
