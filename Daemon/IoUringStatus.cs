using Dmp.Nbd;
using Dmp.Native.IoUring;
using Dmp.Storage;

namespace Dmp.Daemon;

/// <summary>What the log and <c>dmp status</c> say about io_uring and each device's request path.</summary>
internal static class IoUringStatus
{
    public static string Line => IoRing.Unavailable is { } reason
        ? $"io_uring: unavailable ({reason}); files and block devices are served on the thread pool"
        : "io_uring: in use for files and block devices";

    /// <summary>A device's request path, as the status table's IO column shows it.</summary>
    public static string Name(NbdRequestPath path) => path switch
    {
        NbdRequestPath.Inline => "inline",
        NbdRequestPath.Ring => "io_uring",
        _ => "thread-pool",
    };

    /// <summary>A store's cache mode, or "-" for memory and zero, which have none.</summary>
    public static string CacheOf(IBackingStore store) => store is FileStore file ? file.Cache.Name() : "-";
}
