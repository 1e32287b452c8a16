using System.Runtime.CompilerServices;

namespace Dmp.Stats;

/// <summary>
/// A value snapshot of every <see cref="IoOperation"/>'s counters: requests, bytes and errors, total
/// service time, latency and size histograms, and how many are in flight (a gauge, not summed over time).
/// </summary>
internal struct IoCounters
{
    public const int OperationCount = (int)IoOperation.Cache + 1;

    private CounterArray _counters;
    private LongArray _nanoseconds;
    private LongArray _inFlight;
    private HistogramArray _latency;
    private HistogramArray _sizes;

    public OperationCounters this[IoOperation operation]
    {
        readonly get => _counters[(int)operation];
        set => _counters[(int)operation] = value;
    }

    /// <summary>What the block layer calls writes: WRITE and WRITE_ZEROES.</summary>
    public readonly OperationCounters Writes => this[IoOperation.Write] + this[IoOperation.WriteZeroes];

    public static IoCounters operator +(IoCounters left, IoCounters right) => Combine(left, right, 1);

    /// <summary>The difference of the cumulative counts; the in-flight gauges are the left side's.</summary>
    public static IoCounters operator -(IoCounters left, IoCounters right) => Combine(left, right, -1);

    /// <summary>Time spent answering this operation's requests, from receipt to reply.</summary>
    public readonly long Nanoseconds(IoOperation operation) => _nanoseconds[(int)operation];

    public readonly long InFlight(IoOperation operation) => _inFlight[(int)operation];

    /// <summary>Requests of every operation received and not yet answered.</summary>
    public readonly long TotalInFlight
    {
        get
        {
            long total = 0;
            for (int operation = 0; operation < OperationCount; operation++)
            {
                total += _inFlight[operation];
            }

            return total;
        }
    }

    /// <summary>Service times, in microseconds.</summary>
    public readonly Histogram Latency(IoOperation operation) => _latency[(int)operation];

    /// <summary>Request sizes, in bytes.</summary>
    public readonly Histogram Sizes(IoOperation operation) => _sizes[(int)operation];

    /// <summary>Adds one request; the caller guarantees it is the only writer.</summary>
    public void Add(IoOperation operation, long bytes, bool failed, long nanoseconds)
    {
        int index = (int)operation;
        ref OperationCounters counters = ref _counters[index];
        counters.Requests++;
        counters.Bytes += bytes;
        counters.Errors += failed ? 1 : 0;
        _nanoseconds[index] += nanoseconds;
        _latency[index][Histogram.BucketOf(nanoseconds / 1000)]++;
        _sizes[index][Histogram.BucketOf(bytes)]++;
    }

    public void SetInFlight(IoOperation operation, long count) => _inFlight[(int)operation] = count;

    private static IoCounters Combine(IoCounters left, IoCounters right, int sign)
    {
        IoCounters result = left;
        for (int operation = 0; operation < OperationCount; operation++)
        {
            result._counters[operation] = sign > 0 ? left._counters[operation] + right._counters[operation] : left._counters[operation] - right._counters[operation];
            result._nanoseconds[operation] += sign * right._nanoseconds[operation];
            result._inFlight[operation] += sign > 0 ? right._inFlight[operation] : 0;
            for (int bucket = 0; bucket < Histogram.BucketCount; bucket++)
            {
                result._latency[operation][bucket] += sign * right._latency[operation][bucket];
                result._sizes[operation][bucket] += sign * right._sizes[operation][bucket];
            }
        }

        return result;
    }

    [InlineArray(OperationCount)]
    private struct CounterArray
    {
        private OperationCounters _element;
    }

    [InlineArray(OperationCount)]
    private struct LongArray
    {
        private long _element;
    }

    [InlineArray(OperationCount)]
    private struct HistogramArray
    {
        private Histogram _element;
    }
}
