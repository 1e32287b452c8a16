using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Dmp.Stats;

/// <summary>
/// What the module's sum keeps of devices that went away since its last reset, as it lies in memory mapped
/// from the run directory (see <see cref="CounterStorage"/>): a new sum is written beside the last, then made
/// the last, in one store.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ModuleCounterFile
{
    /// <summary>"dmpmod01": a file of this layout.</summary>
    public const ulong ExpectedSignature = 0x3130_646F_6D70_6D64;

    public ulong Signature;

    public int Size;

    public int DepartedIndex;

    public DepartedSums Departed;

    [InlineArray(2)]
    public struct DepartedSums
    {
        private IoCounters _element;
    }
}
