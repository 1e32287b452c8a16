using Dmp.Daemon;

namespace Dmp.Tests.Cli;

/// <summary>Bad input to the real binary: one clear line on stderr, nothing on stdout, a non-zero exit, no change.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _runDirectory = Path.Combine(Path.GetTempPath(), $"dmp-cli-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_runDirectory))
        {
            Directory.Delete(_runDirectory, recursive: true);
        }
    }

    [Theory]
    [InlineData("", "Required command was not provided")]
    [InlineData("frobnicate", "frobnicate")]
    [InlineData("load --size 1000", "must be a multiple of 512 bytes")]
    [InlineData("load --size abc", "invalid size 'abc'")]
    [InlineData("load --size -1G", "")]
    [InlineData("load --size 0", "invalid size '0'")]
    [InlineData("load --size 99999999P", "too large")]
    [InlineData("load ''", "a backing cannot be an empty string")]
    [InlineData("unload --bogus", "--bogus")]
    [InlineData("create", "required")]
    [InlineData("create dmp1", "--table")]
    [InlineData("attach", "Required argument missing")]
    [InlineData("attach ''", "a backing cannot be an empty string")]
    [InlineData("detach", "Required argument missing")]
    [InlineData("load --cache bogus", "unknown cache mode 'bogus' (none or writeback)")]
    [InlineData("serve memory --cache None", "unknown cache mode 'None' (none or writeback)")]
    [InlineData("create dmp1 --table '0 8 dmp /dev/a' --cache", "--cache")]
    [InlineData("load --connections 0", "--connections must be a number from 1 to 16, not '0'")]
    [InlineData("attach memory --connections 17", "--connections must be a number from 1 to 16, not '17'")]
    [InlineData("create dmp1 --table '0 8 dmp /dev/a' --connections two", "--connections must be a number from 1 to 16, not 'two'")]
    public void Usage_errors_exit_2_with_one_line(string arguments, string expected)
    {
        ShellResult result = DmpBinary.Run(arguments);

        Assert.Equal(2, result.ExitCode);
        AssertOneLine(result, expected);
    }

    [Theory]
    [InlineData("create dmp1 --table '0 1024 linear /dev/sda 0'", "unknown target type 'linear'")]
    [InlineData("create dmp1 --table '0 1024 dmp /dev/a /dev/b'", "invalid number of arguments")]
    [InlineData("create dmp1 --table '8 1024 dmp /dev/a'", "must start at sector 0")]
    [InlineData("attach /etc/hostname --size 1M", "--size applies only to memory and zero backings")]
    [InlineData("load /etc/hostname --size 1M", "--size applies only to memory and zero backings")]
    [InlineData("load /tmp/a.img /tmp/a.img", "backing /tmp/a.img is given more than once")]
    [InlineData("load --listen unix:/tmp/dmp-tls.sock --tls on", "--tls on needs --tls-certificates DIR")]
    [InlineData("load --tls-verify-peer", "--tls-certificates and --tls-verify-peer need --tls on or --tls require")]
    [InlineData("load --listen unix:/tmp/dmp-tls.sock --tls require --tls-certificates /nonexistent", "TLS certificates in /nonexistent: ")]
    public void Inconsistent_load_arguments_are_refused(string arguments, string expected)
    {
        ShellResult result = DmpBinary.Run($"--run-dir {_runDirectory} {arguments}");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, expected);
        Assert.False(Directory.Exists(_runDirectory));
    }

    [Theory]
    [InlineData("load")]
    [InlineData("unload")]
    [InlineData("unload --force")]
    [InlineData("create dmp1 --table '0 8 dmp /dev/null'")]
    [InlineData("remove dmp1")]
    [InlineData("attach memory")]
    [InlineData("detach nbd0")]
    [InlineData("status")]
    public void Changing_or_inspecting_the_module_needs_root(string command)
    {
        ShellResult result = DmpBinary.Run($"--run-dir {_runDirectory} {command}", Shell.Nobody);

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, "Operation not permitted");
    }

    [Theory]
    [InlineData("stat")]
    [InlineData("reset")]
    [InlineData("unload")]
    [InlineData("unload --force")]
    [InlineData("create dmp1 --table '0 1024 dmp /dev/mapper/zero1'")]
    [InlineData("remove dmp1")]
    [InlineData("attach memory")]
    [InlineData("detach nbd0")]
    [InlineData("status")]
    [InlineData("check")]
    [InlineData("check dmp1")]
    public void Commands_on_a_module_that_is_not_loaded_say_so(string command)
    {
        ShellResult result = DmpBinary.Run($"--run-dir {_runDirectory} {command}");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, "module dmp is not loaded");
    }

    [Fact]
    public void A_second_load_fails_with_file_exists_and_changes_nothing()
    {
        Directory.CreateDirectory(_runDirectory);
        var run = new RunDirectory(_runDirectory);
        using PidFile daemon = PidFile.TryAcquire(run.PidFile)!; // this test plays the running daemon

        ShellResult result = DmpBinary.Run($"--run-dir {_runDirectory} load");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, $"could not load module dmp: File exists (the daemon runs as pid {Environment.ProcessId})");
        Assert.Equal([run.PidFile], Directory.GetFileSystemEntries(_runDirectory));
    }

    [Fact]
    public void A_daemon_that_does_not_answer_is_reported_with_the_way_out()
    {
        Directory.CreateDirectory(_runDirectory);
        using PidFile daemon = PidFile.TryAcquire(new RunDirectory(_runDirectory).PidFile)!;

        ShellResult result = DmpBinary.Run($"--run-dir {_runDirectory} unload");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, "does not answer; use 'dmp unload --force'");
    }

    [Fact]
    public void The_remains_of_a_dead_daemon_are_said_to_be_taken_over_by_load_or_cleared_by_a_forced_unload()
    {
        var run = new RunDirectory(_runDirectory);
        Directory.CreateDirectory(run.ModuleMount);
        File.WriteAllText(run.PidFile, "999999\n"); // no lock: its daemon is gone
        File.WriteAllText(run.DeviceTable, "nbd7\t1048576\tmemory\t-\tnone\t2\n");

        ShellResult stat = DmpBinary.Run($"--run-dir {_runDirectory} stat");
        Assert.Equal(1, stat.ExitCode);
        AssertOneLine(stat, "the daemon (pid 999999) died without unloading; 'dmp load' takes its devices over, 'dmp unload --force' cleans up");
        ShellResult mismatch = DmpBinary.Run($"--run-dir {_runDirectory} load zero");
        Assert.Equal(1, mismatch.ExitCode);
        AssertOneLine(mismatch, "the daemon that died served memory, not zero: run 'dmp load' alone to take its devices over, or 'dmp unload --force' first to start afresh");
        Assert.Equal("nbd7\t1048576\tmemory\t-\tnone\t2\n", File.ReadAllText(run.DeviceTable)); // nothing changed

        ShellResult forced = DmpBinary.Run($"--run-dir {_runDirectory} unload --force");

        Assert.Equal((0, "", ""), (forced.ExitCode, forced.Output, forced.Errors));
        Assert.False(Directory.Exists(_runDirectory));
    }

    [Fact]
    public void Help_lists_the_commands()
    {
        ShellResult result = DmpBinary.Run("--help");

        Assert.Equal(0, result.ExitCode);
        foreach (string command in new[] { "load", "unload", "stat", "reset", "create", "remove", "check", "status", "attach", "detach" })
        {
            Assert.Matches($@"(?m)^  {command}\b", result.Output);
        }

        Assert.DoesNotMatch(@"(?m)^  daemon\b", result.Output); // the hidden command load starts

    }

    private static void AssertOneLine(ShellResult result, string expected)
    {
        Assert.Equal("", result.Output);
        Assert.StartsWith("dmp: ", result.Errors);
        Assert.Single(result.Errors.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, result.Errors);
    }
}
