using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dmp.Stats;

/// <summary>
/// One connection's counters as they lie in a <see cref="CounterFile"/>, in memory that outlives the daemon:
/// that connection alone writes them, one request at a time; a reader takes a copy between two equal even
/// values of <see cref="Sequence"/> (a seqlock). The in-flight gauges are the exception: a request may
/// enter on one thread and leave on another, so they are interlocked.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ShardCounters
{
    public int Sequence;

    private int _state;

    public IoCounters Counters;

    public InFlightArray InFlight;

    /// <summary>Read and written whole, so that a daemon killed at any point leaves one state or the other.</summary>
    public ShardState State
    {
        readonly get => (ShardState)Volatile.Read(in _state);
        set => Volatile.Write(ref _state, (int)value);
    }

    [InlineArray(IoCounters.OperationCount)]
    public struct InFlightArray
    {
        private long _element;
    }
}
