namespace Dmp.Trace;

/// <summary>
/// One reader's stream of the trace: a bounded queue that any number of connections write to and one
/// reader takes from, without locks. When it is full a record is dropped and counted instead, so that a
/// slow reader loses lines and never slows IO. (A bounded queue with a sequence number per slot, as in
/// Dmitry Vyukov's design.)
/// </summary>
internal sealed class TraceSubscription
{
    private readonly Slot[] _slots;
    private readonly long _mask;
    private long _tail;
    private long _head;
    private long _lost;

    /// <param name="device">The one device this reader follows, or null for all of them.</param>
    /// <param name="capacity">Records held for the reader (a power of two).</param>
    public TraceSubscription(string? device, int capacity)
    {
        if (capacity <= 0 || (capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), "a power of two");
        }

        Device = device;
        _slots = new Slot[capacity];
        _mask = capacity - 1;
        for (int index = 0; index < capacity; index++)
        {
            _slots[index].Sequence = index;
        }
    }

    public string? Device { get; }

    public bool Follows(string device) => Device is null || string.Equals(Device, device, StringComparison.Ordinal);

    /// <summary>About how many records wait for the reader; only the reader calls this.</summary>
    public long Count => Volatile.Read(ref _tail) - _head;

    /// <summary>Adds a record, from any thread; a full queue drops it and counts it lost.</summary>
    public void Write(in TraceRecord record)
    {
        long position = Volatile.Read(ref _tail);
        while (true)
        {
            ref Slot slot = ref _slots[position & _mask];
            long ahead = Volatile.Read(ref slot.Sequence) - position;
            if (ahead == 0)
            {
                if (Interlocked.CompareExchange(ref _tail, position + 1, position) == position)
                {
                    slot.Record = record;
                    Volatile.Write(ref slot.Sequence, position + 1); // now the reader's
                    return;
                }

                position = Volatile.Read(ref _tail);
            }
            else if (ahead < 0)
            {
                Interlocked.Increment(ref _lost); // the reader has not taken this slot's last record yet
                return;
            }
            else
            {
                position = Volatile.Read(ref _tail); // another writer took the slot first
            }
        }
    }

    /// <summary>Takes the oldest record; only the one reader calls this.</summary>
    /// <returns>False when there is none (or the next one is still being written).</returns>
    public bool TryRead(out TraceRecord record)
    {
        ref Slot slot = ref _slots[_head & _mask];
        if (Volatile.Read(ref slot.Sequence) != _head + 1)
        {
            record = default;
            return false;
        }

        record = slot.Record;
        slot.Record.Device = null!; // keep no device alive
        Volatile.Write(ref slot.Sequence, _head + _slots.Length); // free for the writer one lap on
        _head++;
        return true;
    }

    /// <summary>How many records were dropped since the last call.</summary>
    public long TakeLost() => Interlocked.Exchange(ref _lost, 0);

    private struct Slot
    {
        public long Sequence;
        public TraceRecord Record;
    }
}
