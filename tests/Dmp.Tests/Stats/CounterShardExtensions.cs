using Dmp.Stats;

namespace Dmp.Tests.Stats;

internal static class CounterShardExtensions
{
    /// <summary>One request as a connection handles it: it arrives, then is answered and counted.</summary>
    public static void Count(this CounterShard shard, IoOperation operation, long bytes, bool failed = false, long nanoseconds = 1000)
    {
        shard.Enter(operation);
        shard.Record(operation, bytes, failed, nanoseconds);
    }
}
