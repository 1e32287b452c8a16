using System.Runtime.InteropServices;

namespace Dmp.Native;

/// <summary>
/// Page-aligned memory outside the GC heap: never moves, so it can be handed to syscalls
/// (including O_DIRECT ones) without pinning, and costs the GC nothing.
/// </summary>
internal sealed unsafe class NativeBuffer : IDisposable
{
    public const int Alignment = 4096;

    private byte* _memory;

    public NativeBuffer(int capacity)
    {
        Capacity = RoundUp(capacity);
        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)Capacity, Alignment);
    }

    ~NativeBuffer() => Free();

    public int Capacity { get; private set; }

    public Span<byte> Span => new(_memory, Capacity);

    public Span<byte> Slice(int length) => Span[..length];

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private static int RoundUp(int length) => Math.Max(Alignment, (length + Alignment - 1) & ~(Alignment - 1));

    private void Free()
    {
        if (_memory != null)
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
            Capacity = 0;
        }
    }
}
