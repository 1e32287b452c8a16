using Dmp.Stats;

namespace Dmp.Tests.Stats;

public class IoStatisticsTests
{
    [Fact]
    public void Counts_from_every_shard_add_up()
    {
        var statistics = new IoStatistics();
        CounterShard first = statistics.OpenShard();
        CounterShard second = statistics.OpenShard();
        first.Record(IoOperation.Read, 4096, failed: false);
        second.Record(IoOperation.Read, 512, failed: true);
        second.Record(IoOperation.Write, 1024, failed: false);

        IoCounters counters = statistics.Snapshot();
        Assert.Equal(new OperationCounters(2, 4608, 1), counters[IoOperation.Read]);
        Assert.Equal(new OperationCounters(1, 1024, 0), counters[IoOperation.Write]);
    }

    [Fact]
    public void A_closed_connections_counts_are_kept()
    {
        var statistics = new IoStatistics();
        CounterShard shard = statistics.OpenShard();
        shard.Record(IoOperation.Write, 4096, failed: false);
        statistics.CloseShard(shard);

        Assert.Equal(1, statistics.Snapshot()[IoOperation.Write].Requests);
    }

    [Fact]
    public void A_reset_zeroes_what_came_before_and_counts_what_comes_after()
    {
        var statistics = new IoStatistics();
        CounterShard shard = statistics.OpenShard();
        shard.Record(IoOperation.Read, 4096, failed: false);
        statistics.Reset();

        Assert.Equal(default, statistics.Snapshot()[IoOperation.Read]);

        shard.Record(IoOperation.Read, 512, failed: false);
        statistics.CloseShard(shard);
        Assert.Equal(new OperationCounters(1, 512, 0), statistics.Snapshot()[IoOperation.Read]);
    }

    [Fact]
    public async Task Read_and_reset_while_counting_loses_no_request_and_counts_none_twice()
    {
        const int requests = 200_000;
        var statistics = new IoStatistics();
        CounterShard shard = statistics.OpenShard();
        var writer = Task.Run(() =>
        {
            for (int i = 0; i < requests; i++)
            {
                shard.Record(IoOperation.Read, 4096, failed: false);
            }
        });

        long seen = 0;
        while (!writer.IsCompleted)
        {
            OperationCounters taken = statistics.SnapshotAndReset()[IoOperation.Read];
            Assert.Equal(taken.Requests * 4096, taken.Bytes);
            seen += taken.Requests;
        }

        await writer;
        seen += statistics.SnapshotAndReset()[IoOperation.Read].Requests;
        Assert.Equal(requests, seen);
    }

    [Fact]
    public async Task A_reader_never_sees_a_request_half_counted()
    {
        var shard = new CounterShard();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                shard.Record(IoOperation.Write, 1024, failed: false);
                shard.Record(IoOperation.Read, 4096, failed: true);
            }
        });

        for (int i = 0; i < 100_000; i++)
        {
            IoCounters counters = shard.Read();
            OperationCounters writes = counters[IoOperation.Write];
            OperationCounters reads = counters[IoOperation.Read];
            Assert.Equal(writes.Requests * 1024, writes.Bytes);
            Assert.Equal(reads.Requests * 4096, reads.Bytes);
            Assert.Equal(reads.Requests, reads.Errors);
            Assert.InRange(writes.Requests - reads.Requests, 0, 1);
        }

        await stop.CancelAsync();
        await writer;
    }
}
