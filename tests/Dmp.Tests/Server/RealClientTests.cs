using System.Text.Json;

namespace Dmp.Tests.Server;

/// <summary>Debian's own NBD clients (libnbd's nbdinfo and nbdcopy, qemu-img, fio) against <c>dmp serve</c>, unchanged.</summary>
public sealed class RealClientTests : IDisposable
{
    private readonly ServeProcess _server = new("memory zero --size 64M");

    public void Dispose() => _server.Dispose();

    [Fact]
    public void Nbdinfo_lists_every_export_with_what_it_serves()
    {
        ShellResult list = Shell.Run($"nbdinfo --list '{_server.Uri()}'");

        Assert.Equal(0, list.ExitCode);
        Assert.Contains("export=\"export0\":", list.Output);
        Assert.Contains("export=\"export1\":", list.Output);
        Assert.Contains("export-size: 67108864 (64M)", list.Output);
        Assert.Contains("protocol: newstyle-fixed without TLS", list.Output);
    }

    [Fact]
    public void Nbdinfo_json_describes_the_export_exactly()
    {
        ShellResult info = Shell.Run($"nbdinfo --json '{_server.Uri("export1")}'");
        Assert.Equal(0, info.ExitCode);

        using JsonDocument document = JsonDocument.Parse(info.Output);
        JsonElement export = document.RootElement.GetProperty("exports")[0];
        Assert.Equal("export1", export.GetProperty("export-name").GetString());
        Assert.Equal("zero", export.GetProperty("description").GetString());
        Assert.Equal(67108864, export.GetProperty("export-size").GetInt64());
        foreach (string capability in new[] { "can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero", "can_cache", "can_multi_conn" })
        {
            Assert.True(export.GetProperty(capability).GetBoolean(), capability);
        }

        Assert.False(export.GetProperty("is_read_only").GetBoolean());
        Assert.Equal(1, export.GetProperty("block_size_minimum").GetInt32());
        Assert.Equal(4096, export.GetProperty("block_size_preferred").GetInt32());
        Assert.Equal(32 << 20, export.GetProperty("block_size_maximum").GetInt32());
    }

    [Fact]
    public void The_default_export_is_the_first()
    {
        ShellResult info = Shell.Run($"nbdinfo --size '{_server.Uri()}'");

        Assert.Equal("67108864\n", info.Output);
    }

    [Fact]
    public void An_unknown_export_is_refused_by_name()
    {
        ShellResult info = Shell.Run($"nbdinfo '{_server.Uri("nothing")}'");

        Assert.NotEqual(0, info.ExitCode);
        Assert.Contains("No such file or directory for export: nothing", info.Errors); // libnbd's words for NBD_REP_ERR_UNKNOWN
    }

    [Fact]
    public void Qemu_img_converts_in_and_out_and_compares_equal()
    {
        string image = Path.Combine(_server.Directory, "in.raw");
        string copy = Path.Combine(_server.Directory, "out.raw");
        Assert.Equal(0, Shell.Run($"head -c 48M /dev/urandom > {image} && truncate -s 64M {image}").ExitCode);

        ShellResult into = Shell.Run($"qemu-img convert -n -f raw -O raw {image} '{_server.Uri("export0")}'");
        ShellResult compare = Shell.Run($"qemu-img compare -f raw -F raw {image} '{_server.Uri("export0")}'");
        ShellResult outOf = Shell.Run($"qemu-img convert -f raw -O raw '{_server.Uri("export0")}' {copy}");

        Assert.Equal((0, 0, 0), (into.ExitCode, compare.ExitCode, outOf.ExitCode));
        Assert.Contains("Images are identical.", compare.Output);
        Assert.Equal(Sha256(image), Sha256(copy));
    }

    [Fact]
    public void Nbdcopy_copies_a_random_image_in_and_out_intact()
    {
        string image = Path.Combine(_server.Directory, "in.raw");
        string copy = Path.Combine(_server.Directory, "out.raw");
        Assert.Equal(0, Shell.Run($"head -c 64M /dev/urandom > {image}").ExitCode);

        Assert.Equal(0, Shell.Run($"nbdcopy {image} '{_server.Uri("export0")}'").ExitCode);
        Assert.Equal(0, Shell.Run($"nbdcopy '{_server.Uri("export0")}' {copy}").ExitCode);

        Assert.Equal(Sha256(image), Sha256(copy));
    }

    [Fact]
    public void Fio_verifies_random_writes_at_depth_32_over_four_connections()
    {
        ShellResult fio = Shell.Run(
            $"cd {_server.Directory} && fio --name=verify --ioengine=nbd --uri='{_server.Uri("export0")}' --rw=randwrite " +
            "--bsrange=512-256k --iodepth=32 --numjobs=4 --offset_increment=16M --size=16M --verify=crc32c " +
            "--verify_fatal=1 --output-format=terse");

        Assert.Equal(0, fio.ExitCode);
        Assert.DoesNotContain("verify:", fio.Errors);
        Assert.Equal(4, fio.Output.Split('\n').Count(line => line.StartsWith("3;fio-", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_tcp_listener_serves_the_same_exports()
    {
        int port = FreeTcpPort();
        using var server = new ServeProcess($"zero --size 1M --listen tcp:127.0.0.1:{port}");

        ShellResult info = Shell.Run($"nbdinfo --size nbd://127.0.0.1:{port}/export0");

        Assert.Equal((0, "1048576\n"), (info.ExitCode, info.Output));
    }

    [Fact]
    public void Sigterm_stops_the_server_cleanly_and_removes_its_socket()
    {
        Assert.Equal(0, _server.Stop());
        Assert.False(File.Exists(_server.Socket));
        Assert.Contains(_server.Log, line => line.EndsWith("stopping", StringComparison.Ordinal));
    }

    private static string Sha256(string path) => Shell.Run($"sha256sum < {path}").Output;

    internal static int FreeTcpPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }
}
