namespace Dmp.Tests.Server;

/// <summary>
/// Certificates made with openssl at test time, laid out as nbdkit, qemu and libnbd look for them: a CA, and signed
/// by it a server certificate (for localhost and 127.0.0.1) and a client certificate, all in <see cref="Directory"/>
/// (<c>ca-cert.pem</c>, <c>server-cert.pem</c>, <c>server-key.pem</c>, <c>client-cert.pem</c>, <c>client-key.pem</c>).
/// <see cref="WithoutClientCertificate"/> holds the CA alone, and <see cref="Stranger"/> a client certificate
/// another CA signed.
/// </summary>
internal sealed class TlsCertificates : IDisposable
{
    public TlsCertificates()
    {
        Root = System.IO.Directory.CreateTempSubdirectory("dmp-tls-").FullName;
        Directory = Path.Combine(Root, "pki");
        WithoutClientCertificate = Path.Combine(Root, "ca-only");
        Stranger = Path.Combine(Root, "stranger");
        ShellResult made = Shell.Run($$"""
            set -e
            cd {{Root}}
            mkdir pki ca-only stranger other-ca
            ca() {
                openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=$2" \
                    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
                    -keyout $1/ca-key.pem -out $1/ca-cert.pem
            }
            signed() { # CA-DIR OUT-DIR ROLE USAGE
                openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost \
                    -keyout $2/$3-key.pem -out $2/$3.csr
                printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' $4 > $2/$3.ext
                openssl x509 -req -days 2 -in $2/$3.csr -CA $1/ca-cert.pem -CAkey $1/ca-key.pem -CAcreateserial \
                    -extfile $2/$3.ext -out $2/$3-cert.pem
            }
            ca pki dmp-test-ca
            signed pki pki server serverAuth
            signed pki pki client clientAuth
            cp pki/ca-cert.pem ca-only/
            ca other-ca stranger-ca
            cp pki/ca-cert.pem stranger/
            signed other-ca stranger client clientAuth
            """);
        Assert.True(made.ExitCode == 0, made.Errors);
        File.SetUnixFileMode(Root, (UnixFileMode)0x1ed);
    }

    /// <summary>Everything, for the server and for a client that has a certificate.</summary>
    public string Directory { get; }

    /// <summary>The CA alone: a client that can check the server but has no certificate of its own.</summary>
    public string WithoutClientCertificate { get; }

    /// <summary>The CA, and a client certificate signed by a CA the server does not know.</summary>
    public string Stranger { get; }

    private string Root { get; }

    /// <summary>A home directory whose <c>~/.pki/libnbd</c> holds <paramref name="directory"/>'s certificates: where
    /// libnbd looks when a URI may not name files (fio's nbd engine allows no local file access in its URI).</summary>
    public string HomeFor(string directory)
    {
        string home = Path.Combine(Root, "home-" + Path.GetFileName(directory));
        Assert.Equal(0, Shell.Run($"mkdir -p {home}/.pki && cp -r {directory} {home}/.pki/libnbd").ExitCode);
        return home;
    }

    public void Dispose() => System.IO.Directory.Delete(Root, recursive: true);
}
