namespace Dmp.Stats;

/// <summary>
/// The counters of one connection. Only that connection's reply path writes them, one request at a
/// time (it already holds the connection's send lock), so counting takes no shared lock. Readers use
/// the sequence number as a seqlock and never see a request half-counted.
/// </summary>
internal sealed class CounterShard
{
    private int _sequence;
    private IoCounters _counters;

    /// <summary>Counts one request. Callers must not call this concurrently.</summary>
    public void Record(IoOperation operation, long bytes, bool failed) => Update(operation, bytes, failed, 1);

    /// <summary>Takes back a request counted before its reply, when the reply could not be sent after all.</summary>
    public void Retract(IoOperation operation, long bytes, bool failed) => Update(operation, bytes, failed, -1);

    private void Update(IoOperation operation, long bytes, bool failed, int sign)
    {
        // Odd while writing; the interlocked increment is a full fence, so the updates stay after it.
        int sequence = Interlocked.Increment(ref _sequence);
        _counters.Add(operation, bytes, failed, sign);
        Volatile.Write(ref _sequence, sequence + 1);
    }

    /// <summary>A consistent copy of the counters, safe to call from any thread.</summary>
    public IoCounters Read()
    {
        var spinner = default(SpinWait);
        while (true)
        {
            int before = Volatile.Read(ref _sequence);
            if ((before & 1) == 0)
            {
                IoCounters copy = _counters;
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref _sequence) == before)
                {
                    return copy;
                }
            }

            spinner.SpinOnce();
        }
    }
}
