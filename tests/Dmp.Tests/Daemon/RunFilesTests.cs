using Dmp.Daemon;

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
    public void The_device_table_round_trips_paths_with_spaces()
    {
        DeviceRecord[] devices = [new(0, 1L << 30, "memory", null), new(3, 8192, "/srv/disk images/a.img", "dmp1")];

        DeviceTable.Write(_run.DeviceTable, devices);

        Assert.Equal(devices, DeviceTable.Read(_run.DeviceTable));
        Assert.Equal("nbd0\t1073741824\tmemory\t-\nnbd3\t8192\t/srv/disk images/a.img\tdmp1\n", File.ReadAllText(_run.DeviceTable));
    }

    [Fact]
    public void A_missing_device_table_lists_no_devices()
    {
        Assert.Empty(DeviceTable.Read(_run.DeviceTable));
    }
}
