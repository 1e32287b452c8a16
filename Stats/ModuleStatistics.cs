using Dmp.Native;

namespace Dmp.Stats;

/// <summary>
/// All of dmp's counters: one <see cref="DeviceStatistics"/> per served device, summed for the
/// module-wide files (the original's one shared set). A device that goes away leaves its counts in
/// the sum until the next module-wide reset, as requests it served were still served. Where the
/// counters live (<see cref="CounterStorage"/>) decides whether they outlive the daemon.
/// </summary>
internal sealed unsafe class ModuleStatistics
{
    private const string ModuleFileName = "module";

    private readonly List<DeviceStatistics> _devices = [];
    private readonly CounterStorage _storage;
    private readonly MappedMemory _memory;
    private readonly ModuleCounterFile* _file;

    /// <param name="enabled">False serves without counting (a hidden switch for measuring what counting costs).</param>
    /// <param name="storage">Where the counters live: the process's memory by default.</param>
    /// <exception cref="InvalidDataException">The counters kept in <paramref name="storage"/> are not of this layout.</exception>
    public ModuleStatistics(bool enabled = true, CounterStorage? storage = null)
    {
        Enabled = enabled;
        _storage = storage ?? CounterStorage.InMemory;
        _memory = _storage.Map(ModuleFileName, sizeof(ModuleCounterFile), out bool created);
        _file = (ModuleCounterFile*)_memory.Start;
        if (created)
        {
            _file->Signature = ModuleCounterFile.ExpectedSignature;
            _file->Size = sizeof(ModuleCounterFile);
        }
        else if (_file->Signature != ModuleCounterFile.ExpectedSignature || _file->Size != sizeof(ModuleCounterFile))
        {
            _memory.Dispose();
            throw new InvalidDataException("the module's counters kept in the run directory are not of this version of dmp");
        }
    }

    public bool Enabled { get; }

    /// <summary>Guards every counter set of the module; never taken per request.</summary>
    internal Lock Lock { get; } = new();

    private IoCounters Departed
    {
        get => _file->Departed[_file->DepartedIndex];
        set
        {
            int next = 1 - _file->DepartedIndex;
            _file->Departed[next] = value;
            Volatile.Write(ref _file->DepartedIndex, next);
        }
    }

    /// <summary>Starts counting a device; with counters kept from a daemon that died, goes on from them.</summary>
    /// <exception cref="InvalidDataException">The counters kept for it are not of this layout.</exception>
    public DeviceStatistics AddDevice(string name)
    {
        MappedMemory memory = _storage.Map(name, DeviceStatistics.FileSize, out bool created);
        var device = new DeviceStatistics(this, name, memory, created);
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

    /// <summary>Where every connection of every device stands (<see cref="ConnectionProgress"/>), for the watchdog.</summary>
    public List<ConnectionProgress> Progress()
    {
        var progress = new List<ConnectionProgress>();
        lock (Lock)
        {
            _devices.ForEach(device => device.AddProgressLocked(progress));
        }

        return progress;
    }

    /// <summary>Each device's name and counters, for renderings that label by device (the metrics).</summary>
    public IEnumerable<(string Device, IoCounters Counters)> DeviceSnapshots() =>
        Devices.Select(device => (device.Name, device.Snapshot()));

    /// <summary>Forgets counters kept for a device of this name that is no longer counted: a new device of the name starts afresh.</summary>
    public void ForgetDevice(string name)
    {
        lock (Lock)
        {
            if (_devices.Exists(device => device.Name == name))
            {
                throw new InvalidOperationException($"{name} is still counted");
            }

            _storage.Delete(name);
        }
    }

    /// <summary>Stops tracking a device, whose connections have ended, and forgets its counters; what it counted since
    /// the last reset stays in the module's sum.</summary>
    /// <param name="stillCounting">Some of its requests are still running (a store that hangs) and will count when they end:
    /// the counters stay mapped, for whoever waits for those requests to dispose.</param>
    public void RemoveDevice(DeviceStatistics device, bool stillCounting = false)
    {
        lock (Lock)
        {
            if (!_devices.Remove(device))
            {
                return;
            }

            Departed += device.SinceReset;
        }

        if (!stillCounting)
        {
            device.Dispose();
        }

        _storage.Delete(device.Name); // a mapping outlives its file's name
    }

    /// <summary>Counts of every device since the last reset.</summary>
    public IoCounters Snapshot()
    {
        lock (Lock)
        {
            IoCounters sum = Departed;
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
            IoCounters sum = Departed;
            Departed = default;
            foreach (DeviceStatistics device in _devices)
            {
                sum += device.ResetLocked();
            }

            return sum;
        }
    }
}
