using System.CommandLine;
using Dmp.Daemon;

namespace Dmp.Cli;

/// <summary><c>dmp serve</c>: the NBD server in the foreground, for machines without kernel nbd (and for tests and benchmarks).</summary>
internal static class ServeCommand
{
    private static readonly Option<bool> ReadOnly = new("--read-only", "-r")
    {
        Description = "Serve every backing read-only (writes fail with EPERM)",
    };

    public static Command Create()
    {
        var command = new Command("serve", "Serve the backings to NBD clients in the foreground, without the kernel's client (like nbdkit -f)")
        {
            CommonOptions.Backings,
            CommonOptions.Size,
            CommonOptions.Listen,
            CommonOptions.MetricsListen,
            CommonOptions.Tls,
            CommonOptions.TlsCertificates,
            CommonOptions.TlsVerifyPeer,
            ReadOnly,
            CommonOptions.NoStatistics,
            CommonOptions.ServeCache,
        };
        command.SetAction(result => ServeHost.Run(
            CommonOptions.DaemonOptionsOf(result), CommonOptions.ExplicitRunDirectoryOf(result), result.GetValue(ReadOnly)));
        return command;
    }
}
