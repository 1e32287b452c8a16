using Dmp.Nbd;
using Dmp.Storage;

namespace Dmp.Config;

/// <summary>One device a dmptab declares: what to serve, how, and under which name.</summary>
/// <param name="Name">The device's name: the dm device made over it, and how reload knows it.</param>
/// <param name="Size">The size of a memory or zero backing (files and devices have their own).</param>
/// <param name="ReadOnly">The kernel device is read-only, and the store refuses every change with EPERM.</param>
/// <param name="Mapped">A dm device <see cref="Name"/> is made over the nbd device (<c>nodm</c> turns it off).</param>
/// <param name="Line">Where the file declares it.</param>
/// <param name="Listen">Where NBD clients may connect to this device alone, as export NAME (<c>listen=ADDR</c>), or null.</param>
internal sealed record DmpTabEntry(
    string Name, BackingSpec Backing, long Size, CacheMode Cache, int Connections, bool ReadOnly, bool Mapped, int Line, NbdListenAddress? Listen = null)
{
    /// <summary>
    /// Whether a device already served as this entry declares (same backing, size, cache, sockets, access, mapping);
    /// where it listens is not part of it, since that changes without the device.
    /// </summary>
    public bool Declares(string backing, long size, CacheMode cache, int connections, bool readOnly, string? mappedAs) =>
        backing == Backing.ToString() && (!Backing.IsSized || size == Size) && (Backing.IsSized || cache == Cache) &&
        connections == Connections && readOnly == ReadOnly && mappedAs == (Mapped ? Name : null);
}
