using System.Runtime.InteropServices;

namespace Dmp.Native;

/// <summary>struct statfs (x86_64), as fstatfs fills it. dmp reads only the file system's type; the rest is room.</summary>
[StructLayout(LayoutKind.Sequential, Size = 120)]
internal struct FileSystemStatistics
{
    /// <summary>f_type: the file system's magic number (TMPFS_MAGIC, ...).</summary>
    public long Type;
}
