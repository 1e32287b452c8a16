namespace Dmp.Stats;

/// <summary>Where a <see cref="ShardCounters"/> slot is in its life.</summary>
internal enum ShardState
{
    /// <summary>Free: its counters (if any) are already in the device's retired sum.</summary>
    Empty,

    /// <summary>A connection counts here now; or did, when its daemon died.</summary>
    InUse,

    /// <summary>Its connection has ended; its counters still count from here, until the slot is needed again.</summary>
    Finished,
}
