namespace Dmp.Storage;

/// <summary>How a file or block device is accessed, named as qemu-nbd names its cache modes.</summary>
internal enum CacheMode
{
    /// <summary>O_DIRECT: the daemon keeps no page cache of its own (under a kernel nbd device, which caches above it).</summary>
    None,

    /// <summary>Through the page cache; flushes are fdatasync.</summary>
    Writeback,
}
