using Dmp.Native;
using Dmp.Stats;

namespace Dmp.Tests.Stats;

/// <summary>
/// Counters kept in files (as under <c>dmp load</c>, in the run directory's tmpfs), which a daemon that dies
/// leaves for the next: a "daemon" here is a <see cref="ModuleStatistics"/> over the directory, and one that dies
/// is one dropped without closing anything.
/// </summary>
public sealed class CounterPersistenceTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("dmp-counters-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Counts_of_a_daemon_that_died_go_on_in_the_next_and_its_requests_in_flight_do_not()
    {
        DeviceStatistics before = Daemon().AddDevice("nbd0");
        CounterShard shard = before.OpenShard();
        shard.Count(IoOperation.Write, 4096);
        shard.Count(IoOperation.Read, 512, failed: true);
        shard.Enter(IoOperation.Read); // in flight when the daemon dies

        DeviceStatistics after = Daemon().AddDevice("nbd0");

        Assert.True(after.TookOver);
        IoCounters counters = after.Snapshot();
        Assert.Equal(new OperationCounters(1, 4096, 0), counters[IoOperation.Write]);
        Assert.Equal(new OperationCounters(1, 512, 1), counters[IoOperation.Read]);
        Assert.Equal(0, counters.InFlight(IoOperation.Read));
        after.OpenShard().Count(IoOperation.Write, 1024);
        Assert.Equal(new OperationCounters(2, 5120, 0), after.Snapshot()[IoOperation.Write]);
    }

    [Fact]
    public void Connections_by_the_hundred_fold_their_counts_away_and_keep_every_one()
    {
        ModuleStatistics module = Daemon();
        DeviceStatistics device = module.AddDevice("nbd0");
        for (int connection = 0; connection < 3 * CounterFile.ShardCapacity; connection++)
        {
            CounterShard shard = device.OpenShard();
            shard.Count(IoOperation.Write, 512);
            device.CloseShard(shard);
        }

        Assert.Equal(3 * CounterFile.ShardCapacity, device.Snapshot()[IoOperation.Write].Requests);
        Assert.Equal(3 * CounterFile.ShardCapacity, Daemon().AddDevice("nbd0").Snapshot()[IoOperation.Write].Requests);
    }

    [Fact]
    public unsafe void A_fold_cut_short_by_the_daemon_s_death_is_finished_by_the_next_without_counting_twice()
    {
        DeviceStatistics device = Daemon().AddDevice("nbd0");
        for (int connection = 0; connection < CounterFile.ShardCapacity; connection++)
        {
            CounterShard shard = device.OpenShard();
            shard.Count(IoOperation.Write, 512);
            device.CloseShard(shard);
        }

        // As a daemon killed in the middle of folding slot 0 leaves it: the sum written, the slot not yet freed.
        using (MappedMemory file = MappedMemory.MapFile(Path.Combine(_directory, "nbd0"), DeviceStatistics.FileSize, out _))
        {
            var layout = (CounterFile*)file.Start;
            layout->RetiredBeforeFold = layout->Retired;
            layout->FoldingSlot = 1;
            layout->Retired = layout->RetiredBeforeFold + ((ShardCounters*)&layout->Slots)->Counters;
        }

        Assert.Equal(CounterFile.ShardCapacity, Daemon().AddDevice("nbd0").Snapshot()[IoOperation.Write].Requests);
    }

    [Fact]
    public void A_device_with_all_its_connections_open_refuses_one_more()
    {
        DeviceStatistics device = Daemon().AddDevice("nbd0");
        for (int connection = 0; connection < CounterFile.ShardCapacity; connection++)
        {
            device.OpenShard();
        }

        Assert.Throws<InvalidOperationException>(device.OpenShard);
    }

    [Fact]
    public void A_reset_and_the_kernel_baseline_it_took_are_kept()
    {
        DeviceStatistics before = Daemon().AddDevice("nbd0");
        before.KernelStat = () => "1 2 3";
        CounterShard shard = before.OpenShard();
        shard.Count(IoOperation.Read, 4096);
        before.Reset();
        shard.Count(IoOperation.Read, 4096);
        before.RecordTakeover(7);

        DeviceStatistics after = Daemon().AddDevice("nbd0");

        Assert.Equal(1, after.Snapshot()[IoOperation.Read].Requests);
        Assert.Equal("1 2 3", after.KernelBaseline);
        Assert.Equal(7, after.InFlightAtTakeovers);
        after.KernelStat = () => "4 5 6";
        after.Reset();
        Assert.Equal((0L, "4 5 6", 0L), (after.Snapshot()[IoOperation.Read].Requests, after.KernelBaseline, after.InFlightAtTakeovers));
    }

    [Fact]
    public void A_detached_device_s_counts_stay_in_the_module_s_sum_across_daemons_until_a_reset()
    {
        ModuleStatistics module = Daemon();
        DeviceStatistics device = module.AddDevice("nbd0");
        device.OpenShard().Count(IoOperation.Write, 4096);
        module.RemoveDevice(device);

        ModuleStatistics next = Daemon();

        Assert.Equal(1, next.Snapshot()[IoOperation.Write].Requests);
        Assert.False(File.Exists(Path.Combine(_directory, "nbd0")), "a detached device's counters are gone");
        next.Reset();
        Assert.Equal(0, Daemon().Snapshot()[IoOperation.Write].Requests);
    }

    [Fact]
    public void Counters_left_by_a_device_of_the_same_name_are_forgotten_for_a_new_device()
    {
        Daemon().AddDevice("nbd0").OpenShard().Count(IoOperation.Write, 4096);
        ModuleStatistics module = Daemon();

        module.ForgetDevice("nbd0");

        DeviceStatistics fresh = module.AddDevice("nbd0");
        Assert.False(fresh.TookOver);
        Assert.Equal(0, fresh.Snapshot()[IoOperation.Write].Requests);
    }

    [Fact]
    public void Counters_that_are_not_of_this_layout_are_refused_not_read()
    {
        File.WriteAllBytes(Path.Combine(_directory, "nbd0"), new byte[DeviceStatistics.FileSize]);
        File.WriteAllText(Path.Combine(_directory, "nbd1"), "not counters");

        ModuleStatistics module = Daemon();

        Assert.Contains("not of this version of dmp", Assert.Throws<InvalidDataException>(() => module.AddDevice("nbd0")).Message, StringComparison.Ordinal);
        Assert.Throws<NativeException>(() => module.AddDevice("nbd1"));
        File.WriteAllText(Path.Combine(_directory, "module"), "garbage");
        Assert.Throws<NativeException>(Daemon);
    }

    private ModuleStatistics Daemon() => new(enabled: true, CounterStorage.InDirectory(_directory));
}
