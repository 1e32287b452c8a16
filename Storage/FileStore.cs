using Dmp.Native;
using Dmp.Native.IoUring;
using Tmds.Linux;

namespace Dmp.Storage;

/// <summary>
/// A regular file or a block device, read and written at the request's offset: with pread/pwrite, or
/// on an io_uring (<see cref="IRingStore"/>). Under <see cref="CacheMode.None"/> aligned requests bypass
/// the page cache (O_DIRECT), so the daemon keeps no second copy of what the kernel above it already
/// caches; the rare unaligned one, and stores whose file system refuses O_DIRECT, go through a buffered
/// descriptor of the same file. Under <see cref="CacheMode.Writeback"/> every request goes through the page cache,
/// and reads it already holds are served on the spot (<see cref="TryReadNow"/>). A file on tmpfs is memory: its
/// requests never wait for a device, so it is served inline as a memory store is (<see cref="MayBlock"/> is false).
/// </summary>
internal sealed unsafe class FileStore : IRingStore
{
    private const int ZeroChunk = 1 << 20;

    /// <summary>O_DIRECT alignment assumed for regular files: the page size, which every file system accepts.</summary>
    private const int FileDirectAlignment = NativeBuffer.Alignment;

    /// <summary>fallocate's mode for a TRIM of a file: the blocks are given back, and the file keeps its size.</summary>
    private const int TrimMode = PositionalIo.PunchHole | PositionalIo.KeepSize;

    private static readonly NativeBuffer Zeroes = CreateZeroes();

    private readonly FileDescriptor _buffered;
    private readonly FileDescriptor? _direct;
    private readonly int[] _descriptors;
    private readonly int _directAlignment;
    private readonly bool _isBlockDevice;
    private readonly bool _inMemory;

    /// <summary>Cleared once the file system says it cannot read without waiting (EOPNOTSUPP), so that it is not asked again.</summary>
    private bool _readsNowSupported;

    private FileStore(FileDescriptor buffered, FileDescriptor? direct, int directAlignment, string path, long size, bool isBlockDevice, CacheMode cache)
    {
        _inMemory = !isBlockDevice && PositionalIo.IsInMemory(buffered.Value);
        _readsNowSupported = cache == CacheMode.Writeback && !_inMemory;
        Cache = cache;
        _buffered = buffered;
        _direct = direct;
        _descriptors = direct is null ? [buffered.Value] : [buffered.Value, direct.Value];
        _directAlignment = directAlignment;
        Description = path;
        Size = size;
        _isBlockDevice = isBlockDevice;
    }

    public long Size { get; }

    public bool MayBlock => !_inMemory;

    public string Description { get; }

    public CacheMode Cache { get; }

    public ReadOnlySpan<int> Descriptors => _descriptors;

    /// <summary>
    /// Opens <paramref name="path"/> for reading and writing (or reading only). A block device is claimed
    /// exclusively (O_EXCL), so it cannot be mounted or mapped by someone else while dmp serves it.
    /// </summary>
    public static FileStore Open(string path, CacheMode cache, bool readOnly = false)
    {
        int access = readOnly ? LibC.O_RDONLY : LibC.O_RDWR;
        var descriptors = new List<FileDescriptor>();
        try
        {
            FileDescriptor probe = Track(descriptors, FileDescriptor.Open(path, access));
            (bool isBlockDevice, bool isRegularFile, long fileSize) = PositionalIo.Describe(probe.Value, path);
            if (!isBlockDevice && !isRegularFile)
            {
                throw new NativeException($"{path} is not a regular file or a block device", LibC.EINVAL);
            }

            // O_EXCL on a block device claims it (on a file it would mean "create"). The direct descriptor
            // is opened after the claim, by this process, so the claim does not refuse it.
            int flags = access | (isBlockDevice ? LibC.O_EXCL : 0);
            FileDescriptor buffered = isBlockDevice ? Track(descriptors, FileDescriptor.Open(path, flags)) : probe;
            FileDescriptor? direct = cache == CacheMode.None ? FileDescriptor.TryOpen(path, (flags & ~LibC.O_EXCL) | LibC.O_DIRECT, out _) : null;
            if (direct is not null)
            {
                Track(descriptors, direct);
            }

            long size = isBlockDevice ? BlockDevice.GetSize(buffered.Value, path) : fileSize;
            int alignment = isBlockDevice ? BlockDevice.GetBlockSize(buffered.Value, path) : FileDirectAlignment;
            if (isBlockDevice)
            {
                probe.Dispose(); // the unclaimed first look; the claim lives on in the buffered descriptor
            }

            return new FileStore(buffered, direct, alignment, path, size, isBlockDevice, cache);
        }
        catch
        {
            descriptors.ForEach(descriptor => descriptor.Dispose());
            throw;
        }
    }

    public int Read(Span<byte> destination, long offset)
    {
        fixed (byte* start = destination)
        {
            return PositionalIo.Read(DescriptorFor(start, offset, destination.Length), destination, offset);
        }
    }

    public int Write(ReadOnlySpan<byte> source, long offset)
    {
        fixed (byte* start = source)
        {
            return PositionalIo.Write(DescriptorFor(start, offset, source.Length), source, offset);
        }
    }

    public int Flush() => PositionalIo.SyncData(_buffered.Value);

    public bool TryReadNow(Span<byte> destination, long offset)
    {
        if (!_readsNowSupported)
        {
            return false;
        }

        int result = PositionalIo.ReadWithoutWaiting(_buffered.Value, destination, offset);
        if (result == LibC.EOPNOTSUPP)
        {
            _readsNowSupported = false;
        }

        // Anything but a full read (not all cached, an error) is left to the ring, which reports errors as they come.
        return result == 0;
    }

    public void PrepareRead(ref IoUringSubmissionEntry entry, Span<byte> destination, long offset, ulong userData)
    {
        fixed (byte* start = destination)
        {
            entry.PrepareRead(DescriptorFor(start, offset, destination.Length), start, destination.Length, offset, userData);
        }
    }

    public void PrepareWrite(ref IoUringSubmissionEntry entry, ReadOnlySpan<byte> source, long offset, bool forceUnitAccess, ulong userData)
    {
        fixed (byte* start = source)
        {
            entry.PrepareWrite(
                DescriptorFor(start, offset, source.Length), start, source.Length, offset,
                forceUnitAccess ? IoUringSubmissionEntry.WriteDataSync : 0, userData);
        }
    }

    public void PrepareFlush(ref IoUringSubmissionEntry entry, ulong userData) => entry.PrepareDataSync(_buffered.Value, userData);

    public bool CanPrepareTrim => !_isBlockDevice;

    public void PrepareTrim(ref IoUringSubmissionEntry entry, long offset, long length, ulong userData) =>
        entry.PrepareAllocate(_buffered.Value, TrimMode, offset, length, userData);

    public void PrepareWriteZeroes(ref IoUringSubmissionEntry entry, long offset, long length, bool mayDeallocate, ulong userData) =>
        entry.PrepareAllocate(_buffered.Value, ZeroingMode(mayDeallocate), offset, length, userData);

    public int Trim(long offset, long length)
    {
        int error = _isBlockDevice
            ? BlockDevice.DiscardRange(_buffered.Value, offset, length)
            : PositionalIo.Allocate(_buffered.Value, TrimMode, offset, length);

        // A trim is only a hint: a store that cannot deallocate has still done what was asked.
        return IsUnsupported(error) ? 0 : error;
    }

    public int WriteZeroes(long offset, long length, bool mayDeallocate, bool fastOnly)
    {
        int error = _isBlockDevice
            ? BlockDevice.ZeroRange(_buffered.Value, offset, length)
            : PositionalIo.Allocate(_buffered.Value, ZeroingMode(mayDeallocate), offset, length);
        return !IsUnsupported(error) ? error : fastOnly ? LibC.ENOTSUP : WriteZeroesByHand(offset, length);
    }

    public void Dispose()
    {
        _direct?.Dispose();
        _buffered.Dispose();
    }

    private static FileDescriptor Track(List<FileDescriptor> descriptors, FileDescriptor descriptor)
    {
        descriptors.Add(descriptor);
        return descriptor;
    }

    /// <summary>fallocate's mode for zeroing a range: on a block device FALLOC_FL_ZERO_RANGE is BLKZEROOUT's
    /// own zeroing; on a file a punched hole, unless the space must stay allocated.</summary>
    private int ZeroingMode(bool mayDeallocate) =>
        (mayDeallocate && !_isBlockDevice ? PositionalIo.PunchHole : PositionalIo.ZeroRange) | PositionalIo.KeepSize;

    private static bool IsUnsupported(int error) =>
        error == LibC.EOPNOTSUPP || error == LibC.ENOTTY || error == LibC.ENOSYS;

    private static NativeBuffer CreateZeroes()
    {
        var buffer = new NativeBuffer(ZeroChunk);
        buffer.Span.Clear();
        return buffer;
    }

    /// <summary>The direct descriptor when memory, offset and length all meet O_DIRECT's alignment.</summary>
    private int DescriptorFor(byte* memory, long offset, int length)
    {
        ulong mask = (ulong)_directAlignment - 1;
        return _direct is not null && (((ulong)memory | (ulong)offset | (uint)length) & mask) == 0 ? _direct.Value : _buffered.Value;
    }

    private int WriteZeroesByHand(long offset, long length)
    {
        while (length > 0)
        {
            int chunk = (int)Math.Min(length, ZeroChunk);
            int error = Write(Zeroes.Slice(chunk), offset);
            if (error != 0)
            {
                return error;
            }

            offset += chunk;
            length -= chunk;
        }

        return 0;
    }
}
