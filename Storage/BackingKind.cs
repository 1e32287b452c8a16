namespace Dmp.Storage;

internal enum BackingKind
{
    /// <summary>A sparse in-memory store of the requested size.</summary>
    Memory,

    /// <summary>Zeroes on read, writes dropped (like dm-zero), of the requested size.</summary>
    Zero,

    /// <summary>A regular file or block device, of its own size.</summary>
    File,
}
