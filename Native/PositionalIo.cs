using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Dmp.Native;

/// <summary>
/// pread/pwrite and the other calls a file or block device store makes. Loops over short transfers
/// and EINTR, and returns errno instead of throwing: these run on the request path.
/// </summary>
internal static unsafe partial class PositionalIo
{
    public const int PunchHole = 0x02;  // FALLOC_FL_PUNCH_HOLE
    public const int KeepSize = 0x01;   // FALLOC_FL_KEEP_SIZE
    public const int ZeroRange = 0x10;  // FALLOC_FL_ZERO_RANGE

    /// <summary>RWF_NOWAIT: fail with EAGAIN rather than wait for the device.</summary>
    public const int NoWait = 0x08;

    /// <summary>f_type of tmpfs and of ramfs: file systems that live in memory.</summary>
    public const long TmpfsMagic = 0x01021994;
    public const long RamfsMagic = unchecked((long)0x858458f6);

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/>; what lies past the end reads as zeroes.</summary>
    /// <returns>0 or errno.</returns>
    public static int Read(int fd, Span<byte> destination, long offset)
    {
        fixed (byte* start = destination)
        {
            int done = 0;
            while (done < destination.Length)
            {
                long read = LibC.pread(fd, start + done, destination.Length - done, offset + done);
                if (read > 0)
                {
                    done += (int)read;
                }
                else if (read == 0)
                {
                    destination[done..].Clear(); // the file shrank: what is gone reads as a hole would
                    break;
                }
                else if (Errno.Last != LibC.EINTR)
                {
                    return Errno.Last;
                }
            }
        }

        return 0;
    }

    /// <summary>Writes all of <paramref name="source"/> at <paramref name="offset"/>.</summary>
    /// <returns>0 or errno (EIO if the kernel stops accepting bytes without saying why).</returns>
    public static int Write(int fd, ReadOnlySpan<byte> source, long offset)
    {
        fixed (byte* start = source)
        {
            int done = 0;
            while (done < source.Length)
            {
                long written = LibC.pwrite(fd, start + done, source.Length - done, offset + done);
                if (written > 0)
                {
                    done += (int)written;
                }
                else if (written == 0)
                {
                    return LibC.EIO;
                }
                else if (Errno.Last != LibC.EINTR)
                {
                    return Errno.Last;
                }
            }
        }

        return 0;
    }

    /// <summary>
    /// Reads all of <paramref name="destination"/> from the page cache, or nothing that counts: preadv2 with
    /// RWF_NOWAIT, which returns what is cached and never waits for the device.
    /// </summary>
    /// <returns>0 when all of it was read; EAGAIN when some is not cached (read it again the usual way);
    /// EOPNOTSUPP where the file system cannot tell; another errno.</returns>
    public static int ReadWithoutWaiting(int fd, Span<byte> destination, long offset)
    {
        fixed (byte* start = destination)
        {
            var vector = new iovec { iov_base = start, iov_len = destination.Length };
            long read = ReadVector(fd, &vector, 1, offset, NoWait);
            return read == destination.Length ? 0 : read >= 0 ? LibC.EAGAIN : Errno.Last;
        }
    }

    /// <summary>Whether the open file lives in memory (tmpfs, ramfs), where no read or write waits for a device.</summary>
    public static bool IsInMemory(int fd)
    {
        FileSystemStatistics statistics;
        return FileSystemStatisticsOf(fd, &statistics) == 0 && statistics.Type is TmpfsMagic or RamfsMagic;
    }

    /// <summary>lseek's SEEK_DATA and SEEK_HOLE: where the next byte of data, or of a hole, is.</summary>
    internal const int SeekData = 3;
    internal const int SeekHole = 4;

    /// <summary>The ranges of a sparse file that hold data (all of it, where the file system cannot tell): its holes read as zeroes.</summary>
    public static IEnumerable<(long Offset, long Length)> DataRanges(int fd, long size)
    {
        for (long offset = 0; offset < size;)
        {
            long data = LibC.lseek(fd, offset, SeekData);
            if (data < 0 || data >= size)
            {
                yield break; // ENXIO: no data from here on
            }

            long end = LibC.lseek(fd, data, SeekHole);
            long hole = end < 0 ? size : Math.Min(end, size);
            yield return (data, hole - data);
            offset = hole;
        }
    }

    /// <returns>0 or errno.</returns>
    public static int Truncate(int fd, long length) => Errno.Of(LibC.ftruncate(fd, length));

    /// <returns>0 or errno.</returns>
    public static int SyncData(int fd) => Errno.Of(LibC.fdatasync(fd));

    /// <returns>0 or errno (EOPNOTSUPP where the file system cannot).</returns>
    public static int Allocate(int fd, int mode, long offset, long length) =>
        Errno.Of(LibC.fallocate(fd, mode, offset, length));

    /// <summary>What an open descriptor refers to: a block device, a regular file, or something else; and the file's size.</summary>
    public static (bool IsBlockDevice, bool IsRegularFile, long Size) Describe(int fd, string path)
    {
        stat status;
        return LibC.fstat(fd, &status) == 0
            ? (LibC.S_ISBLK(status.st_mode), LibC.S_ISREG(status.st_mode), status.st_size)
            : throw NativeException.FromLast($"stat {path}");
    }

    [LibraryImport("libc", EntryPoint = "preadv2", SetLastError = true)]
    private static partial long ReadVector(int fd, iovec* vectors, int count, long offset, int flags);

    [LibraryImport("libc", EntryPoint = "fstatfs", SetLastError = true)]
    private static partial int FileSystemStatisticsOf(int fd, FileSystemStatistics* statistics);
}
