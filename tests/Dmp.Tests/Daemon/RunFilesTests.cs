using Dmp.Daemon;
using Dmp.Storage;

namespace Dmp.Tests.Daemon;

public sealed class RunFilesTests : IDisposable
{
    private readonly RunDirectory _run = new(Directory.CreateTempSubdirectory("dmp-run-").FullName);

    public void Dispose() => Directory.Delete(_run.Path, recursive: true);

    [Fact]
    public void The_pid_file_is_held_by_one_daemon_at_a_time()
    {
        Assert.Equal(DaemonStatus.NotLoaded, PidFile.Probe(_run.PidFile).Status);

        using (PidFile? first = PidFile.TryAcquire(_run.PidFile))
        {
            Assert.NotNull(first);
            Assert.Null(PidFile.TryAcquire(_run.PidFile));
            Assert.Equal(new DaemonState(DaemonStatus.Running, Environment.ProcessId), PidFile.Probe(_run.PidFile));
        }

        Assert.Equal(DaemonStatus.NotLoaded, PidFile.Probe(_run.PidFile).Status);
    }

    [Fact]
    public void A_pid_file_without_its_lock_belongs_to_a_dead_daemon()
    {
        File.WriteAllText(_run.PidFile, "4242\n");

        Assert.Equal(new DaemonState(DaemonStatus.Dead, 4242), PidFile.Probe(_run.PidFile));
    }

    [Fact]
    public void An_abandoned_pid_file_is_a_dead_daemon_s_for_the_next_to_take_over()
    {
        PidFile.TryAcquire(_run.PidFile)!.Abandon();

        Assert.Equal(new DaemonState(DaemonStatus.Dead, Environment.ProcessId), PidFile.Probe(_run.PidFile));
        using PidFile? next = PidFile.TryAcquire(_run.PidFile);
        Assert.NotNull(next);
    }

    [Fact]
    public void The_device_table_round_trips_paths_with_spaces_cache_modes_and_sockets()
    {
        DeviceRecord[] devices =
        [
            new(0, 1L << 30, "memory", null, CacheMode.None, 2),
            new(3, 8192, "/srv/disk images/a.img", "dmp1", CacheMode.Writeback, 4),
        ];

        DeviceTable.Write(_run.DeviceTable, devices);

        Assert.Equal(devices, DeviceTable.Read(_run.DeviceTable, out IReadOnlyList<string> unreadable));
        Assert.Empty(unreadable);
        Assert.Equal(
            "nbd0\t1073741824\tmemory\t-\tnone\t2\nnbd3\t8192\t/srv/disk images/a.img\tdmp1\twriteback\t4\n",
            File.ReadAllText(_run.DeviceTable));
    }

    [Fact]
    public void The_device_table_round_trips_dmptab_names_read_only_devices_and_their_own_listeners()
    {
        DeviceRecord[] devices =
        [
            new(0, 1L << 30, "memory", "disk0", CacheMode.None, 2, Declared: "disk0"),
            new(1, 8192, "/dev/disk/by-id/ata-DISK SERIAL", "archive", CacheMode.Writeback, 1, Declared: "archive", ReadOnly: true),
            new(2, 4096, "zero", null, CacheMode.None, 1, Declared: "scratch"),
            new(3, 4096, "/srv/a.img", null, CacheMode.None, 1, ReadOnly: true),
            new(4, 4096, "memory", null, CacheMode.None, 1),
            new(5, 4096, "memory", null, CacheMode.None, 1, Declared: "shared", Listen: "unix:/run/dmp shared.sock"),
        ];

        DeviceTable.Write(_run.DeviceTable, devices);

        Assert.Equal(devices, DeviceTable.Read(_run.DeviceTable, out IReadOnlyList<string> unreadable));
        Assert.Empty(unreadable);
        Assert.Equal(
            "nbd0\t1073741824\tmemory\tdisk0\tnone\t2\tdisk0\trw\n" +
            "nbd1\t8192\t/dev/disk/by-id/ata-DISK SERIAL\tarchive\twriteback\t1\tarchive\tro\n" +
            "nbd2\t4096\tzero\t-\tnone\t1\tscratch\trw\n" +
            "nbd3\t4096\t/srv/a.img\t-\tnone\t1\t-\tro\n" +
            "nbd4\t4096\tmemory\t-\tnone\t1\n" + // as an older dmp wrote it, which it can read
            "nbd5\t4096\tmemory\t-\tnone\t1\tshared\trw\tunix:/run/dmp shared.sock\n",
            File.ReadAllText(_run.DeviceTable));
    }

    [Fact]
    public void A_table_without_dmptab_names_reads_as_devices_made_by_hand_and_writable()
    {
        File.WriteAllText(_run.DeviceTable, "nbd1\t524288\t/dev/mapper/zero1\tdmp1\twriteback\t2\n");

        Assert.Equal([new DeviceRecord(1, 524288, "/dev/mapper/zero1", "dmp1", CacheMode.Writeback, 2, null, false)], DeviceTable.Read(_run.DeviceTable, out _));
    }

    [Fact]
    public void A_table_an_older_dmp_wrote_reads_as_one_socket_and_no_cache()
    {
        File.WriteAllText(_run.DeviceTable, "nbd1\t524288\t/dev/mapper/zero1\tdmp1\n");

        Assert.Equal([new DeviceRecord(1, 524288, "/dev/mapper/zero1", "dmp1", CacheMode.None, 1)], DeviceTable.Read(_run.DeviceTable, out _));
    }

    [Fact]
    public void Lines_of_a_corrupt_table_that_are_no_device_are_named_and_the_rest_read()
    {
        File.WriteAllText(
            _run.DeviceTable,
            "nbd0\t1073741824\tmemory\t-\tnone\t2\ngarbage\nnbd1\t-5\tzero\t-\tnone\t1\nnbd2\t4096\tzero\t-\tsideways\t1\nnbd3\t4096\tzero\t-\tnone\t0\n" +
            "nbd4\t4096\tzero\t-\tnone\t1\td\tsideways\nnbd5\t4096\tzero\t-\tnone\t1\t\tro\nnbd6\t4096\tzero\t-\tnone\t1\td\n");

        IReadOnlyList<DeviceRecord> devices = DeviceTable.Read(_run.DeviceTable, out IReadOnlyList<string> unreadable);

        Assert.Equal([0], devices.Select(device => device.Index));
        Assert.Equal([2, 3, 4, 5, 6, 7, 8], unreadable.Select(line => int.Parse(line.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(unreadable, line => Assert.StartsWith($"{_run.DeviceTable}:", line, StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_device_table_lists_no_devices()
    {
        Assert.Empty(DeviceTable.Read(_run.DeviceTable, out _));
    }
}
