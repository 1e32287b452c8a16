using Dmp.Stats;

namespace Dmp.Tests.Stats;

public class StatisticsTests
{
    private readonly ModuleStatistics _module = new();

    [Fact]
    public void Counts_from_every_shard_of_a_device_add_up()
    {
        DeviceStatistics device = _module.AddDevice("nbd0");
        CounterShard first = device.OpenShard();
        CounterShard second = device.OpenShard();
        first.Count(IoOperation.Read, 4096, failed: false);
        second.Count(IoOperation.Read, 512, failed: true);
        second.Count(IoOperation.Write, 1024, failed: false);

        IoCounters counters = device.Snapshot();
        Assert.Equal(new OperationCounters(2, 4608, 1), counters[IoOperation.Read]);
        Assert.Equal(new OperationCounters(1, 1024, 0), counters[IoOperation.Write]);
    }

    [Fact]
    public void The_module_sums_its_devices()
    {
        _module.AddDevice("nbd0").OpenShard().Count(IoOperation.Read, 4096, failed: false);
        _module.AddDevice("nbd1").OpenShard().Count(IoOperation.Read, 512, failed: false);

        Assert.Equal(new OperationCounters(2, 4608, 0), _module.Snapshot()[IoOperation.Read]);
    }

    [Fact]
    public void A_closed_connections_counts_are_kept()
    {
        DeviceStatistics device = _module.AddDevice("nbd0");
        CounterShard shard = device.OpenShard();
        shard.Count(IoOperation.Write, 4096, failed: false);
        device.CloseShard(shard);

        Assert.Equal(1, device.Snapshot()[IoOperation.Write].Requests);
    }

    [Fact]
    public void A_detached_devices_counts_stay_in_the_module_until_a_reset()
    {
        DeviceStatistics device = _module.AddDevice("nbd0");
        device.OpenShard().Count(IoOperation.Write, 4096, failed: false);
        _module.RemoveDevice(device);

        Assert.Equal(1, _module.Snapshot()[IoOperation.Write].Requests);
        _module.Reset();
        Assert.Equal(0, _module.Snapshot()[IoOperation.Write].Requests);
    }

    [Fact]
    public void A_device_removed_with_requests_still_running_counts_them_when_they_end()
    {
        DeviceStatistics device = _module.AddDevice("nbd0");
        CounterShard shard = device.OpenShard();
        shard.Enter(IoOperation.Read);
        shard.Enter(IoOperation.Write);
        Assert.Equal(2, device.Snapshot().TotalInFlight);

        _module.RemoveDevice(device, stillCounting: true);
        shard.Record(IoOperation.Read, 4096, failed: true, nanoseconds: 1000); // its store answered at last: the counters are still mapped

        Assert.Equal(new OperationCounters(1, 4096, 1), device.Snapshot()[IoOperation.Read]);
        Assert.Equal(1, device.Snapshot().TotalInFlight);
        Assert.Equal(0, _module.Snapshot()[IoOperation.Read].Requests);
        device.Dispose();
    }

    [Fact]
    public void A_reset_zeroes_what_came_before_and_counts_what_comes_after()
    {
        DeviceStatistics device = _module.AddDevice("nbd0");
        CounterShard shard = device.OpenShard();
        shard.Count(IoOperation.Read, 4096, failed: false);
        _module.Reset();

        Assert.Equal(default, device.Snapshot()[IoOperation.Read]);

        shard.Count(IoOperation.Read, 512, failed: false);
        device.CloseShard(shard);
        Assert.Equal(new OperationCounters(1, 512, 0), device.Snapshot()[IoOperation.Read]);
        Assert.Equal(new OperationCounters(1, 512, 0), _module.Snapshot()[IoOperation.Read]);
    }

    [Fact]
    public async Task Read_and_reset_while_counting_loses_no_request_and_counts_none_twice()
    {
        const int requests = 200_000;
        CounterShard shard = _module.AddDevice("nbd0").OpenShard();
        var writer = Task.Run(() =>
        {
            for (int i = 0; i < requests; i++)
            {
                shard.Count(IoOperation.Read, 4096, failed: false);
            }
        });

        long seen = 0;
        while (!writer.IsCompleted)
        {
            OperationCounters taken = _module.SnapshotAndReset()[IoOperation.Read];
            Assert.Equal(taken.Requests * 4096, taken.Bytes);
            seen += taken.Requests;
        }

        await writer;
        seen += _module.SnapshotAndReset()[IoOperation.Read].Requests;
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
                shard.Count(IoOperation.Write, 1024, failed: false);
                shard.Count(IoOperation.Read, 4096, failed: true);
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
