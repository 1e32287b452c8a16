using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// An eventfd: a counter any thread may add to, which wakes the one thread that reads it (through a read
/// of its own, or a read queued on an io_uring). Reading returns the sum added since and zeroes it.
/// </summary>
internal sealed unsafe class EventCounter : IDisposable
{
    private readonly FileDescriptor _fd;

    public EventCounter() => _fd = FileDescriptor.FromResult(LibC.eventfd(0, LibC.O_CLOEXEC), "eventfd");

    /// <summary>The descriptor to read the counter from (8 bytes, host order).</summary>
    public int Descriptor => _fd.Value;

    /// <summary>Adds one, waking the reader.</summary>
    public void Signal()
    {
        ulong one = 1;
        _ = LibC.write(_fd.Value, &one, sizeof(ulong)); // cannot fail short of 2^64 - 1 signals unread
    }

    /// <summary>Waits until something was added, and zeroes the counter.</summary>
    public void Wait()
    {
        ulong sum;
        _ = LibC.read(_fd.Value, &sum, sizeof(ulong)); // EINTR: the caller looks again either way
    }

    public void Dispose() => _fd.Dispose();
}
