using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Storage;

/// <summary>A regular file or a block device, accessed with pread/pwrite at the request's offset.</summary>
internal sealed unsafe class FileStore : IBackingStore
{
    internal const int ZeroRangeMode = 0x10; // FALLOC_FL_ZERO_RANGE (linux/falloc.h)
    private const int ZeroChunk = 1 << 20;

    private static readonly NativeBuffer Zeroes = CreateZeroes();

    private readonly FileDescriptor _fd;
    private readonly bool _isBlockDevice;

    private FileStore(FileDescriptor fd, string path, long size, bool isBlockDevice)
    {
        _fd = fd;
        Description = path;
        Size = size;
        _isBlockDevice = isBlockDevice;
    }

    public long Size { get; }

    public string Description { get; }

    /// <summary>
    /// Opens <paramref name="path"/> for reading and writing. A block device is claimed
    /// exclusively (O_EXCL), so it cannot be mounted or mapped by someone else while dmp serves it.
    /// </summary>
    public static FileStore Open(string path)
    {
        FileDescriptor fd = FileDescriptor.Open(path, LibC.O_RDWR);
        try
        {
            stat status;
            if (LibC.fstat(fd.Value, &status) != 0)
            {
                throw NativeException.FromLast($"stat {path}");
            }

            if (LibC.S_ISBLK(status.st_mode))
            {
                // Reopen exclusively now that it is known to be a block device (O_EXCL means "create" for files).
                fd.Dispose();
                fd = FileDescriptor.Open(path, LibC.O_RDWR | LibC.O_EXCL);
                return new FileStore(fd, path, BlockDevice.GetSize(fd.Value, path), isBlockDevice: true);
            }

            if (!LibC.S_ISREG(status.st_mode))
            {
                throw new NativeException($"{path} is not a regular file or a block device", LibC.EINVAL);
            }

            return new FileStore(fd, path, status.st_size, isBlockDevice: false);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    public int Read(Span<byte> destination, long offset)
    {
        fixed (byte* start = destination)
        {
            int done = 0;
            while (done < destination.Length)
            {
                long read = LibC.pread(_fd.Value, start + done, destination.Length - done, offset + done);
                if (read > 0)
                {
                    done += (int)read;
                }
                else if (read == 0)
                {
                    // The file shrank under us: what is gone reads as zeroes, as a hole would.
                    destination[done..].Clear();
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

    public int Write(ReadOnlySpan<byte> source, long offset, bool forceUnitAccess)
    {
        int error = WriteAll(source, offset);
        return error == 0 && forceUnitAccess ? Flush() : error;
    }

    public int Flush() => LibC.fdatasync(_fd.Value) == 0 ? 0 : Errno.Last;

    public int Trim(long offset, long length)
    {
        int error = _isBlockDevice
            ? BlockDevice.DiscardRange(_fd.Value, offset, length)
            : Allocate(LibC.FALLOC_FL_PUNCH_HOLE | LibC.FALLOC_FL_KEEP_SIZE, offset, length);

        // A trim is only a hint: a store that cannot deallocate has still done what was asked.
        return IsUnsupported(error) ? 0 : error;
    }

    public int WriteZeroes(long offset, long length, bool mayDeallocate)
    {
        int error = _isBlockDevice
            ? BlockDevice.ZeroRange(_fd.Value, offset, length)
            : Allocate((mayDeallocate ? LibC.FALLOC_FL_PUNCH_HOLE : ZeroRangeMode) | LibC.FALLOC_FL_KEEP_SIZE, offset, length);
        return IsUnsupported(error) ? WriteZeroesByHand(offset, length) : error;
    }

    public void Dispose() => _fd.Dispose();

    private static bool IsUnsupported(int error) =>
        error == LibC.EOPNOTSUPP || error == LibC.ENOTTY || error == LibC.ENOSYS;

    private static NativeBuffer CreateZeroes()
    {
        var buffer = new NativeBuffer(ZeroChunk);
        buffer.Span.Clear();
        return buffer;
    }

    private int Allocate(int mode, long offset, long length) =>
        LibC.fallocate(_fd.Value, mode, offset, length) == 0 ? 0 : Errno.Last;

    private int WriteZeroesByHand(long offset, long length)
    {
        while (length > 0)
        {
            int chunk = (int)Math.Min(length, ZeroChunk);
            int error = WriteAll(Zeroes.Slice(chunk), offset);
            if (error != 0)
            {
                return error;
            }

            offset += chunk;
            length -= chunk;
        }

        return 0;
    }

    private int WriteAll(ReadOnlySpan<byte> source, long offset)
    {
        fixed (byte* start = source)
        {
            int done = 0;
            while (done < source.Length)
            {
                long written = LibC.pwrite(_fd.Value, start + done, source.Length - done, offset + done);
                if (written >= 0)
                {
                    done += (int)written;
                }
                else if (Errno.Last != LibC.EINTR)
                {
                    return Errno.Last;
                }
            }
        }

        return 0;
    }
}
