using System.Net;
using System.Net.Sockets;

namespace Dmp.Nbd;

/// <summary>The TLS options of a server's command line (<c>--tls</c>, <c>--tls-certificates</c>, <c>--tls-verify-peer</c>).</summary>
/// <param name="Certificates">The directory of <c>ca-cert.pem</c>, <c>server-cert.pem</c> and <c>server-key.pem</c>, absolute; null with <see cref="NbdTlsMode.Off"/>.</param>
/// <param name="VerifyPeer">Clients must present a certificate the CA signed.</param>
internal sealed record NbdTlsSettings(NbdTlsMode Mode, string? Certificates, bool VerifyPeer)
{
    public static readonly NbdTlsSettings Off = new(NbdTlsMode.Off, null, false);

    /// <summary>The modes as <c>--tls</c> names them, in <see cref="NbdTlsMode"/>'s order.</summary>
    public static readonly IReadOnlyList<string> ModeNames = ["off", "on", "require"];

    /// <summary>Checks a command line's TLS options against each other.</summary>
    /// <exception cref="FormatException">They do not go together, with the reason.</exception>
    public static NbdTlsSettings Of(string mode, string? certificates, bool verifyPeer)
    {
        NbdTlsMode parsed = ParseMode(mode);
        if (parsed == NbdTlsMode.Off)
        {
            return certificates is not null || verifyPeer
                ? throw new FormatException("--tls-certificates and --tls-verify-peer need --tls on or --tls require")
                : Off;
        }

        return string.IsNullOrEmpty(certificates)
            ? throw new FormatException($"--tls {mode} needs --tls-certificates DIR (with ca-cert.pem, server-cert.pem and server-key.pem)")
            : new NbdTlsSettings(parsed, Path.GetFullPath(certificates), verifyPeer);
    }

    /// <exception cref="FormatException">Not one of <see cref="ModeNames"/>.</exception>
    public static NbdTlsMode ParseMode(string text)
    {
        for (int mode = 0; mode < ModeNames.Count; mode++)
        {
            if (ModeNames[mode] == text)
            {
                return (NbdTlsMode)mode;
            }
        }

        throw new FormatException($"--tls must be off, on or require, not '{text}'");
    }

    public string ModeName => ModeNames[(int)Mode];

    /// <summary>The options that reproduce these settings on a command line.</summary>
    public IReadOnlyList<string> ToArguments() => Mode == NbdTlsMode.Off ? [] :
        ["--tls", ModeName, "--tls-certificates", Certificates!, .. VerifyPeer ? new[] { "--tls-verify-peer" } : []];

    /// <summary>What to warn about a listener on <paramref name="address"/>: one that anyone on the network may reach
    /// without TLS. Null for a Unix socket, a loopback address or <see cref="NbdTlsMode.Require"/>.</summary>
    public string? ExposureWarning(NbdListenAddress address) =>
        Mode == NbdTlsMode.Require || address.EndPoint is not IPEndPoint { Address: var ip } || IPAddress.IsLoopback(ip) ? null
        : Mode == NbdTlsMode.Off
            ? $"{address} serves NBD without TLS: anyone who reaches it can read and write the exports (see --tls require)"
            : $"{address} lets NBD clients in without TLS under --tls on: anyone who reaches it can read and write the exports (see --tls require)";
}
