using System.Diagnostics;
using System.Text;
using Dmp.Nbd;

namespace Dmp.Tests.Server;

/// <summary>Who is refused: a client that skips STARTTLS under require (and not under on), a client without a
/// certificate the CA signed under --tls-verify-peer, a client whose TLS handshake is garbage (it alone).</summary>
public sealed partial class TlsTests
{
    [Fact]
    public void Under_require_every_option_before_starttls_is_refused_with_tls_reqd()
    {
        using RawNbdClient client = RawNbdClient.Negotiating(_server.Socket);
        foreach ((NbdOption option, byte[] data) in new[] { (NbdOption.List, Array.Empty<byte>()), (NbdOption.Go, RawNbdClient.GoRequest("export0")), (NbdOption.Info, RawNbdClient.GoRequest("")), (NbdOption.StructuredReply, []) })
        {
            client.SendOption(option, data);
            Assert.Equal((option, NbdOptionReplyType.ErrorTlsRequired), ReplyTo(client));
        }

        client.SendOption(NbdOption.StartTls, []);
        Assert.Equal((NbdOption.StartTls, NbdOptionReplyType.Ack), ReplyTo(client));
    }

    [Fact]
    public void Under_require_a_client_that_skips_starttls_is_refused()
    {
        ShellResult plain = Shell.Run($"nbdinfo '{_server.Uri("export0")}'");
        using RawNbdClient exportName = RawNbdClient.Negotiating(_server.Socket);
        exportName.SendOption(NbdOption.ExportName, Encoding.UTF8.GetBytes("export0"));

        Assert.NotEqual(0, plain.ExitCode);
        Assert.Contains("nbd_opt_go: server replied with error to opt_go request: Operation not supported", plain.Errors); // libnbd's words for NBD_REP_ERR_TLS_REQD
        Assert.True(exportName.IsClosedByServer()); // NBD_OPT_EXPORT_NAME has no error reply: the server hangs up
    }

    [Fact]
    public void Under_on_a_client_may_go_with_or_without_tls()
    {
        using ServeProcess offered = Serve("on");

        ShellResult plain = Shell.Run($"nbdinfo '{offered.Uri("export0")}'");
        ShellResult secure = Shell.Run($"nbdinfo '{TlsUri(offered)}'");

        Assert.True((plain.ExitCode, secure.ExitCode) == (0, 0), plain.Errors + secure.Errors);
        Assert.Contains("protocol: newstyle-fixed without TLS", plain.Output);
        Assert.Contains("protocol: newstyle-fixed with TLS", secure.Output);
    }

    [Fact]
    public void Starttls_is_unsupported_without_tls_and_invalid_with_data()
    {
        using ServeProcess plain = new("memory --size 1M");
        using (RawNbdClient client = RawNbdClient.Negotiating(plain.Socket))
        {
            client.SendOption(NbdOption.StartTls, []);
            Assert.Equal((NbdOption.StartTls, NbdOptionReplyType.ErrorUnsupported), ReplyTo(client));
        }

        using RawNbdClient withData = RawNbdClient.Negotiating(_server.Socket);
        withData.SendOption(NbdOption.StartTls, [1]);
        Assert.Equal((NbdOption.StartTls, NbdOptionReplyType.ErrorInvalid), ReplyTo(withData));
    }

    [Fact]
    public void Under_verify_peer_only_a_client_the_ca_signed_is_admitted()
    {
        using ServeProcess verifying = Serve("require", "--tls-verify-peer");

        ShellResult signed = Shell.Run($"nbdinfo --size '{TlsUri(verifying)}'");
        ShellResult anonymous = Shell.Run($"nbdinfo --size '{TlsUri(verifying, _certificates.WithoutClientCertificate)}'");
        ShellResult stranger = Shell.Run($"nbdinfo --size '{TlsUri(verifying, _certificates.Stranger)}'");
        ShellResult notVerifying = Shell.Run($"nbdinfo --size '{TlsUri(_server, _certificates.WithoutClientCertificate)}'");

        Assert.Equal((0, "67108864\n"), (signed.ExitCode, signed.Output));
        Assert.NotEqual(0, anonymous.ExitCode);
        Assert.NotEqual(0, stranger.ExitCode);
        Assert.Equal((0, "67108864\n"), (notVerifying.ExitCode, notVerifying.Output));
        Assert.Equal(2, verifying.Log.Count(line => line.Contains("handshake: TLS handshake failed", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_garbled_tls_handshake_ends_only_its_own_connection()
    {
        using Process fio = Process.Start(new ProcessStartInfo("bash",
        [
            "-c",
            $"cd {_server.Directory} && HOME={_certificates.HomeFor(_certificates.Directory)} fio --ioengine=nbd " +
            $"--uri='nbds+unix:///export0?socket={_server.Socket}' --name=busy --rw=randrw --bs=4k --iodepth=8 --size=8M --runtime=4 --time_based",
        ]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        Thread.Sleep(1000); // fio is connected and busy

        using RawNbdClient garbled = RawNbdClient.Negotiating(_server.Socket);
        garbled.SendOption(NbdOption.StartTls, []);
        Assert.Equal((NbdOption.StartTls, NbdOptionReplyType.Ack), ReplyTo(garbled));
        garbled.SendRaw([.. Enumerable.Repeat((byte)0x16, 5), .. Encoding.ASCII.GetBytes("this is not a TLS ClientHello at all")]);

        Assert.True(garbled.IsClosedByServer());
        string errors = fio.StandardError.ReadToEnd();
        fio.WaitForExit();
        Assert.True(fio.ExitCode == 0, errors);
        Assert.Equal(0, Shell.Run($"nbdinfo --size '{TlsUri(_server)}'").ExitCode);
        Assert.Contains(_server.Log, line => line.Contains("handshake: TLS handshake failed", StringComparison.Ordinal));
    }

    /// <summary>The option and type of the next option reply (its message is for people).</summary>
    private static (NbdOption Option, NbdOptionReplyType Type) ReplyTo(RawNbdClient client)
    {
        (NbdOption option, NbdOptionReplyType type, _) = client.ReceiveOptionReply();
        return (option, type);
    }
}
