using Dmp.Tests.Cli;

namespace Dmp.Tests.Contrib;

/// <summary>
/// <c>contrib/systemd/dmp.service</c> through <c>systemd-analyze verify</c>, installed as <c>make install</c> puts it
/// (the unit in /etc/systemd/system, the binary at ExecStart's /usr/sbin/dmp) under a root of its own: no warning at
/// all, since verify reports a bad line on stderr and still exits 0.
/// </summary>
public sealed class SystemdUnitTests : IDisposable
{
    private static readonly string Unit = Path.Combine(Path.GetDirectoryName(DmpBinary.Path)!, "contrib/systemd/dmp.service");

    private readonly string _root = Directory.CreateTempSubdirectory("dmp-unit-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_unit_passes_systemd_analyze_verify_without_a_warning()
    {
        ShellResult verified = Verify(File.ReadAllText(Unit));

        Assert.Equal((0, ""), (verified.ExitCode, verified.Errors));
    }

    [Fact]
    public void The_unit_is_a_notify_service_whose_daemon_leaves_its_devices_on_the_kill_signal()
    {
        string[] lines = File.ReadAllLines(Unit);

        Assert.Contains("Type=notify", lines);
        Assert.Contains("NotifyAccess=all", lines);
        Assert.Contains("ExecStart=/usr/sbin/dmp load", lines);
        Assert.Contains("ExecReload=/usr/sbin/dmp reload", lines);
        Assert.Contains("ExecStop=-/usr/sbin/dmp unload", lines);
        Assert.Contains("KillSignal=SIGUSR1", lines);
        Assert.Contains("Restart=on-failure", lines);
        Assert.Contains(lines, line => line.StartsWith("WatchdogSec=", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Type=notify", "Type=notfy")]
    [InlineData("KillSignal=SIGUSR1", "KillSignal=SIGFOO")]
    [InlineData("[Install]", "[Install]\nWantedBy=sysinit.target\nBogus=1")]
    public void A_broken_unit_fails_the_same_check(string line, string broken)
    {
        ShellResult verified = Verify(File.ReadAllText(Unit).Replace(line, broken, StringComparison.Ordinal));

        Assert.NotEqual((0, ""), (verified.ExitCode, verified.Errors));
    }

    [Fact]
    public void A_unit_whose_binary_is_missing_fails_the_same_check()
    {
        ShellResult verified = Verify(File.ReadAllText(Unit), installBinary: false);

        Assert.NotEqual(0, verified.ExitCode);
        Assert.Contains("/usr/sbin/dmp is not executable", verified.Errors, StringComparison.Ordinal);
    }

    private ShellResult Verify(string unit, bool installBinary = true)
    {
        Directory.CreateDirectory(Path.Combine(_root, "usr/sbin"));
        Directory.CreateDirectory(Path.Combine(_root, "etc/systemd/system"));
        if (installBinary)
        {
            File.Copy(DmpBinary.Path, Path.Combine(_root, "usr/sbin/dmp"));
        }

        File.WriteAllText(Path.Combine(_root, "etc/systemd/system/dmp.service"), unit);
        return Shell.Run($"systemd-analyze verify --root={_root} --man=no dmp.service");
    }
}
