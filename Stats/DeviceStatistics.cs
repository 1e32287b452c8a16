namespace Dmp.Stats;

/// <summary>
/// The counters of one device, fed by its connections. The request path only touches its own
/// <see cref="CounterShard"/>; the module's lock is taken when connections come and go and when
/// someone reads or resets, never per request. A reset records a baseline instead of writing
/// into the shards, so it cannot race with counting.
/// </summary>
internal sealed class DeviceStatistics
{
    private readonly ModuleStatistics _module;
    private readonly List<CounterShard> _shards = [];
    private IoCounters _retired;
    private IoCounters _baseline;

    internal DeviceStatistics(ModuleStatistics module, string name)
    {
        _module = module;
        Name = name;
    }

    public string Name { get; }

    /// <summary>False to serve without counting, so that a benchmark can measure what counting costs.</summary>
    public bool Enabled => _module.Enabled;

    /// <summary>A shard for a new connection; its counts add up here until <see cref="CloseShard"/>.</summary>
    public CounterShard OpenShard()
    {
        var shard = new CounterShard();
        lock (_module.Lock)
        {
            _shards.Add(shard);
        }

        return shard;
    }

    /// <summary>Keeps a finished connection's counts and stops watching its shard.</summary>
    public void CloseShard(CounterShard shard)
    {
        lock (_module.Lock)
        {
            if (_shards.Remove(shard))
            {
                _retired += shard.Read();
            }
        }
    }

    /// <summary>Counts since this device's last reset (or the module's).</summary>
    public IoCounters Snapshot()
    {
        lock (_module.Lock)
        {
            return SinceReset;
        }
    }

    /// <summary>Zeroes this device's counters alone (the module's sum drops by as much).</summary>
    public void Reset() => SnapshotAndReset();

    /// <summary>Reads and zeroes this device's counters alone, in one step (the module's sum drops by as much).</summary>
    public IoCounters SnapshotAndReset()
    {
        lock (_module.Lock)
        {
            return ResetLocked();
        }
    }

    /// <summary>Counts since the last reset; the caller holds the module's lock.</summary>
    internal IoCounters SinceReset => Total() - _baseline;

    /// <summary>Zeroes the counters and returns what they held; the caller holds the module's lock.</summary>
    internal IoCounters ResetLocked()
    {
        IoCounters total = Total();
        IoCounters sinceReset = total - _baseline;
        _baseline = total;
        return sinceReset;
    }

    private IoCounters Total()
    {
        IoCounters total = _retired;
        foreach (CounterShard shard in _shards)
        {
            total += shard.Read();
        }

        return total;
    }
}
