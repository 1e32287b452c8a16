using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Dmp.Stats;

/// <summary>What a device's counters and the kernel's held when they were last zeroed, as kept in a <see cref="CounterFile"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ResetPoint
{
    public const int KernelStatCapacity = 256;

    /// <summary>The device's counters at the reset: what later snapshots subtract.</summary>
    public IoCounters Counters;

    /// <summary><see cref="CounterFile.InFlightAtTakeovers"/> at the reset.</summary>
    public long InFlightAtTakeovers;

    public int KernelStatLength;

    /// <summary>The kernel's <c>/sys/block/NAME/stat</c> line at the reset, in UTF-8.</summary>
    public KernelStatBytes KernelStat;

    public string KernelStatText
    {
        readonly get => Encoding.UTF8.GetString(((ReadOnlySpan<byte>)KernelStat)[..KernelStatLength]);
        set => KernelStatLength = Encoding.UTF8.GetBytes(value.AsSpan(0, Math.Min(value.Length, KernelStatCapacity)), KernelStat);
    }

    [InlineArray(KernelStatCapacity)]
    public struct KernelStatBytes
    {
        private byte _element;
    }
}
