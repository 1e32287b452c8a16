namespace Dmp.Tests.Server;

/// <summary>
/// <c>dmp serve --tls</c> with Debian's own clients over real TLS (libnbd's nbdinfo and nbdcopy, qemu-img with a
/// tls-creds-x509 object, fio's nbd engine), certificates made by openssl for the occasion: what is written over TLS
/// reads back identically and is counted, and each client the mode or the peer check must refuse is refused.
/// </summary>
public sealed partial class TlsTests : IDisposable
{
    private readonly TlsCertificates _certificates = new();
    private readonly ServeProcess _server;

    public TlsTests() => _server = Serve("require");

    private string Module => Path.Combine(_server.RunDirectory, "module");

    public void Dispose()
    {
        _server.Dispose();
        _certificates.Dispose();
    }

    [Fact]
    public void Nbdinfo_connects_over_tls_and_sees_the_export()
    {
        ShellResult info = Shell.Run($"nbdinfo '{TlsUri(_server)}'");

        Assert.True(info.ExitCode == 0, info.Errors);
        Assert.Contains("protocol: newstyle-fixed with TLS", info.Output);
        Assert.Contains("export-size: 67108864 (64M)", info.Output);
    }

    [Fact]
    public void Nbdcopy_copies_a_random_image_in_and_out_over_tls_intact()
    {
        string image = Path.Combine(_server.Directory, "in.raw");
        string copy = Path.Combine(_server.Directory, "out.raw");
        Assert.Equal(0, Shell.Run($"head -c 64M /dev/urandom > {image}").ExitCode);

        ShellResult into = Shell.Run($"nbdcopy {image} '{TlsUri(_server)}'");
        ShellResult outOf = Shell.Run($"nbdcopy '{TlsUri(_server)}' {copy}");

        Assert.True((into.ExitCode, outOf.ExitCode) == (0, 0), into.Errors + outOf.Errors);
        Assert.Equal(Sha256(image), Sha256(copy));
    }

    [Fact]
    public void Qemu_img_with_a_tls_creds_x509_object_writes_reads_and_compares_equal()
    {
        string image = Path.Combine(_server.Directory, "in.raw");
        string copy = Path.Combine(_server.Directory, "out.raw");
        Assert.Equal(0, Shell.Run($"head -c 16M /dev/urandom > {image} && truncate -s 64M {image}").ExitCode);
        string tls = $"--object tls-creds-x509,id=tls0,dir={_certificates.Directory},endpoint=client";
        string export = $"driver=nbd,path={_server.Socket},export=export0,tls-creds=tls0,tls-hostname=localhost";

        ShellResult into = Shell.Run($"qemu-img convert -n {tls} -f raw {image} --target-image-opts {export}");
        ShellResult compare = Shell.Run($"qemu-img compare {tls} --image-opts driver=raw,file.filename={image} {export}");
        ShellResult outOf = Shell.Run($"qemu-img convert {tls} --image-opts {export} -O raw {copy}");

        Assert.True((into.ExitCode, compare.ExitCode, outOf.ExitCode) == (0, 0, 0), into.Errors + compare.Errors + outOf.Errors);
        Assert.Contains("Images are identical.", compare.Output);
        Assert.Equal(Sha256(image), Sha256(copy));
    }

    [Fact]
    public void Fio_verifies_random_writes_at_depth_32_over_four_tls_connections()
    {
        ShellResult fio = Fio(_server, "--name=verify --rw=randwrite --bsrange=512-256k --iodepth=32 --numjobs=4 " +
            "--offset_increment=16M --size=16M --verify=crc32c --verify_fatal=1 --output-format=terse");

        Assert.True(fio.ExitCode == 0, fio.Errors);
        Assert.DoesNotContain("verify:", fio.Errors);
        Assert.Equal(4, fio.Output.Split('\n').Count(line => line.StartsWith("3;fio-", StringComparison.Ordinal)));
    }

    [Fact]
    public void Requests_over_tls_are_counted_exactly()
    {
        ShellResult write = Fio(_server, "--name=write --rw=write --bs=64k --size=4M");
        ShellResult read = Fio(_server, "--name=read --rw=randread --bs=4k --size=1M --iodepth=32");
        Assert.True((write.ExitCode, read.ExitCode) == (0, 0), write.Errors + read.Errors);

        string[] ops = File.ReadAllLines(Path.Combine(Module, "stat/ops"));
        Assert.Equal(["read", "256", "1048576", "0"], ops.Single(line => line.StartsWith("read ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[..4]);
        Assert.Equal(["write", "64", "4194304", "0"], ops.Single(line => line.StartsWith("write ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[..4]);
    }

    [Fact]
    public void The_stat_tree_shows_the_tls_mode_among_the_parameters()
    {
        Assert.Equal("require\n", File.ReadAllText(Path.Combine(Module, "parameters/tls")));
    }

    [Fact]
    public void A_tcp_listener_beyond_loopback_without_tls_is_warned_about_and_one_on_loopback_is_not()
    {
        int port = RealClientTests.FreeTcpPort();
        using (var exposed = new ServeProcess($"zero --size 1M --listen tcp:0.0.0.0:{port}"))
        {
            Assert.Single(exposed.Log, line => line.EndsWith($"tcp:0.0.0.0:{port} serves NBD without TLS: anyone who reaches it can read and write the exports (see --tls require)", StringComparison.Ordinal));
        }

        using var loopback = new ServeProcess($"zero --size 1M --listen tcp:127.0.0.1:{port}");
        using ServeProcess required = Serve("require", $"--listen tcp:0.0.0.0:{port + 1}");
        ShellResult overTcp = Shell.Run($"nbdinfo --size 'nbds://127.0.0.1:{port + 1}/?tls-certificates={_certificates.Directory}'");

        Assert.DoesNotContain(loopback.Log, line => line.Contains("without TLS", StringComparison.Ordinal));
        Assert.DoesNotContain(required.Log, line => line.Contains("without TLS", StringComparison.Ordinal));
        Assert.Equal((0, "67108864\n"), (overTcp.ExitCode, overTcp.Output));
    }

    [Fact]
    public void Missing_certificates_fail_the_start_with_the_file_named()
    {
        ShellResult serve = Shell.Run($"{Cli.DmpBinary.Path} serve --listen unix:{_server.Directory}/other.sock --tls on --tls-certificates {_server.Directory}");

        Assert.Equal(1, serve.ExitCode);
        Assert.Contains($"TLS certificates in {_server.Directory}:", serve.Errors);
        Assert.Contains("server-cert.pem", serve.Errors);
    }

    private ServeProcess Serve(string mode, string extra = "") =>
        new($"memory --size 64M --tls {mode} --tls-certificates {_certificates.Directory} {extra}", withRunDirectory: true);

    /// <summary>libnbd's URI for TLS over the server's Unix socket, with the certificates of <paramref name="directory"/>.</summary>
    private string TlsUri(ServeProcess server, string? directory = null) =>
        $"nbds+unix:///export0?socket={server.Socket}&tls-certificates={directory ?? _certificates.Directory}";

    /// <summary>fio's nbd engine over TLS; its URI may not name files, so libnbd finds the certificates in ~/.pki/libnbd.</summary>
    private ShellResult Fio(ServeProcess server, string job) =>
        Shell.Run($"cd {server.Directory} && HOME={_certificates.HomeFor(_certificates.Directory)} fio --ioengine=nbd " +
            $"--uri='nbds+unix:///export0?socket={server.Socket}' {job}");

    private static string Sha256(string path) => Shell.Run($"sha256sum < {path}").Output;
}
