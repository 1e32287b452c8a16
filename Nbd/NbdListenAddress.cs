using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Dmp.Nbd;

/// <summary>
/// Where a server listens: <c>unix:PATH</c>, or <c>tcp:HOST:PORT</c> where HOST is an IP address
/// (<c>[...]</c> for IPv6) or <c>localhost</c> and both parts may be left out (127.0.0.1, and NBD's 10809 or the
/// default port of whatever else listens there).
/// </summary>
internal sealed record NbdListenAddress(EndPoint EndPoint)
{
    public const int DefaultPort = 10809;

    private const string UnixScheme = "unix:";
    private const string TcpScheme = "tcp:";

    public static NbdListenAddress Parse(string text) => Parse(text, DefaultPort);

    public static NbdListenAddress Parse(string text, int defaultPort)
    {
        if (text.StartsWith(UnixScheme, StringComparison.Ordinal) && text.Length > UnixScheme.Length)
        {
            return new NbdListenAddress(new UnixDomainSocketEndPoint(Path.GetFullPath(text[UnixScheme.Length..])));
        }

        if (text.StartsWith(TcpScheme, StringComparison.Ordinal) && TryParseTcp(text[TcpScheme.Length..], defaultPort) is { } endPoint)
        {
            return new NbdListenAddress(endPoint);
        }

        throw new FormatException($"invalid listen address '{text}': use unix:PATH or tcp:HOST:PORT");
    }

    /// <summary>The canonical form, which <see cref="Parse"/> reads back.</summary>
    public override string ToString() => EndPoint switch
    {
        UnixDomainSocketEndPoint unix => UnixScheme + unix,
        IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } ip => $"{TcpScheme}[{ip.Address}]:{ip.Port}",
        _ => TcpScheme + EndPoint,
    };

    private static IPEndPoint? TryParseTcp(string hostAndPort, int defaultPort)
    {
        string host = hostAndPort;
        string port = "";
        int bracket = hostAndPort.LastIndexOf(']');
        int colon = hostAndPort.LastIndexOf(':');
        if (hostAndPort.StartsWith('['))
        {
            host = bracket > 0 ? hostAndPort[1..bracket] : "";
            port = bracket > 0 && bracket + 1 < hostAndPort.Length && hostAndPort[bracket + 1] == ':' ? hostAndPort[(bracket + 2)..] : "";
            if (bracket < 0 || (bracket + 1 < hostAndPort.Length && port.Length == 0))
            {
                return null;
            }
        }
        else if (colon >= 0)
        {
            host = hostAndPort[..colon];
            port = hostAndPort[(colon + 1)..];
            if (port.Length == 0)
            {
                return null;
            }
        }

        IPAddress? address = host.Length == 0 || host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(host, out IPAddress? parsed) ? parsed : null;
        int portNumber = defaultPort;
        bool portValid = port.Length == 0 || (int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) && portNumber is > 0 and <= 65535);
        return address is not null && portValid ? new IPEndPoint(address, portNumber) : null;
    }
}
