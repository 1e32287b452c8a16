namespace Dmp.Stats;

/// <summary>
/// All of dmp's counters: one <see cref="DeviceStatistics"/> per served device, summed for the
/// module-wide files (the original's one shared set). A device that goes away leaves its counts in
/// the sum until the next module-wide reset, as requests it served were still served.
/// </summary>
internal sealed class ModuleStatistics
{
    private readonly List<DeviceStatistics> _devices = [];
    private IoCounters _departed;

    /// <param name="enabled">False serves without counting (a hidden switch for measuring what counting costs).</param>
    public ModuleStatistics(bool enabled = true) => Enabled = enabled;

    public bool Enabled { get; }

    /// <summary>Guards every counter set of the module; never taken per request.</summary>
    internal Lock Lock { get; } = new();

    public DeviceStatistics AddDevice(string name)
    {
        var device = new DeviceStatistics(this, name);
        lock (Lock)
        {
            _devices.Add(device);
        }

        return device;
    }

    /// <summary>The devices counted now, in the order they came.</summary>
    public IReadOnlyList<DeviceStatistics> Devices
    {
        get
        {
            lock (Lock)
            {
                return [.. _devices];
            }
        }
    }

    /// <summary>Each device's name and counters, for renderings that label by device (the metrics).</summary>
    public IEnumerable<(string Device, IoCounters Counters)> DeviceSnapshots() =>
        Devices.Select(device => (device.Name, device.Snapshot()));

    /// <summary>Stops tracking a device; what it counted since the last reset stays in the module's sum.</summary>
    public void RemoveDevice(DeviceStatistics device)
    {
        lock (Lock)
        {
            if (_devices.Remove(device))
            {
                _departed += device.SinceReset;
            }
        }
    }

    /// <summary>Counts of every device since the last reset.</summary>
    public IoCounters Snapshot()
    {
        lock (Lock)
        {
            IoCounters sum = _departed;
            foreach (DeviceStatistics device in _devices)
            {
                sum += device.SinceReset;
            }

            return sum;
        }
    }

    /// <summary>Zeroes every counter: later snapshots count only requests answered after this call.</summary>
    public void Reset() => SnapshotAndReset();

    /// <summary>Reads and zeroes in one step: each request is in the returned snapshot or in a later one, never both.</summary>
    public IoCounters SnapshotAndReset()
    {
        lock (Lock)
        {
            IoCounters sum = _departed;
            _departed = default;
            foreach (DeviceStatistics device in _devices)
            {
                sum += device.ResetLocked();
            }

            return sum;
        }
    }
}
