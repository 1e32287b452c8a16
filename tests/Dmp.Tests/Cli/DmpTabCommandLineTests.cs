using Dmp.Daemon;

namespace Dmp.Tests.Cli;

/// <summary><c>load --config</c> and <c>reload</c> on the real binary: a bad dmptab or command line is one line on stderr, and nothing starts.</summary>
public sealed class DmpTabCommandLineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dmp-dmptab-").FullName;

    private string RunDirectory => Path.Combine(_directory, "run");

    private string Config => Path.Combine(_directory, "dmptab");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("disk0 memory size=1M\ndisk1 memory size=1M,ro,bogus\n", 2, "unknown option 'bogus'")]
    [InlineData("# two devices\n\ndisk0 memory\ndisk0 zero\n", 4, "the name disk0 is declared already on line 3")]
    [InlineData("disk0 disk.img\n", 1, "the backing must be memory, zero or an absolute path, not 'disk.img'")]
    public void A_bad_dmptab_fails_the_load_with_its_line_and_starts_nothing(string text, int line, string reason)
    {
        File.WriteAllText(Config, text);

        ShellResult result = DmpBinary.Run($"--run-dir {RunDirectory} load --config {Config}");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, $"dmp: {Config}:{line}: {reason}");
        Assert.False(Directory.Exists(RunDirectory));
    }

    [Fact]
    public void A_missing_dmptab_fails_the_load()
    {
        ShellResult result = DmpBinary.Run($"--run-dir {RunDirectory} load --config {Config}");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, $"dmp: {Config}: No such file or directory");
        Assert.False(Directory.Exists(RunDirectory));
    }

    [Theory]
    [InlineData("load --config {0} memory", "--config declares the devices: name no BACKING with it")]
    [InlineData("load --config {0} --size 1M", "--size does not apply to a dmptab: give its lines size=SIZE")]
    [InlineData("load --config ''", "--config needs a path")]
    public void A_dmptab_with_backings_or_a_size_on_the_command_line_is_refused(string arguments, string expected)
    {
        File.WriteAllText(Config, "disk0 memory\n");

        ShellResult result = DmpBinary.Run($"--run-dir {RunDirectory} {string.Format(System.Globalization.CultureInfo.InvariantCulture, arguments, Config)}");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, $"dmp: {expected}");
        Assert.False(Directory.Exists(RunDirectory));
    }

    [Fact]
    public void Reload_needs_root_and_a_loaded_dmp()
    {
        ShellResult nobody = DmpBinary.Run($"--run-dir {RunDirectory} reload", Shell.Nobody);
        ShellResult notLoaded = DmpBinary.Run($"--run-dir {RunDirectory} reload");

        Assert.Equal(1, nobody.ExitCode);
        AssertOneLine(nobody, "dmp: reload: Operation not permitted (run it as root)");
        Assert.Equal(1, notLoaded.ExitCode);
        AssertOneLine(notLoaded, "dmp: module dmp is not loaded");
    }

    [Fact]
    public void Reload_after_the_daemon_died_says_load_takes_over()
    {
        Directory.CreateDirectory(RunDirectory);
        File.WriteAllText(new RunDirectory(RunDirectory).PidFile, "999999\n"); // no lock: its daemon is gone

        ShellResult result = DmpBinary.Run($"--run-dir {RunDirectory} reload");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, "dmp: the daemon (pid 999999) died without unloading; 'dmp load' takes its devices over");
    }

    [Fact]
    public void Help_names_reload_and_the_dmptab_a_bare_load_reads()
    {
        ShellResult help = DmpBinary.Run("--help");
        ShellResult load = DmpBinary.Run("load --help");

        Assert.Matches(@"(?m)^  reload\b", help.Output);
        Assert.Contains("/etc/dmp/dmptab", load.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^  --config <PATH>", load.Output);
    }

    private static void AssertOneLine(ShellResult result, string expected)
    {
        Assert.Equal("", result.Output);
        Assert.Single(result.Errors.TrimEnd('\n').Split('\n'));
        Assert.StartsWith(expected, result.Errors, StringComparison.Ordinal);
    }
}
