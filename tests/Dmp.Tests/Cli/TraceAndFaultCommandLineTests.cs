namespace Dmp.Tests.Cli;

/// <summary><c>dmp trace</c> and <c>dmp fault</c> given bad input or no dmp to talk to: one clear line on stderr, nothing on stdout, a non-zero exit.</summary>
public sealed class TraceAndFaultCommandLineTests : IDisposable
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
    [InlineData("trace --op bogus", "--op: unknown operation 'bogus': expected read, write, write_zeroes, discard, flush or cache")]
    [InlineData("trace --op read --op trim", "--op: unknown operation 'trim'")]
    [InlineData("trace --op", "--op")]
    [InlineData("trace --count 0", "--count must be")]
    [InlineData("trace -n 0", "--count must be")]
    [InlineData("trace --count -3", "--count")]
    [InlineData("trace --count x", "--count must be")]
    [InlineData("trace --count 1.5", "--count must be")]
    [InlineData("trace --count 99999999999999999999", "--count must be")]
    [InlineData("trace --min-latency -1", "--min-latency must be")]
    [InlineData("trace --min-latency abc", "--min-latency must be")]
    [InlineData("trace --min-latency 1ms", "--min-latency must be")]
    [InlineData("trace nbd0", "Unrecognized command or argument 'nbd0'")]
    [InlineData("trace --bogus", "--bogus")]
    [InlineData("fault", "Required command was not provided")]
    [InlineData("fault frob", "frob")]
    [InlineData("fault add", "Required argument missing for command: 'add'")]
    [InlineData("fault add nbd0", "Required argument missing for command: 'add'")]
    [InlineData("fault clear", "Required argument missing for command: 'clear'")]
    [InlineData("fault clear nbd0 x", "Cannot parse argument 'x'")]
    [InlineData("fault clear nbd0 1 2", "Unrecognized command or argument '2'")]
    [InlineData("fault list nbd0 nbd1", "Unrecognized command or argument 'nbd1'")]
    public void Usage_errors_exit_2_with_one_line(string arguments, string expected)
    {
        ShellResult result = DmpBinary.Run($"--run-dir {_runDirectory} {arguments}");

        Assert.Equal(2, result.ExitCode);
        AssertOneLine(result, expected);
        Assert.False(Directory.Exists(_runDirectory));
    }

    [Theory]
    [InlineData("trace")]
    [InlineData("trace --json --count 3")]
    [InlineData("trace --device nbd0")]
    [InlineData("fault add nbd0 error=EIO")]
    [InlineData("fault list")]
    [InlineData("fault list nbd0")]
    [InlineData("fault clear nbd0")]
    [InlineData("fault clear nbd0 1")]
    public void Trace_and_fault_without_a_loaded_dmp_say_so(string command)
    {
        ShellResult result = DmpBinary.Run($"--run-dir {_runDirectory} {command}");

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, "module dmp is not loaded");
        Assert.False(Directory.Exists(_runDirectory));
    }

    [Fact]
    public void Trace_needs_root()
    {
        ShellResult result = DmpBinary.Run($"--run-dir {_runDirectory} trace", Shell.Nobody);

        Assert.Equal(1, result.ExitCode);
        AssertOneLine(result, "trace: Operation not permitted (run it as root)");
    }

    [Fact]
    public void Help_lists_trace_and_fault_and_fault_s_subcommands()
    {
        ShellResult help = DmpBinary.Run("--help");
        ShellResult faultHelp = DmpBinary.Run("fault --help");

        Assert.Equal((0, 0), (help.ExitCode, faultHelp.ExitCode));
        Assert.Matches(@"(?m)^  trace\b", help.Output);
        Assert.Matches(@"(?m)^  fault\b", help.Output);
        foreach (string command in new[] { "add", "list", "clear" })
        {
            Assert.Matches($@"(?m)^  {command}\b", faultHelp.Output);
        }
    }

    private static void AssertOneLine(ShellResult result, string expected)
    {
        Assert.Equal("", result.Output);
        Assert.StartsWith("dmp: ", result.Errors);
        Assert.Single(result.Errors.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, result.Errors);
    }
}
