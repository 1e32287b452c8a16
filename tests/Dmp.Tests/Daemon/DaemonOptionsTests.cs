using System.CommandLine;
using Dmp.Cli;
using Dmp.Daemon;
using Dmp.Nbd;
using Dmp.Storage;

namespace Dmp.Tests.Daemon;

public class DaemonOptionsTests
{
    [Theory]
    [InlineData("load")]
    [InlineData("load|zero|--size|64M")]
    [InlineData("load|/tmp/a.img")]
    [InlineData("load|memory|/tmp/a.img|/tmp/with space.img|--size|1G|--run-dir|/tmp/run")]
    [InlineData("load|./-dash.img")]
    [InlineData("load|/tmp/a.img|--cache|writeback|--connections|3")]
    [InlineData("load|/dev/sdz|--cache|none|--connections|1")]
    [InlineData("load|--metrics-listen|tcp:|--metrics-listen|unix:/run/dmp-metrics.sock|--metrics-listen|tcp:[::1]:9000")]
    [InlineData("load|--listen|tcp:0.0.0.0:10809|--tls|require|--tls-certificates|/etc/pki/dmp|--tls-verify-peer")]
    [InlineData("load|--listen|unix:/run/dmp.sock|--tls|on|--tls-certificates|/etc/pki/../pki/dmp")]
    public void The_daemon_command_line_reproduces_the_load_options(string load)
    {
        DaemonOptions options = Parse(load.Split('|'));

        DaemonOptions daemon = Parse([.. options.ToArguments()]);

        Assert.Equal(options.Backings, daemon.Backings);
        Assert.Equal(options.Size, daemon.Size);
        Assert.Equal(options.RunDirectory.Path, daemon.RunDirectory.Path);
        Assert.Equal(options.Cache, daemon.Cache);
        Assert.Equal(options.Connections, daemon.Connections);
        Assert.Equal(options.MetricsListen, daemon.MetricsListen);
        Assert.Equal(options.Tls, daemon.Tls);
    }

    [Fact]
    public void The_tls_options_are_kept_for_a_new_daemon_with_an_absolute_certificate_directory()
    {
        DaemonOptions options = Parse(["load", "--listen", "tcp:", "--tls", "require", "--tls-certificates", "/etc/pki/../pki/dmp", "--tls-verify-peer"]);

        Assert.Equal(new NbdTlsSettings(NbdTlsMode.Require, "/etc/pki/dmp", VerifyPeer: true), options.Tls);
        Assert.Contains("--tls-verify-peer", options.ToArguments());
        Assert.Equal(NbdTlsSettings.Off, Parse(["load"]).Tls);
    }

    [Theory]
    [InlineData("load|--tls|on", "--tls on needs --tls-certificates DIR")]
    [InlineData("load|--tls-certificates|/etc/pki/dmp", "need --tls on or --tls require")]
    [InlineData("serve|--listen|unix:/tmp/s|--tls|off|--tls-verify-peer", "need --tls on or --tls require")]
    public void Tls_options_that_do_not_go_together_are_refused(string arguments, string message)
    {
        ParseResult result = DmpCommandLine.Create().Parse(arguments.Split('|'));

        CommandException refused = Assert.Throws<CommandException>(() => CommonOptions.DaemonOptionsOf(result));
        Assert.Contains(message, refused.Message);
    }

    [Fact]
    public void An_unknown_tls_mode_does_not_parse()
    {
        ParseResult result = DmpCommandLine.Create().Parse(["serve", "--listen", "unix:/tmp/s", "--tls", "yes"]);

        Assert.Equal("--tls must be off, on or require, not 'yes'", Assert.Single(result.Errors).Message);
    }

    [Fact]
    public void The_metrics_listen_addresses_are_kept_in_order_and_a_tcp_one_without_a_port_takes_10810()
    {
        DaemonOptions options = Parse(["load", "--metrics-listen", "tcp:", "--metrics-listen", "unix:/run/m.sock"]);

        Assert.Equal(["tcp:127.0.0.1:10810", "unix:/run/m.sock"], options.MetricsListen!.Select(address => address.ToString()));
        Assert.Equal("tcp:127.0.0.1:10810\nunix:/run/m.sock", options.Parameters.Single(parameter => parameter.Name == "metrics_listen").Value);
    }

    [Fact]
    public void The_daemon_command_line_reproduces_the_dmptab_and_serves_nothing_else()
    {
        DaemonOptions options = Parse(["load", "--config", "/tmp/../etc/dmp/dmptab", "--cache", "writeback"]);

        DaemonOptions daemon = Parse([.. options.ToArguments()]);

        Assert.Equal("/etc/dmp/dmptab", options.Config);
        Assert.Empty(options.Backings);
        Assert.Equal((options.Config, options.Cache), (daemon.Config, daemon.Cache));
        Assert.Empty(daemon.Backings);
    }

    [Fact]
    public void Without_a_dmptab_the_daemon_has_none()
    {
        Assert.Null(Parse(["load", "zero"]).Config);
        Assert.Null(Parse([.. Parse(["load", "zero"]).ToArguments()]).Config);
    }

    [Fact]
    public void A_kernel_device_is_uncached_in_dmp_and_has_a_socket_per_cpu_by_default()
    {
        DaemonOptions options = Parse(["load", "/tmp/a.img"]);

        Assert.Equal(CacheMode.None, options.Cache);
        Assert.Equal(Math.Clamp(Environment.ProcessorCount, 1, 4), options.Connections);
    }

    [Fact]
    public void The_cache_mode_and_connections_are_taken_as_given()
    {
        DaemonOptions options = Parse(["load", "/tmp/a.img", "--cache", "writeback", "--connections", "3"]);

        Assert.Equal(CacheMode.Writeback, options.Cache);
        Assert.Equal(3, options.Connections);
    }

    [Fact]
    public void Without_backings_one_gigabyte_of_memory_is_served()
    {
        DaemonOptions options = Parse(["load"]);

        Assert.Equal([BackingSpec.Memory], options.Backings);
        Assert.Equal(1L << 30, options.Size);
        Assert.Equal("/run/dmp", options.RunDirectory.Path);
    }

    private static DaemonOptions Parse(string[] arguments)
    {
        ParseResult result = DmpCommandLine.Create().Parse(arguments);
        Assert.Empty(result.Errors.Select(error => error.Message));
        return CommonOptions.DaemonOptionsOf(result);
    }
}
