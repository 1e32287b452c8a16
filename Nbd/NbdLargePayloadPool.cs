using Dmp.Native;

namespace Dmp.Nbd;

/// <summary>
/// Buffers for one connection's large payloads (over <see cref="NbdRequest.BufferCapacity"/>), under a
/// byte budget. The budget bounds both what the large requests in flight hold and what is kept for
/// reuse: without it, 128 requests of 1 MiB in flight would hold 128 MiB. A request waits while others
/// hold the budget, but one alone is always let through, whatever its size. Kept buffers spare a
/// stream of large requests the cost of fresh memory (page faults) each time.
/// </summary>
internal sealed class NbdLargePayloadPool : IDisposable
{
    private readonly object _gate = new(); // for Monitor.Wait, which a Lock does not offer
    private readonly long _budget;
    private readonly List<NativeBuffer> _kept = [];
    private long _held;
    private long _keptBytes;

    public NbdLargePayloadPool(long budget) => _budget = budget;

    /// <summary>A buffer of at least <paramref name="length"/> bytes, once the budget has room for them.</summary>
    public NativeBuffer Rent(int length)
    {
        lock (_gate)
        {
            while (_held > 0 && _held + length > _budget)
            {
                Monitor.Wait(_gate);
            }

            _held += length;
            for (int i = _kept.Count - 1; i >= 0; i--)
            {
                NativeBuffer kept = _kept[i];
                if (kept.Capacity >= length)
                {
                    _kept.RemoveAt(i);
                    _keptBytes -= kept.Capacity;
                    return kept;
                }
            }
        }

        try
        {
            return new NativeBuffer(length);
        }
        catch
        {
            Return(length); // no memory for it: the budget must not stay held
            throw;
        }
    }

    /// <summary>Gives back a buffer rented for <paramref name="length"/> bytes. It is kept for reuse, in place of
    /// the buffers kept longest if the budget has no room for all (the recent ones fit the workload).</summary>
    public void Return(NativeBuffer buffer, int length)
    {
        lock (_gate)
        {
            while (_kept.Count > 0 && _keptBytes + buffer.Capacity > _budget)
            {
                _keptBytes -= _kept[0].Capacity;
                _kept[0].Dispose();
                _kept.RemoveAt(0);
            }

            if (_keptBytes + buffer.Capacity <= _budget)
            {
                _kept.Add(buffer);
                _keptBytes += buffer.Capacity;
            }
            else
            {
                buffer.Dispose(); // larger than the whole budget
            }
        }

        Return(length);
    }

    private void Return(int length)
    {
        lock (_gate)
        {
            _held -= length;
            Monitor.PulseAll(_gate);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _kept.ForEach(buffer => buffer.Dispose());
            _kept.Clear();
            _keptBytes = 0;
        }
    }
}
