namespace Dmp.Nbd;

/// <summary>
/// Bounds the memory one connection's large requests hold at once: without it, 128 requests of
/// 1 MiB in flight would hold 128 MiB of buffers. Payloads up to <see cref="NbdRequest.InitialCapacity"/>
/// fit the buffer every pooled request has and pass freely; larger ones wait while others hold the
/// budget, though one alone is always let through, whatever its size.
/// </summary>
internal sealed class NbdPayloadBudget
{
    private readonly object _gate = new(); // for Monitor.Wait, which a Lock does not offer
    private readonly long _limit;
    private long _held;

    public NbdPayloadBudget(long limit) => _limit = limit;

    /// <summary>Waits until <paramref name="length"/> bytes fit the budget, and holds them.</summary>
    public void Acquire(int length)
    {
        if (length <= NbdRequest.InitialCapacity)
        {
            return;
        }

        lock (_gate)
        {
            while (_held > 0 && _held + length > _limit)
            {
                Monitor.Wait(_gate);
            }

            _held += length;
        }
    }

    public void Release(int length)
    {
        if (length <= NbdRequest.InitialCapacity)
        {
            return;
        }

        lock (_gate)
        {
            _held -= length;
            Monitor.PulseAll(_gate);
        }
    }
}
