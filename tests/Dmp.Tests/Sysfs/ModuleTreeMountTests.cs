using Dmp.Faults;
using Dmp.Stats;
using Dmp.Sysfs;
using Dmp.Tests.Stats;
using Dmp.Trace;

namespace Dmp.Tests.Sysfs;

/// <summary>The stat tree mounted through the host kernel's real FUSE, used with ordinary tools.</summary>
public sealed class ModuleTreeMountTests : IDisposable
{
    private readonly string _mountPoint = Directory.CreateTempSubdirectory("dmp-module-").FullName;
    private readonly ModuleStatistics _statistics = new();
    private readonly DeviceStatistics _device;
    private readonly CounterShard _shard;
    private readonly List<string> _log = [];
    private readonly TraceHub _trace = new();
    private readonly ModuleTree _tree;
    private readonly FuseServer _server;

    public ModuleTreeMountTests()
    {
        // The mount point must be reachable by the unprivileged user of the permission tests.
        File.SetUnixFileMode(_mountPoint, (UnixFileMode)0x1ed);
        _device = _statistics.AddDevice("nbd0");
        _shard = _device.OpenShard();
        _tree = new ModuleTree(_statistics, [("size", "1024")], () => [("dmp1", "/sys/block/dm-1")], _statistics.Reset, _trace, _log.Add);
        _server = FuseServer.Mount(_mountPoint, _tree.Tree, _log.Add);
    }

    private string Volumes => Path.Combine(_mountPoint, "stat", "volumes");

    private string Reset => Path.Combine(_mountPoint, "stat", "reset");

    public void Dispose()
    {
        _server.Dispose();
        Assert.DoesNotContain(_mountPoint, File.ReadAllText("/proc/self/mountinfo"));
        Directory.Delete(_mountPoint);
        Assert.Empty(_log);
    }

    [Fact]
    public void Volumes_shows_the_counters_as_they_are_at_each_read()
    {
        Assert.Equal(VolumesReport.Format(default), Shell.Run($"cat {Volumes}").Output);

        _shard.Count(IoOperation.Read, 4096, failed: false);
        _shard.Count(IoOperation.Write, 1024, failed: false);

        Assert.Equal(
            "read:\n reqs: 1\n avg size: 4096\nwrite:\n reqs: 1\n avg size: 1024\ntotal:\n reqs: 2\n avg size: 2560\n",
            Shell.Run($"cat {Volumes}").Output);
    }

    [Fact]
    public void Reading_in_small_pieces_gives_the_same_text()
    {
        _shard.Count(IoOperation.Read, 4096, failed: false);
        ShellResult pieces = Shell.Run($"dd if={Volumes} bs=7 status=none");
        Assert.Equal(0, pieces.ExitCode);
        Assert.Equal(VolumesReport.Format(_statistics.Snapshot()), pieces.Output);
    }

    [Fact]
    public void Writing_1_to_reset_zeroes_the_counters_before_the_write_returns()
    {
        _shard.Count(IoOperation.Read, 4096, failed: false);

        ShellResult reset = Shell.Run($"echo 1 > {Reset} && cat {Volumes}");

        Assert.Equal(0, reset.ExitCode);
        Assert.Equal(VolumesReport.Format(default), reset.Output);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("0")]
    [InlineData("11")]
    [InlineData("yes")]
    [InlineData(" 1")]
    public void Any_other_value_fails_the_write_with_einval_and_changes_nothing(string value)
    {
        _shard.Count(IoOperation.Read, 4096, failed: false);

        ShellResult reset = Shell.Run($"echo '{value}' > {Reset}");

        Assert.NotEqual(0, reset.ExitCode);
        Assert.Contains("Invalid argument", reset.Errors);
        Assert.Equal(1, _statistics.Snapshot()[IoOperation.Read].Requests);
    }

    [Fact]
    public void The_files_carry_sysfs_modes_and_the_directory_lists_them()
    {
        ShellResult listing = Shell.Run($"cd {_mountPoint}/stat && stat -c '%n %a %U' *");

        Assert.Equal(
            "json 444 root\nlatency 444 root\nmetrics 444 root\nops 444 root\nreset 200 root\nsizes 444 root\ntrace 400 root\nvolumes 444 root\n",
            listing.Output);
    }

    [Fact]
    public void Everyone_may_read_volumes_but_only_root_may_reset()
    {
        _shard.Count(IoOperation.Read, 4096, failed: false);

        Assert.Equal(VolumesReport.Format(_statistics.Snapshot()), Shell.Run($"cat {Volumes}", Shell.Nobody).Output);
        ShellResult reset = Shell.Run($"echo 1 > {Reset}", Shell.Nobody);
        Assert.NotEqual(0, reset.ExitCode);
        Assert.Contains("Permission denied", reset.Errors);
        Assert.Equal(1, _statistics.Snapshot()[IoOperation.Read].Requests);
    }

    [Fact]
    public void Even_root_cannot_write_volumes_or_read_reset()
    {
        Assert.Contains("Permission denied", Shell.Run($"echo 1 > {Volumes}").Errors);
        Assert.Contains("Permission denied", Shell.Run($"cat {Reset}").Errors);
    }

    [Fact]
    public void A_device_has_a_directory_of_its_own_while_it_is_served()
    {
        _tree.AddDevice(new DeviceFiles(_device, new DeviceFaults(1 << 20), "/srv/disk.img", 1 << 20, () => "baseline line\n", () => [], _device.Reset));
        _shard.Count(IoOperation.Read, 4096, failed: false);
        _shard.Count(IoOperation.Write, 1024, failed: false);
        _shard.Count(IoOperation.Flush, 0, failed: false);
        string directory = Path.Combine(_mountPoint, "devices", "nbd0");

        Assert.Equal(
            ".\n..\nbacking\nbaseline\nfaults\nholders\ninflight_at_takeover\njson\nlatency\nmetrics\nops\nreset\nsize\nsizes\nstat\ntrace\nvolumes\n",
            Shell.Run($"ls -a {directory}").Output);
        Assert.Equal("/srv/disk.img\n1048576\nbaseline line\n", Shell.Run($"cat {directory}/backing {directory}/size {directory}/baseline").Output);
        Assert.Equal(VolumesReport.Format(_device.Snapshot()), Shell.Run($"cat {directory}/volumes").Output);
        Assert.Equal(
            "       1        0        8        0        1        0        2        0        0        0        0        0        0        0        0        1        0\n",
            Shell.Run($"cat {directory}/stat").Output);

        _tree.RemoveDevice("nbd0");

        Assert.Equal(".\n..\n", Shell.Run($"ls -a {Path.Combine(_mountPoint, "devices")}").Output);
        Assert.Contains("No such file or directory", Shell.Run($"cat {directory}/volumes").Errors);
    }

    [Fact]
    public void Missing_names_are_not_found()
    {
        Assert.Contains("No such file or directory", Shell.Run($"cat {_mountPoint}/stat/nothing").Errors);
    }
}
