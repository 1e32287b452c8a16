using Tmds.Linux;

namespace Dmp.Sysfs;

/// <summary>
/// A file read like the kernel's <c>trace_pipe</c>: each open gets a stream of its own (<see cref="Open"/>), a read
/// waits until the stream has something, and what it returns is consumed. Readable by root alone, like
/// <c>trace_pipe</c>: it shows where on a device every request went.
/// </summary>
internal sealed class SysfsStream(string name, Func<ISysfsStreamReader> open) : SysfsNode(name)
{
    public Func<ISysfsStreamReader> Open { get; } = open;

    public override uint Mode => (uint)LibC.S_IFREG | ReadableByOwner;
}
