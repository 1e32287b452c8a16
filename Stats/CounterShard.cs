using System.Runtime.CompilerServices;

namespace Dmp.Stats;

/// <summary>
/// The counters of one connection. Only that connection's reply path writes them, one request at a
/// time (its receiving thread, or a worker holding the connection's send lock), so counting takes no shared lock. Readers use
/// the sequence number as a seqlock and never see a request half-counted. The in-flight gauges are
/// the exception: requests may enter on the receiving thread and leave on a replying one, so they are
/// interlocked, and read on their own.
/// </summary>
internal sealed class CounterShard
{
    private int _sequence;
    private IoCounters _counters;
    private InFlightArray _inFlight;

    /// <summary>A request of <paramref name="operation"/> has arrived; called on the receiving thread.</summary>
    public void Enter(IoOperation operation) => Interlocked.Increment(ref _inFlight[(int)operation]);

    /// <summary>Counts one answered request and lets it leave the in-flight gauge. Callers must not call this concurrently.</summary>
    public void Record(IoOperation operation, long bytes, bool failed, long nanoseconds)
    {
        // Odd while writing; the interlocked increment is a full fence, so the updates stay after it.
        int sequence = Interlocked.Increment(ref _sequence);
        _counters.Add(operation, bytes, failed, nanoseconds);
        Volatile.Write(ref _sequence, sequence + 1);
        Interlocked.Decrement(ref _inFlight[(int)operation]);
    }

    /// <summary>A request leaves without being counted: its reply could not be sent.</summary>
    public void Leave(IoOperation operation) => Interlocked.Decrement(ref _inFlight[(int)operation]);

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
                    for (int operation = 0; operation < IoCounters.OperationCount; operation++)
                    {
                        copy.SetInFlight((IoOperation)operation, Volatile.Read(ref _inFlight[operation]));
                    }

                    return copy;
                }
            }

            spinner.SpinOnce();
        }
    }

    [InlineArray(IoCounters.OperationCount)]
    private struct InFlightArray
    {
        private long _element;
    }
}
