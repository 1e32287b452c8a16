using Dmp.Native;

namespace Dmp.Nbd;

/// <summary>
/// Buffers for one connection's large payloads (over <see cref="NbdRequest.BufferCapacity"/>), under a
/// byte budget. The budget bounds both what the large requests in flight hold and what is kept for
/// reuse: without it, 128 requests of 1 MiB in flight would hold 128 MiB. A request is refused while others
/// hold the budget, but one alone is always let through, whatever its size. Kept buffers spare a
/// stream of large requests the cost of fresh memory (page faults) each time.
/// </summary>
internal sealed class NbdLargePayloadPool : IDisposable
{
    private readonly Lock _gate = new();
    private readonly long _budget;
    private readonly List<NativeBuffer> _kept = [];
    private long _held;
    private long _keptBytes;

    public NbdLargePayloadPool(long budget) => _budget = budget;

    /// <summary>A buffer of at least <paramref name="length"/> bytes if the budget has room for them now. The caller
    /// waits elsewhere when it has not: it is the thread that answers requests, and so the one that frees the budget.</summary>
    public bool TryRent(int length, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out NativeBuffer? buffer)
    {
        bool rented;
        lock (_gate)
        {
            rented = TryRentLocked(length, out buffer);
        }

        if (rented)
        {
            buffer ??= Allocate(length);
        }

        return rented;
    }

    /// <summary>Takes <paramref name="length"/> bytes of the budget if it has room, and a kept buffer if one is large enough.</summary>
    private bool TryRentLocked(int length, out NativeBuffer? kept)
    {
        kept = null;
        if (_held > 0 && _held + length > _budget)
        {
            return false;
        }

        _held += length;
        for (int i = _kept.Count - 1; i >= 0; i--)
        {
            if (_kept[i].Capacity >= length)
            {
                kept = _kept[i];
                _kept.RemoveAt(i);
                _keptBytes -= kept.Capacity;
                break;
            }
        }

        return true;
    }

    /// <summary>A new buffer for budget already taken.</summary>
    private NativeBuffer Allocate(int length)
    {
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
