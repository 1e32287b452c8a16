using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dmp.Nbd;

/// <summary>
/// A server's TLS credentials, loaded once from a directory laid out as nbdkit and qemu lay theirs out
/// (<c>ca-cert.pem</c>, <c>server-cert.pem</c>, <c>server-key.pem</c>), and the mode they serve in. The TLS itself is
/// .NET's <see cref="SslStream"/> (OpenSSL beneath): dmp implements none of it.
/// </summary>
internal sealed class NbdTls
{
    public const string CaCertificateFile = "ca-cert.pem";
    public const string ServerCertificateFile = "server-cert.pem";
    public const string ServerKeyFile = "server-key.pem";

    private readonly SslServerAuthenticationOptions _options;

    private NbdTls(NbdTlsMode mode, SslServerAuthenticationOptions options)
    {
        Mode = mode;
        _options = options;
    }

    public NbdTlsMode Mode { get; }

    /// <summary>The credentials <paramref name="settings"/> name, or null when TLS is off.</summary>
    /// <exception cref="InvalidOperationException">A file is missing or does not hold what it should, with the reason.</exception>
    public static NbdTls? Load(NbdTlsSettings settings)
    {
        if (settings.Mode == NbdTlsMode.Off)
        {
            return null;
        }

        string directory = settings.Certificates!;
        string caPath = Path.Combine(directory, CaCertificateFile);
        string certificatePath = Path.Combine(directory, ServerCertificateFile);
        string keyPath = Path.Combine(directory, ServerKeyFile);
        try
        {
            var authorities = new X509Certificate2Collection();
            if (settings.VerifyPeer || File.Exists(caPath))
            {
                authorities.ImportFromPemFile(caPath);
                if (authorities.Count == 0)
                {
                    throw new InvalidOperationException($"{caPath} holds no certificate");
                }
            }

            X509Certificate2 certificate = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            var chainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            chainPolicy.CustomTrustStore.AddRange(authorities);
            var options = new SslServerAuthenticationOptions
            {
                // The CA goes along with the certificate, so that a client that trusts the CA can build the chain.
                ServerCertificateContext = SslStreamCertificateContext.Create(certificate, authorities, offline: true),
                ClientCertificateRequired = settings.VerifyPeer,
                CertificateChainPolicy = chainPolicy,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                // Without --tls-verify-peer a client's certificate, if it sends one, is not what admits it (as in nbdkit).
                RemoteCertificateValidationCallback = (_, _, _, errors) => !settings.VerifyPeer || errors == SslPolicyErrors.None,
            };
            return new NbdTls(settings.Mode, options);
        }
        catch (Exception exception) when (exception is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"TLS certificates in {directory}: {exception.Message}", exception);
        }
    }

    /// <summary>Runs the TLS handshake on <paramref name="socket"/> (just after NBD_OPT_STARTTLS was acknowledged) and
    /// starts a tunnel that carries the rest of the connection.</summary>
    /// <returns>The tunnel, or null and why the handshake failed.</returns>
    public NbdTlsTunnel? Secure(int socket, out string? failure)
    {
        var stream = new SslStream(new Native.SocketStream(socket), leaveInnerStreamOpen: false);
        try
        {
            stream.AuthenticateAsServer(_options);
            failure = null;
            return NbdTlsTunnel.Start(socket, stream);
        }
        catch (Exception exception)
        {
            // Whatever the client sent instead of a TLS handshake ends its connection alone, never the daemon.
            stream.Dispose();
            failure = $"TLS handshake failed: {Describe(exception)}";
            return null;
        }
    }

    /// <summary>The innermost message, which says what OpenSSL or the peer objected to.</summary>
    private static string Describe(Exception exception)
    {
        string message = exception.Message;
        for (Exception? inner = exception.InnerException; inner is not null; inner = inner.InnerException)
        {
            message = inner.Message;
        }

        return message;
    }
}
