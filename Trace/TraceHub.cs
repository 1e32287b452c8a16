namespace Dmp.Trace;

/// <summary>
/// Where answered requests go when someone reads the trace: one hub for all of dmp's devices, each reader
/// with a <see cref="TraceSubscription"/> of its own, from the moment it opened. With no reader the request
/// path pays one check of an empty list.
/// </summary>
internal sealed class TraceHub
{
    /// <summary>Records held for each reader: at 100,000 requests a second, a sixth of a second of them.</summary>
    public const int ReaderCapacity = 16384;

    private readonly Lock _lock = new();
    private TraceSubscription[] _subscriptions = [];

    /// <summary>True while anyone reads the trace.</summary>
    public bool Active => Readers != 0;

    /// <summary>How many read it now.</summary>
    public int Readers => Volatile.Read(ref _subscriptions).Length;

    /// <param name="device">The device to follow, or null for all.</param>
    public TraceSubscription Subscribe(string? device, int capacity = ReaderCapacity)
    {
        var subscription = new TraceSubscription(device, capacity);
        lock (_lock)
        {
            Volatile.Write(ref _subscriptions, [.. _subscriptions, subscription]);
        }

        return subscription;
    }

    public void Unsubscribe(TraceSubscription subscription)
    {
        lock (_lock)
        {
            Volatile.Write(ref _subscriptions, _subscriptions.Where(other => other != subscription).ToArray());
        }
    }

    /// <summary>Hands a record to every reader that follows its device.</summary>
    public void Publish(in TraceRecord record)
    {
        foreach (TraceSubscription subscription in Volatile.Read(ref _subscriptions))
        {
            if (subscription.Follows(record.Device))
            {
                subscription.Write(record);
            }
        }
    }
}
