using System.Runtime.CompilerServices;

namespace Dmp.Stats;

/// <summary>A value snapshot of the counters of every <see cref="IoOperation"/>.</summary>
internal struct IoCounters
{
    public const int OperationCount = (int)IoOperation.Cache + 1;

    private CounterArray _counters;

    public OperationCounters this[IoOperation operation]
    {
        readonly get => _counters[(int)operation];
        set => _counters[(int)operation] = value;
    }

    /// <summary>What the block layer calls writes: WRITE and WRITE_ZEROES.</summary>
    public readonly OperationCounters Writes => this[IoOperation.Write] + this[IoOperation.WriteZeroes];

    public static IoCounters operator +(IoCounters left, IoCounters right) => Combine(left, right, subtract: false);

    public static IoCounters operator -(IoCounters left, IoCounters right) => Combine(left, right, subtract: true);

    /// <summary>Adds (<paramref name="sign"/> 1) or takes back (-1) one request; the caller guarantees it is the only writer.</summary>
    public void Add(IoOperation operation, long bytes, bool failed, int sign = 1)
    {
        ref OperationCounters counters = ref _counters[(int)operation];
        counters.Requests += sign;
        counters.Bytes += sign * bytes;
        counters.Errors += failed ? sign : 0;
    }

    private static IoCounters Combine(IoCounters left, IoCounters right, bool subtract)
    {
        IoCounters result = default;
        for (int i = 0; i < OperationCount; i++)
        {
            result._counters[i] = subtract ? left._counters[i] - right._counters[i] : left._counters[i] + right._counters[i];
        }

        return result;
    }

    [InlineArray(OperationCount)]
    private struct CounterArray
    {
        private OperationCounters _element;
    }
}
