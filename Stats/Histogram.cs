using System.Numerics;
using System.Runtime.CompilerServices;

namespace Dmp.Stats;

/// <summary>
/// Counts in power-of-two buckets: bucket <c>i</c> holds values up to 2^i (bucket 0 holds 0 and 1), and the
/// last bucket everything larger. Request sizes in bytes (up to 32 MiB) and service times in microseconds
/// (up to about 33 s) both fit.
/// </summary>
[InlineArray(BucketCount)]
internal struct Histogram
{
    public const int BucketCount = 27;

    private long _element;

    /// <summary>The inclusive upper bound of bucket <paramref name="bucket"/>; the last one has none.</summary>
    public static long UpperBound(int bucket) => bucket < BucketCount - 1 ? 1L << bucket : long.MaxValue;

    public static int BucketOf(long value) =>
        value <= 1 ? 0 : Math.Min(BucketCount - 1, 64 - BitOperations.LeadingZeroCount((ulong)value - 1));
}
