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
public sealed class FaultTests : IDisposable
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

    [Theory]
    [InlineData("op=read error=EIO", "read")]
    [InlineData("op=write error=EIO", "write")]
    [InlineData("op=flush error=EIO", "flush")]
    [InlineData("op=discard error=EIO", "discard")]
    [InlineData("op=write_zeroes error=EIO", "write_zeroes")]
    [InlineData("op=cache error=EIO", "cache")]
    [InlineData("op=any error=EIO", "read write flush discard write_zeroes cache")]
    [InlineData("error=EIO", "read write flush discard write_zeroes cache")]
    public void An_operation_matches_its_own_requests_only(string rule, string failing)
    {
        AddRule(rule);

        foreach ((string name, NbdCommand command) in Commands)
        {
            uint expected = failing.Split(' ').Contains(name) ? Eio : 0;
            Assert.True(expected == _client.Request(command, 8192), $"{name} under '{rule}'");
        }
    }

    [Theory]
    [InlineData("offset=2048s length=8s error=EIO")]
    [InlineData("offset=1M length=4K error=EIO")]
    [InlineData("offset=1048576 length=4096 error=EIO")]
    public void A_range_matches_requests_that_overlap_it_and_never_a_flush(string rule)
    {
        Assert.Equal("export0: rule 1: op=any offset=1048576 length=4096 error=EIO\n", Fault($"add export0 {rule}").Output);

        Assert.Equal(0u, _client.Write(Mebibyte - 512, new byte[512])); // ends where the range starts
        Assert.Equal(Eio, _client.Write(Mebibyte - 512, new byte[513])); // its first byte
        Assert.Equal(Eio, _client.Write(Mebibyte + 1024, new byte[512])); // inside
        Assert.Equal(Eio, _client.Write(Mebibyte + 4095, new byte[1])); // its last byte
        Assert.Equal(0u, _client.Write(Mebibyte + 4096, new byte[512])); // starts where it ends
        Assert.Equal(Eio, _client.Write(0, new byte[2 << 20])); // all of it and more
        Assert.Equal(Eio, _client.Read(Mebibyte, 4096).Error);
        Assert.Equal(0u, _client.Read(2 * Mebibyte, 4096).Error);
        Assert.Equal(Eio, _client.Send(NbdCommand.Trim, Mebibyte - 4096, 8192));
        Assert.Equal(0u, _client.Send(NbdCommand.Flush));
        Assert.Equal(6, Rules().Single().Fired);
    }

    [Fact]
    public void A_range_with_an_offset_alone_runs_to_the_end_and_a_length_alone_starts_at_0()
    {
        Assert.Equal("export0: rule 1: op=write offset=66060288 length=1048576 error=ENOSPC\n", Fault("add export0 op=write offset=63M error=ENOSPC").Output);
        Assert.Equal("export0: rule 2: op=read offset=0 length=8192 error=EIO\n", Fault("add export0 op=read length=16s error=EIO").Output);

        Assert.Equal(0u, _client.Write((63 * Mebibyte) - 512, new byte[512]));
        Assert.Equal(Enospc, _client.Write((ulong)Size - 512, new byte[512]));
        Assert.Equal(Eio, _client.Read(0, 512).Error);
        Assert.Equal(Eio, _client.Read(8191, 1).Error);
        Assert.Equal(0u, _client.Read(8192, 512).Error);
    }

    [Theory]
    [InlineData("0", 0, 0)]
    [InlineData("0%", 0, 0)]
    [InlineData("1", 400, 400)]
    [InlineData("100%", 400, 400)]
    [InlineData("0.5", 140, 260)] // 400 tries at 1/2: 200 ± 6 standard deviations
    [InlineData("50%", 140, 260)]
    public void A_probability_fires_on_that_share_of_matching_requests(string probability, int least, int most)
    {
        AddRule($"op=read probability={probability} error=EIO");

        int failed = Enumerable.Range(0, 400).Count(i => _client.Read((ulong)i * 512, 512).Error == Eio);

        Assert.InRange(failed, least, most);
        Assert.Equal(failed, Rules().Single().Fired);
        Assert.Equal(0u, _client.Write(0, new byte[512])); // another operation is never tried
    }

    [Theory]
    [InlineData("op=write after=3 error=EIO", "...EE", 2)]
    [InlineData("op=write count=2 error=EIO", "EE...", 2)]
    [InlineData("op=write after=1 count=2 error=EIO", ".EE..", 2)]
    [InlineData("op=write after=0 error=EIO", "EEEEE", 5)]
    public void After_lets_matching_requests_through_first_and_count_limits_how_often_it_acts(string rule, string outcomes, int fired)
    {
        AddRule(rule);

        var seen = new System.Text.StringBuilder();
        for (int i = 0; i < outcomes.Length; i++)
        {
            Assert.Equal(0u, _client.Read(0, 512).Error); // no match: neither let through nor acted on
            seen.Append(_client.Write((ulong)i * 512, new byte[512]) switch { 0 => '.', Eio => 'E', uint other => throw new InvalidOperationException($"error {other}") });
        }

        Assert.Equal(outcomes, seen.ToString());
        Assert.Equal(fired, Rules().Single().Fired);
    }

    [Fact]
    public void A_flakey_rule_acts_only_in_the_down_part_of_each_up_then_down_cycle()
    {
        const double PeriodMilliseconds = 200;
        AddRule("op=read up=200ms down=200ms error=EIO");
        var clock = Stopwatch.StartNew();

        var samples = new List<(double At, bool Failed)>();
        while (clock.Elapsed < TimeSpan.FromMilliseconds(1500))
        {
            double at = clock.Elapsed.TotalMilliseconds;
            samples.Add((at, _client.Read(0, 512).Error == Eio));
            Thread.Sleep(2);
        }

        // Runs of passes and failures, and where they changed: halfway between the samples either side, give or
        // take half the gap between them (a busy machine may stall a round trip).
        var changes = new List<(double At, double Uncertainty)>();
        for (int i = 1; i < samples.Count; i++)
        {
            if (samples[i].Failed != samples[i - 1].Failed)
            {
                changes.Add(((samples[i].At + samples[i - 1].At) / 2, (samples[i].At - samples[i - 1].At) / 2));
            }
        }

        Assert.False(samples[0].Failed, "the rule starts up: a request right after it was added passes");
        Assert.True(changes.Count >= 5, $"{changes.Count} changes in 1.5 s of 200 ms up and 200 ms down");
        for (int i = 1; i < changes.Count; i++)
        {
            double slack = 60 + changes[i].Uncertainty + changes[i - 1].Uncertainty;
            Assert.InRange(changes[i].At - changes[i - 1].At, PeriodMilliseconds - slack, PeriodMilliseconds + slack);
        }

        Assert.Equal(samples.Count(sample => sample.Failed), Rules().Single().Fired);
    }

    [Theory]
    [InlineData("up=3000000h down=1s")] // 342 years up: more nanoseconds than a long holds
    [InlineData("up=2s down=3000000h")]
    [InlineData("up=1600000h down=1600000h")] // each fits, the cycle does not
    public void A_flakey_rule_with_a_cycle_of_centuries_starts_up_all_the_same(string periods)
    {
        AddRule($"op=read {periods} error=EIO");

        Assert.Equal(0u, _client.Read(0, 512).Error);
        Assert.Equal(0, Rules().Single().Fired);
    }

    [Fact]
    public void The_first_rule_that_fires_acts_and_one_spent_lets_the_next_act()
    {
        AddRule("op=write length=4K count=1 error=ENOSPC");
        AddRule("op=write error=EIO");
        AddRule("error=EPERM");

        Assert.Equal(Enospc, _client.Write(0, new byte[512]));
        Assert.Equal(Eio, _client.Write(0, new byte[512])); // rule 1 is spent
        Assert.Equal(Eio, _client.Write(8192, new byte[512]));
        Assert.Equal(Eperm, _client.Read(0, 512).Error);
        Assert.Equal(Eperm, _client.Send(NbdCommand.Flush));

        Assert.Equal([(1, 1L), (2, 2L), (3, 2L)], Rules().Select(rule => (rule.Id, rule.Fired)));
    }

    [Fact]
    public void Clear_removes_one_rule_by_its_id_or_every_rule()
    {
        AddRule("op=read error=EIO");
        AddRule("op=write error=ENOSPC");
        AddRule("op=flush error=EPERM");

        ShellResult one = Fault("clear export0 2");

        Assert.Equal((0, "", ""), (one.ExitCode, one.Output, one.Errors));
        Assert.Equal([1, 3], Rules().Select(rule => rule.Id));
        Assert.Equal((Eio, 0u, Eperm), (_client.Read(0, 512).Error, _client.Write(0, new byte[512]), _client.Send(NbdCommand.Flush)));

        ShellResult all = Fault("clear export0");

        Assert.Equal((0, "", ""), (all.ExitCode, all.Output, all.Errors));
        Assert.Equal(NoRules, Fault("list").Output);
        Assert.Equal((0u, 0u, 0u), (_client.Read(0, 512).Error, _client.Write(0, new byte[512]), _client.Send(NbdCommand.Flush)));
    }

    [Fact]
    public void List_shows_every_rule_with_how_often_it_fired()
    {
        Assert.Equal(NoRules, Fault("list").Output);
        AddRule("op=read offset=0 length=1K probability=25% after=2 count=9 up=1s down=2s error=EROFS");
        AddRule("delay=10ms-80ms");
        AddRule("drop");
        AddRule("corrupt");
        AddRule("op=write_zeroes drop");
        _client.Write(0, new byte[512]);
        _client.Write(512, new byte[512]);

        ShellResult list = Fault("list");
        ShellResult one = Fault("list export0");

        Assert.Equal(
            "DEVICE  ID FIRED  RULE\n" +
            "export0  1     0  op=read offset=0 length=1024 probability=0.25 after=2 count=9 up=1s down=2s error=EROFS\n" +
            "export0  2     2  op=any delay=10ms-80ms\n" +
            "export0  3     0  op=write drop\n" +
            "export0  4     0  op=read corrupt\n" +
            "export0  5     0  op=write_zeroes drop\n",
            list.Output);
        Assert.Equal((0, list.Output), (one.ExitCode, one.Output));
    }

    [Theory]
    [InlineData("EIO", Eio)]
    [InlineData("ENOSPC", Enospc)]
    [InlineData("EPERM", Eperm)]
    [InlineData("EINVAL", Einval)]
    [InlineData("ENOMEM", Enomem)]
    [InlineData("EOVERFLOW", Eoverflow)]
    [InlineData("ENOTSUP", Enotsup)]
    [InlineData("ESHUTDOWN", Eshutdown)]
    [InlineData("EROFS", Eperm)]
    [InlineData("EACCES", Eperm)]
    [InlineData("EDQUOT", Enospc)]
    [InlineData("ENOENT", Eio)]
    [InlineData("ETIMEDOUT", Eio)]
    [InlineData("eio", Eio)]
    public void An_error_reaches_the_client_as_the_nbd_error_it_maps_to_and_the_stream_stays_in_step(string errno, uint expected)
    {
        AddRule($"op=read error={errno}");
        AddRule($"op=write count=1 error={errno}");
        byte[] data = Pattern(4096, 7);

        Assert.Equal(expected, _client.Read(0, 4096).Error); // no data follows
        Assert.Equal(expected, _client.Write(0, data)); // its payload was taken in whole
        Assert.Equal(0u, _client.Write(0, data));
        Assert.Equal(0u, _client.Send(NbdCommand.Flush));
        Assert.Equal(expected, _client.Read(0, 4096).Error);
        Assert.Contains($"error={errno.ToUpperInvariant().Replace("ENOTSUP", "EOPNOTSUPP", StringComparison.Ordinal)}", Rules()[0].Rule);
    }

    [Theory]
    [InlineData("read")]
    [InlineData("write")]
    public void A_delayed_request_is_answered_after_its_delay_while_the_requests_behind_it_overtake_it(string operation)
    {
        NbdCommand delayed = CommandOf(operation);
        byte[] old = Pattern(4096, 1);
        byte[] fresh = Pattern(4096, 2);
        Assert.Equal(0u, _client.Write(Mebibyte, old));
        AddRule("offset=1M length=4K delay=100ms");

        var clock = Stopwatch.StartNew();
        if (delayed == NbdCommand.Read)
        {
            _client.SendRequest(NbdCommand.Read, Mebibyte, 4096, cookie: 1);
        }
        else
        {
            _client.SendRequest(NbdCommand.Write, Mebibyte, 4096, payload: fresh, cookie: 1);
        }

        _client.SendRequest(NbdCommand.Write, 0, 4096, payload: fresh, cookie: 2);
        _client.SendRequest(NbdCommand.Read, 0, 4096, cookie: 3);
        _client.SendRequest(NbdCommand.Flush, 0, 0, cookie: 4);
        var order = new List<ulong>();
        TimeSpan delayedAnswer = default;
        for (int i = 0; i < 4; i++)
        {
            (ulong cookie, uint error) = _client.ReceiveAnyReply();
            Assert.Equal(0u, error);
            order.Add(cookie);
            if (cookie == 1)
            {
                delayedAnswer = clock.Elapsed;
            }

            if (cookie == 3 || (cookie == 1 && delayed == NbdCommand.Read))
            {
                Assert.Equal(cookie == 3 ? fresh : old, _client.Receive(4096));
            }
        }

        Assert.Equal([2UL, 3, 4, 1], order);
        Assert.InRange(delayedAnswer, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));
        Assert.Equal(delayed == NbdCommand.Read ? old : fresh, _client.Read(Mebibyte, 4096).Data); // a delayed write is done when answered
        Assert.InRange(Operation(operation)[4], 100_000, 5_000_000); // its time_us includes the delay
    }

    [Fact]
    public void A_delay_range_holds_each_request_somewhere_within_it()
    {
        AddRule("op=read delay=20ms-60ms");

        for (int i = 0; i < 5; i++)
        {
            var clock = Stopwatch.StartNew();
            Assert.Equal(0u, _client.Read(0, 512).Error);
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(5));
        }
    }

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    [InlineData(8 << 20)]
    public void A_dropped_write_is_acknowledged_and_not_written(int length)
    {
        byte[] old = Pattern(length, 1);
        Assert.Equal(0u, _client.Write(Mebibyte, old));
        AddRule("drop");

        Assert.Equal(0u, _client.Write(Mebibyte, Pattern(length, 2)));
        Assert.Equal(0u, _client.Send(NbdCommand.Flush));

        Assert.Equal(old, _client.Read(Mebibyte, length).Data);
        Assert.Equal(1, Rules().Single().Fired);
        Fault("clear export0");
        Assert.Equal(old, _client.Read(Mebibyte, length).Data);
    }

    [Theory]
    [InlineData("write_zeroes")]
    [InlineData("discard")]
    public void A_dropped_zeroing_or_discard_is_acknowledged_and_leaves_the_data(string operation)
    {
        byte[] old = Pattern(8192, 3);
        Assert.Equal(0u, _client.Write(0, old));
        AddRule($"op={operation} drop");

        Assert.Equal(0u, _client.Send(CommandOf(operation), 0, 8192));

        Assert.Equal(old, _client.Read(0, 8192).Data);
        Assert.Equal(1, Rules().Single().Fired);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(512)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    [InlineData(8 << 20)]
    public void A_corrupted_read_has_its_first_byte_inverted_and_the_store_is_untouched(int length)
    {
        byte[] stored = Pattern(length, 0x5a);
        Assert.Equal(0u, _client.Write(Mebibyte, stored));
        AddRule("corrupt");

        for (int i = 0; i < 2; i++)
        {
            byte[] read = _client.Read(Mebibyte, length).Data!;
            Assert.Equal((byte)~stored[0], read[0]);
            Assert.True(stored.AsSpan(1).SequenceEqual(read.AsSpan(1)), "only the first byte differs");
        }

        Assert.Equal(2, Rules().Single().Fired);
        Assert.Equal(0, Fault("clear export0").ExitCode);
        Assert.Equal(stored, _client.Read(Mebibyte, length).Data);
    }

    [Fact]
    public void An_injected_error_counts_as_an_error_in_ops()
    {
        AddRule("op=write count=3 error=EIO");

        for (int i = 0; i < 5; i++)
        {
            _client.Write((ulong)i * 512, new byte[512]);
        }

        _client.Read(0, 512);

        Assert.Equal([5, 2560, 3, 0], Operation("write")[..4]);
        Assert.Equal([1, 512, 0, 0], Operation("read")[..4]);
        Assert.Equal(3, Rules().Single().Fired);
    }

    [Fact]
    public void The_faults_file_lists_the_rules_and_takes_rule_lines_clear_and_clear_id()
    {
        Assert.Equal("", File.ReadAllText(FaultsFile));

        Assert.Equal(0, Shell.Run($"echo 'op=read error=EIO' > {FaultsFile} && echo 'op=write   count=1 error=ENOSPC' > {FaultsFile} && echo 'op=flush error=EPERM' > {FaultsFile}").ExitCode);
        Assert.Equal(Eio, _client.Read(0, 512).Error);

        Assert.Equal(
            "1 op=read error=EIO fired=1\n2 op=write count=1 error=ENOSPC fired=0\n3 op=flush error=EPERM fired=0\n",
            File.ReadAllText(FaultsFile));
        Assert.Equal([1, 2, 3], Rules().Select(rule => rule.Id));

        Assert.Equal(0, Shell.Run($"echo 'clear 2' > {FaultsFile}").ExitCode);
        Assert.Equal("1 op=read error=EIO fired=1\n3 op=flush error=EPERM fired=0\n", File.ReadAllText(FaultsFile));
        Assert.Equal(0u, _client.Write(0, new byte[512]));

        Assert.Equal(0, Shell.Run($"echo clear > {FaultsFile}").ExitCode);
        Assert.Equal("", File.ReadAllText(FaultsFile));
        Assert.Equal(0u, _client.Read(0, 512).Error);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("op=read")]
    [InlineData("op=read error=EIO drop")]
    [InlineData("error=EBOGUS")]
    [InlineData("offset=64M error=EIO")]
    [InlineData("clear x")]
    [InlineData("clear 1 2")]
    [InlineData("clear 9")]
    public void A_bad_line_in_the_faults_file_fails_with_einval_and_changes_nothing(string line)
    {
        AddRule("op=read error=EIO");
        string before = File.ReadAllText(FaultsFile);

        ShellResult refused = Shell.Run($"echo '{line}' > {FaultsFile}");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Invalid argument", refused.Errors);
        Assert.Equal(before, File.ReadAllText(FaultsFile));
        Assert.Equal(Eio, _client.Read(0, 512).Error);
        Assert.Contains(_server.Log, logged => logged.Contains($"export0/faults: '{line}' refused: ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("add export0 bogus=1 error=EIO", "unknown key 'bogus'")]
    [InlineData("add export0 op=bogus error=EIO", "unknown operation 'bogus'")]
    [InlineData("add export0 op=trim error=EIO", "unknown operation 'trim'")]
    [InlineData("add export0 error=EBOGUS", "error=EBOGUS is not an errno name")]
    [InlineData("add export0 offset=64M error=EIO", "offset=67108864 lies past the end of the device (67108864 bytes)")]
    [InlineData("add export0 offset=63M length=2M error=EIO", "is not a range within the device")]
    [InlineData("add export0 length=65M error=EIO", "is not a range within the device")]
    [InlineData("add export0 length=0 error=EIO", "is not a range within the device")]
    [InlineData("add export0 offset=1x error=EIO", "offset=1x is not a number of bytes")]
    [InlineData("add export0 probability=1.5 error=EIO", "probability=1.5 is not a probability from 0 to 1")]
    [InlineData("add export0 probability=101% error=EIO", "probability=101% is not a probability")]
    [InlineData("add export0 probability=-0.1 error=EIO", "probability=-0.1 is not a probability")]
    [InlineData("add export0 count=0 error=EIO", "count=0 is not a whole number of 1 or more")]
    [InlineData("add export0 after=-1 error=EIO", "after=-1 is not a whole number of 0 or more")]
    [InlineData("add export0 op=read", "a rule needs an action")]
    [InlineData("add export0 error=EIO drop", "a rule takes exactly one action")]
    [InlineData("add export0 delay=10ms corrupt", "a rule takes exactly one action")]
    [InlineData("add export0 op=read drop", "drop acts on writes only")]
    [InlineData("add export0 op=write corrupt", "corrupt acts on reads only")]
    [InlineData("add export0 drop=1", "'drop' takes no value")]
    [InlineData("add export0 up=200ms error=EIO", "a flakey period needs both up= and down=")]
    [InlineData("add export0 down=200ms error=EIO", "a flakey period needs both up= and down=")]
    [InlineData("add export0 up=0 down=1s error=EIO", "up=0 must be longer than 0")]
    [InlineData("add export0 delay=61s", "last at most 60s")]
    [InlineData("add export0 delay=2m", "last at most 60s")]
    [InlineData("add export0 delay=80ms-50ms", "must run from shorter to longer")]
    [InlineData("add export0 delay=soon", "delay=soon is not a duration")]
    [InlineData("add export0 op=read op=write error=EIO", "'op' is given twice")]
    [InlineData("add export0 error=EIO error=EIO", "'error' is given twice")]
    [InlineData("add nbd9 error=EIO", "nbd9 is not a device dmp serves")]
    [InlineData("add export7 error=EIO", "export7 is not a device dmp serves")]
    [InlineData("list nbd9", "nbd9 is not a device dmp serves")]
    [InlineData("clear nbd9", "nbd9 is not a device dmp serves")]
    [InlineData("clear export0 9", "export0 has no rule 9")]
    public void A_bad_rule_or_device_is_refused_in_one_line_and_changes_nothing(string arguments, string expected)
    {
        AddRule("op=read error=EIO");
        string before = Fault("list").Output;

        ShellResult refused = Fault(arguments);

        Assert.Equal((1, ""), (refused.ExitCode, refused.Output));
        Assert.StartsWith("dmp: ", refused.Errors);
        Assert.Single(refused.Errors.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, refused.Errors);
        Assert.Equal(before, Fault("list").Output);
        Assert.Equal((Eio, 0u), (_client.Read(0, 512).Error, _client.Write(0, new byte[512])));
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

    [Theory]
    [InlineData("writeback")]
    [InlineData("none")]
    public void Rules_act_alike_on_a_file_in_either_cache_mode(string cache)
    {
        string image = Path.Combine("/var/tmp", $"dmp-faults-{Guid.NewGuid():N}.img"); // on the disk, not tmpfs: a file's own request path
        using (var file = new FileStream(image, FileMode.CreateNew))
        {
            file.SetLength(16 << 20);
        }

        try
        {
            using var server = new ServeProcess($"{image} --cache {cache}", withRunDirectory: true);
            using RawNbdClient client = RawNbdClient.Transmitting(server.Socket, "export0");
            ShellResult Rule(string arguments) => DmpBinary.Run($"--run-dir {server.RunDirectory} fault {arguments}");
            byte[] old = Pattern(65536, 1);
            byte[] fresh = Pattern(4096, 2);
            Assert.Equal(0u, client.Write(0, old));

            Assert.Equal(0, Rule("add export0 op=read error=ENOSPC").ExitCode);
            Assert.Equal(Enospc, client.Read(0, 4096).Error);
            Assert.Equal(0, Rule("clear export0").ExitCode);

            Assert.Equal(0, Rule("add export0 drop").ExitCode);
            Assert.Equal(0u, client.Write(0, fresh));
            Assert.Equal(0, Rule("clear export0").ExitCode);
            Assert.Equal(old, client.Read(0, 65536).Data);

            Assert.Equal(0, Rule("add export0 corrupt").ExitCode);
            byte[] corrupted = client.Read(0, 65536).Data!;
            Assert.Equal(0, Rule("clear export0").ExitCode);
            Assert.Equal([(byte)~old[0], .. old.AsSpan(1)], corrupted);
            Assert.Equal(old, client.Read(0, 65536).Data);

            Assert.Equal(0, Rule("add export0 offset=8K length=4K delay=100ms").ExitCode);
            var clock = Stopwatch.StartNew();
            client.SendRequest(NbdCommand.Write, 8192, 4096, payload: fresh, cookie: 1);
            client.SendRequest(NbdCommand.Read, 0, 4096, cookie: 2);
            client.SendRequest(NbdCommand.Flush, 0, 0, cookie: 3);
            Assert.Equal((2UL, 0u), client.ReceiveAnyReply());
            Assert.Equal(old[..4096], client.Receive(4096));
            Assert.Equal((3UL, 0u), client.ReceiveAnyReply());
            Assert.Equal((1UL, 0u), client.ReceiveAnyReply());
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5));
            Assert.Equal(fresh, client.Read(8192, 4096).Data);
        }
        finally
        {
            File.Delete(image);
        }
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
