using System.Diagnostics;
using Dmp.Nbd;
using Dmp.Tests.Cli;
using static Dmp.Tests.Server.NbdRequests;

namespace Dmp.Tests.Server;

/// <summary>
/// Fault rules on a running <c>dmp serve</c>, set with <c>dmp fault</c> and through the stat tree's <c>faults</c>
/// file, seen by a raw NBD client: what each key matches, what each action does to the client's requests and to
/// the store, how rules are counted, listed and removed, and the one-line refusal of every bad rule.
/// </summary>
public sealed partial class FaultTests : IDisposable
{
    private const long Size = 64 << 20;
    private const ulong Mebibyte = 1 << 20;

    /// <summary>What <c>dmp fault list</c> prints when there are no rules: the header alone.</summary>
    private const string NoRules = "DEVICE ID FIRED  RULE\n";

    /// <summary>Every request of each operation, by the name a rule gives it.</summary>
    private static readonly (string Name, NbdCommand Command)[] Commands =
    [
        ("read", NbdCommand.Read), ("write", NbdCommand.Write), ("flush", NbdCommand.Flush),
        ("discard", NbdCommand.Trim), ("write_zeroes", NbdCommand.WriteZeroes), ("cache", NbdCommand.Cache),
    ];

    private readonly ServeProcess _server = new("memory --size 64M", withRunDirectory: true);
    private readonly RawNbdClient _client;

    public FaultTests() => _client = RawNbdClient.Transmitting(_server.Socket, "export0");

    private string Module => Path.Combine(_server.RunDirectory, "module");

    private string FaultsFile => Path.Combine(Module, "devices/export0/faults");

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    [Fact]
    public void A_client_that_hangs_up_on_a_30_second_delay_does_not_leave_its_request_in_flight()
    {
        AddRule("delay=30s");
        using (RawNbdClient leaving = RawNbdClient.Transmitting(_server.Socket, "export0"))
        {
            leaving.SendRequest(NbdCommand.Read, 0, 4096);
            WaitUntil(() => Operation("read")[3] == 1, "the read never got in flight");
        }

        var clock = Stopwatch.StartNew();
        WaitUntil(() => Operation("read")[3] == 0, "the read is still in flight 5 s after its client hung up", TimeSpan.FromSeconds(5));

        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Fault("clear export0");
        Assert.Equal(0u, _client.Read(0, 512).Error); // the server serves on
    }

    [Fact]
    public void Sigterm_ends_the_serve_promptly_while_a_30_second_delay_holds_requests()
    {
        AddRule("delay=30s");
        using RawNbdClient other = RawNbdClient.Transmitting(_server.Socket, "export0");
        _client.SendRequest(NbdCommand.Read, 0, 4096, cookie: 1);
        _client.SendRequest(NbdCommand.Write, 4096, 4096, payload: new byte[4096], cookie: 2);
        other.SendRequest(NbdCommand.Read, 8192, 1 << 20, cookie: 3);
        other.SendRequest(NbdCommand.Flush, 0, 0, cookie: 4);
        WaitUntil(() => Operation("read")[3] + Operation("write")[3] + Operation("flush")[3] == 4, "the requests never got in flight");

        var clock = Stopwatch.StartNew();
        int exitCode = _server.Stop();

        Assert.Equal(0, exitCode);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(3));
    }

    private static void WaitUntil(Func<bool> condition, string failure, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < (timeout ?? TimeSpan.FromSeconds(10)), failure);
            Thread.Sleep(10);
        }
    }

    private static NbdCommand CommandOf(string operation) => Commands.Single(command => command.Name == operation).Command;

    private ShellResult Fault(string arguments) => DmpBinary.Run($"--run-dir {_server.RunDirectory} fault {arguments}");

    private void AddRule(string rule)
    {
        ShellResult added = Fault($"add export0 {rule}");
        Assert.Equal((0, ""), (added.ExitCode, added.Errors));
        Assert.Matches(@"^export0: rule \d+: ", added.Output);
    }

    /// <summary>export0's rules as <c>dmp fault list</c> shows them.</summary>
    private List<(int Id, long Fired, string Rule)> Rules()
    {
        ShellResult list = Fault("list export0");
        Assert.Equal(0, list.ExitCode);
        string[] lines = list.Output.TrimEnd('\n').Split('\n');
        Assert.Equal(["DEVICE", "ID", "FIRED", "RULE"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return [.. lines.Skip(1).Select(line => line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries) is [_, string id, string fired, string rule]
            ? (int.Parse(id), long.Parse(fired), rule.Trim())
            : throw new FormatException(line))];
    }

    /// <summary>An operation's row of export0's <c>ops</c>: requests, bytes, errors, in flight, time_us.</summary>
    private long[] Operation(string name) =>
        File.ReadAllLines(Path.Combine(Module, "devices/export0/ops")).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Single(fields => fields[0] == name)[1..].Select(long.Parse).ToArray();
}
