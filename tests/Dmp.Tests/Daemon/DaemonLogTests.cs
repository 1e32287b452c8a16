using System.Diagnostics;
using Dmp.Daemon;
using Dmp.Tests.Cli;
using Dmp.Tests.Server;

namespace Dmp.Tests.Daemon;

/// <summary>
/// Where the real <c>dmp serve</c> logs, by <c>JOURNAL_STREAM</c>: when it names the file stderr is open on (as systemd
/// sets it for a unit whose output is the journal), each line starts with its syslog priority and has no time of its
/// own; otherwise lines are timestamped and carry no priority.
/// </summary>
public sealed class DaemonLogTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dmp-log-").FullName;

    private string ErrorFile => Path.Combine(_directory, "stderr");

    private string OtherFile => Path.Combine(_directory, "other");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Lines_carry_syslog_priorities_and_no_timestamp_when_JOURNAL_STREAM_is_stderr()
    {
        string[] lines = ServeAndMisbehave(journalStream: IdentityOf(ErrorFile));

        Assert.Contains(lines, line => line.StartsWith("<6>ready: serving export0 (memory, 1048576 bytes)", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.StartsWith("<4>nbd client: handshake: ", StringComparison.Ordinal));
        Assert.Equal("<6>stopping", lines[^1]);
        Assert.All(lines, line => Assert.Matches("^<[346]>", line));
        Assert.DoesNotContain(lines, line => line.Contains("dmp[", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lines_are_timestamped_without_priorities_unless_JOURNAL_STREAM_is_stderr(bool journalStreamElsewhere)
    {
        string[] lines = ServeAndMisbehave(journalStream: journalStreamElsewhere ? IdentityOf(OtherFile) : null);

        Assert.Contains(lines, line => line.Contains(": ready: serving export0", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains(": nbd client: handshake: ", StringComparison.Ordinal));
        Assert.All(lines, line => Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z dmp\[\d+\]: ", line));
    }

    [Fact]
    public void A_flood_of_clients_failing_their_handshake_logs_the_first_20_and_says_the_rest_are_counted()
    {
        string[] lines = ServeAndMisbehave(journalStream: null, clients: 3 * ThrottledLog.Burst);

        string[] handshakes = [.. lines.Where(line => line.Contains(": nbd client: handshake: ", StringComparison.Ordinal))];
        Assert.Equal(ThrottledLog.Burst, handshakes.Length);
        Assert.EndsWith($"(the {ThrottledLog.Burst}th such line this minute: the next ones are counted, not logged)", handshakes[^1], StringComparison.Ordinal);
        Assert.Equal("stopping", lines[^1].Split(": ", 2)[1]);
    }

    [Theory]
    [InlineData("stat --run-dir /nonexistent/dmp", "<3>dmp: module dmp is not loaded")]
    [InlineData("load --size 1X", "<3>dmp: ")]
    public void A_command_that_fails_says_so_at_error_priority_when_JOURNAL_STREAM_is_stderr(string command, string start)
    {
        string stream = IdentityOf(ErrorFile);

        ShellResult failed = Shell.Run($"JOURNAL_STREAM={stream} {DmpBinary.Path} {command} 2>>{ErrorFile}");

        Assert.NotEqual(0, failed.ExitCode);
        string line = Assert.Single(File.ReadAllLines(ErrorFile));
        Assert.StartsWith(start, line, StringComparison.Ordinal);
        Assert.StartsWith("dmp: ", DmpBinary.Run(command).Errors, StringComparison.Ordinal); // elsewhere, as ever
    }

    /// <summary>systemd's JOURNAL_STREAM for a file: its device and inode numbers.</summary>
    private static string IdentityOf(string path)
    {
        File.WriteAllText(path, "");
        ShellResult stat = Shell.Run($"stat -c %d:%i {path}");
        Assert.Equal(0, stat.ExitCode);
        return stat.Output.Trim();
    }

    /// <summary>Runs serve with stderr on <see cref="ErrorFile"/>, has <paramref name="clients"/> clients fail their handshake one
    /// after another, stops it, and returns what it logged.</summary>
    private string[] ServeAndMisbehave(string? journalStream, int clients = 1)
    {
        string socket = Path.Combine(_directory, "nbd.sock");
        var start = new ProcessStartInfo("bash", ["-c", $"exec {DmpBinary.Path} serve memory --size 1M --listen unix:{socket} 2>>{ErrorFile}"]);
        start.Environment.Remove("JOURNAL_STREAM");
        if (journalStream is not null)
        {
            start.Environment["JOURNAL_STREAM"] = journalStream;
        }

        using Process server = Process.Start(start)!;
        try
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(ErrorFile) || !File.ReadAllText(ErrorFile).Contains("ready: ", StringComparison.Ordinal))
            {
                Assert.True(!server.HasExited && clock.Elapsed < TimeSpan.FromSeconds(20), "dmp serve did not become ready");
                Thread.Sleep(10);
            }

            for (int i = 0; i < clients; i++)
            {
                using var client = new RawNbdClient(socket);
                client.ReceiveGreeting();
                client.SendUInt32(0x8000_0000); // a client flag the protocol does not have
                Assert.True(client.IsClosedByServer()); // the server logs before it closes
            }

            while (!File.ReadAllText(ErrorFile).Contains("handshake: ", StringComparison.Ordinal))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "dmp serve did not log the failed handshake");
                Thread.Sleep(10);
            }
        }
        finally
        {
            Shell.Run($"kill -TERM {server.Id}");
            server.WaitForExit();
        }

        Assert.Equal(0, server.ExitCode);
        return File.ReadAllLines(ErrorFile);
    }
}
