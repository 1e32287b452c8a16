using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dmp.Stats;

/// <summary>
/// A device's counters as they lie in memory mapped from a file on the run directory's tmpfs (see
/// <see cref="CounterStorage"/>), updated in place, so that a daemon that dies loses none of them and the next
/// one counts on from where it stopped: a slot per connection, the sum of the slots folded away, and the
/// point of the last reset. Every change that spans more than one word is made so that a daemon killed
/// half-way leaves it whole or recoverable (<see cref="DeviceStatistics"/>).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CounterFile
{
    /// <summary>"dmpcnt01": a file of this layout.</summary>
    public const ulong ExpectedSignature = 0x3130_746E_6370_6D64;

    /// <summary>Connections whose counts a device keeps apart: the kernel's sockets and NBD clients at once, and those
    /// that ended since, until a slot is needed again (its counts then join <see cref="Retired"/>).</summary>
    public const int ShardCapacity = 256;

    public ulong Signature;

    /// <summary>The layout's size: a file of another version of dmp differs.</summary>
    public int Size;

    /// <summary>The slot being folded into <see cref="Retired"/>, plus one (0: none), so that a fold cut short can be finished.</summary>
    public int FoldingSlot;

    /// <summary>Which of <see cref="Resets"/> is the last reset.</summary>
    public int ResetIndex;

    public int Reserved;

    /// <summary>Requests the kernel had in flight each time a daemon took this device over, summed.</summary>
    public long InFlightAtTakeovers;

    /// <summary>The counts of the slots folded away.</summary>
    public IoCounters Retired;

    /// <summary><see cref="Retired"/> as it was before the fold in progress.</summary>
    public IoCounters RetiredBeforeFold;

    /// <summary>The last reset and the one before it: a new one is written beside the last, then made the last.</summary>
    public ResetPoints Resets;

    public Shards Slots;

    [InlineArray(2)]
    public struct ResetPoints
    {
        private ResetPoint _element;
    }

    [InlineArray(ShardCapacity)]
    public struct Shards
    {
        private ShardCounters _element;
    }
}
