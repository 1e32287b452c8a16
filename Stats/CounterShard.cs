namespace Dmp.Stats;

/// <summary>
/// The counters of one connection: a view of its <see cref="ShardCounters"/> slot. Only that connection's
/// reply path writes them, one request at a time (its receiving thread, or a worker holding the
/// connection's send lock), so counting takes no shared lock, and readers never see a request half-counted.
/// </summary>
internal sealed unsafe class CounterShard
{
    private readonly ShardCounters* _slot;
    private readonly bool _ownsSlot;

    /// <summary>A shard of its own, in memory that dies with it: counting outside any device.</summary>
    public CounterShard()
        : this((ShardCounters*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)sizeof(ShardCounters)), ownsSlot: true)
    {
    }

    /// <param name="slot">A slot of a <see cref="DeviceStatistics"/>, which keeps it mapped while its connection lives.</param>
    internal CounterShard(ShardCounters* slot)
        : this(slot, ownsSlot: false)
    {
    }

    private CounterShard(ShardCounters* slot, bool ownsSlot)
    {
        _slot = slot;
        _ownsSlot = ownsSlot;
    }

    ~CounterShard()
    {
        if (_ownsSlot)
        {
            System.Runtime.InteropServices.NativeMemory.Free(_slot);
        }
    }

    internal ShardCounters* Slot => _slot;

    /// <summary>A request of <paramref name="operation"/> has arrived; called on the receiving thread.</summary>
    public void Enter(IoOperation operation) => Interlocked.Increment(ref _slot->InFlight[(int)operation]);

    /// <summary>Counts one answered request and lets it leave the in-flight gauge. Callers must not call this concurrently.</summary>
    public void Record(IoOperation operation, long bytes, bool failed, long nanoseconds)
    {
        // Odd while writing; the interlocked increment is a full fence, so the updates stay after it.
        int sequence = Interlocked.Increment(ref _slot->Sequence);
        _slot->Counters.Add(operation, bytes, failed, nanoseconds);
        Volatile.Write(ref _slot->Sequence, sequence + 1);
        Interlocked.Decrement(ref _slot->InFlight[(int)operation]);
    }

    /// <summary>A request leaves without being counted: its reply could not be sent.</summary>
    public void Leave(IoOperation operation) => Interlocked.Decrement(ref _slot->InFlight[(int)operation]);

    /// <summary>A consistent copy of the counters, safe to call from any thread.</summary>
    public IoCounters Read() => Read(_slot);

    internal static IoCounters Read(ShardCounters* slot)
    {
        var spinner = default(SpinWait);
        while (true)
        {
            int before = Volatile.Read(ref slot->Sequence);
            if ((before & 1) == 0)
            {
                IoCounters copy = slot->Counters;
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref slot->Sequence) == before)
                {
                    for (int operation = 0; operation < IoCounters.OperationCount; operation++)
                    {
                        copy.SetInFlight((IoOperation)operation, Volatile.Read(ref slot->InFlight[operation]));
                    }

                    return copy;
                }
            }

            spinner.SpinOnce();
        }
    }
}
