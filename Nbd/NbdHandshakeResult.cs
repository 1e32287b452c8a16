namespace Dmp.Nbd;

/// <summary>How a handshake ended: with the export the client chose, or without one (and why, unless the client just left).</summary>
internal sealed record NbdHandshakeResult(string? Name, NbdExport? Export, string? Failure)
{
    public static NbdHandshakeResult Chosen(string name, NbdExport export) => new(name, export, null);

    public static NbdHandshakeResult Ended(string? failure) => new(null, null, failure);
}
