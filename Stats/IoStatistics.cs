namespace Dmp.Stats;

/// <summary>
/// One set of counters fed by many connections. The request path only touches its own
/// <see cref="CounterShard"/>; the lock here is taken when connections come and go and when
/// someone reads or resets, never per request. A reset records a baseline instead of writing
/// into the shards, so it cannot race with counting.
/// </summary>
internal sealed class IoStatistics
{
    private readonly Lock _lock = new();
    private readonly List<CounterShard> _shards = [];
    private IoCounters _retired;
    private IoCounters _baseline;

    /// <summary>A shard for a new connection; its counts add up here until <see cref="CloseShard"/>.</summary>
    public CounterShard OpenShard()
    {
        var shard = new CounterShard();
        lock (_lock)
        {
            _shards.Add(shard);
        }

        return shard;
    }

    /// <summary>Keeps a finished connection's counts and stops watching its shard.</summary>
    public void CloseShard(CounterShard shard)
    {
        lock (_lock)
        {
            if (_shards.Remove(shard))
            {
                _retired += shard.Read();
            }
        }
    }

    /// <summary>Counts since the last reset.</summary>
    public IoCounters Snapshot()
    {
        lock (_lock)
        {
            return Total() - _baseline;
        }
    }

    /// <summary>Zeroes the counters: every later snapshot counts only requests answered after this call.</summary>
    public void Reset() => SnapshotAndReset();

    /// <summary>Reads and zeroes in one step: each request is in the returned snapshot or in the next one, never both.</summary>
    public IoCounters SnapshotAndReset()
    {
        lock (_lock)
        {
            IoCounters total = Total();
            IoCounters sinceReset = total - _baseline;
            _baseline = total;
            return sinceReset;
        }
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
