using System.Diagnostics;
using Dmp.Faults;
using Dmp.Nbd;
using Dmp.Stats;
using Dmp.Trace;

namespace Dmp.Tests.Nbd;

/// <summary>
/// The fault and trace layers on each request path (<see cref="ServedConnection.Backings"/>): what a rule does
/// to the requests it matches, what it leaves alone, and what the trace and the counters make of it.
/// </summary>
public sealed class NbdConnectionFaultTests
{
    private const long Size = 64 << 20;

    public static TheoryData<string> Backings => [.. ServedConnection.Backings];

    [Theory]
    [MemberData(nameof(Backings))]
    public void A_failing_rule_answers_its_errno_counts_an_error_and_leaves_the_store_alone(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        byte[] before = Pattern(1, 8192);
        client.Send(NbdCommand.Write, 1, 0, 8192, before);
        Assert.Equal((0u, 1UL), client.ReceiveReply());
        AddRule(served, "op=write offset=4096 length=4096 error=ENOSPC");

        client.Send(NbdCommand.Write, 2, 4096, 4096, Pattern(2, 4096)); // in the range
        client.Send(NbdCommand.Write, 3, 0, 4096, Pattern(3, 4096)); // before it
        client.Send(NbdCommand.Write, 4, 2048, 4096, Pattern(4, 4096)); // overlapping it

        Assert.Equal(
            new Dictionary<ulong, uint> { [2] = NbdError.NoSpace, [3] = 0, [4] = NbdError.NoSpace },
            Enumerable.Range(0, 3).Select(_ => client.ReceiveReply()).ToDictionary(reply => reply.Cookie, reply => reply.Error));
        Assert.Equal([.. Pattern(3, 4096), .. before[4096..]], client.ReadBack(5, 0, 8192));
        Assert.Equal(new OperationCounters(4, 4 * 4096 + 4096, 2), served.Statistics.Snapshot()[IoOperation.Write]);
        Assert.Equal(2, served.Connection.Export.Faults.Rules[0].Fired);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public void Dropped_writes_are_acknowledged_and_read_back_as_the_old_data(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        client.Send(NbdCommand.Write, 1, 0, 4096, Pattern(1, 4096));
        Assert.Equal((0u, 1UL), client.ReceiveReply());
        AddRule(served, "drop");

        client.Send(NbdCommand.Write, 2, 0, 4096, Pattern(2, 4096), NbdCommandFlags.ForceUnitAccess);
        Assert.Equal((0u, 2UL), client.ReceiveReply());
        Assert.Equal(Pattern(1, 4096), client.ReadBack(3, 0, 4096));
        Assert.Equal(new OperationCounters(2, 8192, 0), served.Statistics.Snapshot()[IoOperation.Write]);
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public void Corrupted_reads_differ_in_their_first_byte_alone_and_the_store_keeps_its_data(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        const int large = 1 << 20; // more than a batch: on a memory store, read in place unless corrupted
        byte[] data = Pattern(5, large);
        client.Send(NbdCommand.Write, 1, 0, large, data);
        Assert.Equal((0u, 1UL), client.ReceiveReply());
        FaultRule rule = AddRule(served, "corrupt");

        foreach (int length in new[] { 4096, large })
        {
            byte[] corrupted = client.ReadBack(2, 0, length);
            Assert.Equal((byte)~data[0], corrupted[0]);
            Assert.Equal(data[1..length], corrupted[1..]);
        }

        served.Connection.Export.Faults.Clear(rule.Id);
        Assert.Equal(data, client.ReadBack(3, 0, large));
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public void A_delayed_request_waits_its_time_while_the_requests_behind_it_are_answered(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        // A second: ten O_DIRECT writes to the disk behind it take well under that even when the disk is slow (at
        // 300 ms a busy disk once answered them later than the delayed one).
        AddRule(served, "op=write offset=0 length=4096 delay=1s");
        var clock = Stopwatch.StartNew();

        client.Send(NbdCommand.Write, 1, 0, 4096, Pattern(1, 4096));
        for (ulong cookie = 2; cookie <= 11; cookie++)
        {
            client.Send(NbdCommand.Write, cookie, cookie * 4096, 4096, Pattern((int)cookie, 4096));
        }

        var order = Enumerable.Range(0, 11).Select(_ => client.ReceiveReply()).ToList();
        Assert.All(order, reply => Assert.Equal(0u, reply.Error));
        Assert.Equal(1UL, order[^1].Cookie);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(6));
        Assert.Equal(Pattern(1, 4096), client.ReadBack(12, 0, 4096)); // the delayed write was made
        Assert.True(served.Statistics.Snapshot().Nanoseconds(IoOperation.Write) >= 1_000_000_000, "the delay is in the service time");
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public async Task A_connection_that_ends_does_not_wait_out_its_delayed_requests(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        AddRule(served, "delay=30s");

        client.Send(NbdCommand.Read, 1, 0, 4096);
        client.Send(NbdCommand.Write, 2, 8192, 4096, Pattern(2, 4096));
        await Task.Delay(100);
        var clock = Stopwatch.StartNew();
        client.Close();

        string? reason = await served.Connection.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal("send failed: Broken pipe", reason); // the replies owed went to a client that had gone
    }

    [Theory]
    [MemberData(nameof(Backings))]
    public void Each_answered_request_is_traced_with_its_result_and_the_rule_that_acted(string backing)
    {
        using var served = new ServedConnection(Size, backing);
        NbdTestClient client = served.Client;
        NbdExport export = served.Connection.Export;
        FaultRule rule = AddRule(served, "op=read offset=1M length=4K error=EIO");
        TraceSubscription reader = export.Trace.Subscribe(device: null);

        client.Send(NbdCommand.Write, 1, 0, 4096, Pattern(1, 4096), NbdCommandFlags.ForceUnitAccess);
        Assert.Equal((0u, 1UL), client.ReceiveReply());
        client.Send(NbdCommand.Read, 2, 1 << 20, 4096);
        Assert.Equal(((uint)NbdError.InputOutput, 2UL), client.ReceiveReply());
        client.Send(NbdCommand.WriteZeroes, 3, 8192, 4096, flags: NbdCommandFlags.NoHole);
        Assert.Equal((0u, 3UL), client.ReceiveReply());
        client.Send(NbdCommand.Flush, 4, 0, 0);
        Assert.Equal((0u, 4UL), client.ReceiveReply());
        export.Trace.Unsubscribe(reader);
        client.Send(NbdCommand.Flush, 5, 0, 0); // no reader: not traced
        Assert.Equal((0u, 5UL), client.ReceiveReply());

        var records = new List<TraceRecord>();
        while (reader.TryRead(out TraceRecord record))
        {
            records.Add(record);
        }

        Assert.Equal(
            [
                (IoOperation.Write, 0L, 4096u, NbdCommandFlags.ForceUnitAccess, 0, 0),
                (IoOperation.Read, 1L << 20, 4096u, NbdCommandFlags.None, NbdError.InputOutput, rule.Id),
                (IoOperation.WriteZeroes, 8192L, 4096u, NbdCommandFlags.NoHole, 0, 0),
                (IoOperation.Flush, 0L, 0u, NbdCommandFlags.None, 0, 0),
            ],
            records.Select(record => (record.Operation, record.Offset, record.Length, record.Flags, record.Error, record.Rule)));
        Assert.All(records, record => Assert.Equal(("test", 0), (record.Device, record.Connection)));
        Assert.All(records, record => Assert.InRange(record.ServiceNanoseconds, 1, 5_000_000_000));
        Assert.Equal(0, reader.TakeLost());
    }

    private static FaultRule AddRule(ServedConnection served, string text) =>
        served.Connection.Export.Faults.TryAdd(text, out string error) ?? throw new InvalidOperationException(error);

    private static byte[] Pattern(int seed, int length) => Enumerable.Range(0, length).Select(b => (byte)((b * 7) ^ seed)).ToArray();
}
