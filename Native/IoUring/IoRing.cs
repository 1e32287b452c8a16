using System.Runtime.InteropServices;
using Tmds.Linux;

namespace Dmp.Native.IoUring;

/// <summary>
/// One io_uring: a submission ring the caller fills and a completion ring the kernel fills, both mapped
/// into this process. It belongs to one thread at a time (no locks): that thread prepares entries,
/// submits them, and takes the completions. Nothing here is particular to files; any operation the
/// kernel offers (a socket poll, a ublk command) goes through the same ring.
/// Results are errno values, never exceptions, except when the ring is set up.
/// </summary>
internal sealed unsafe partial class IoRing : IDisposable
{
    // The syscall numbers are the same on every architecture (the unified table from 424 on).
    internal const long SetupSyscall = 425;
    internal const long EnterSyscall = 426;
    internal const long RegisterSyscall = 427;

    /// <summary>io_uring_register's IORING_REGISTER_FILES and IORING_UNREGISTER_FILES.</summary>
    internal const uint RegisterFilesOpcode = 2;
    internal const uint UnregisterFilesOpcode = 3;

    /// <summary>IORING_ENTER_GETEVENTS: wait for completions, not only submit.</summary>
    internal const uint EnterGetEvents = 1;

    /// <summary>IORING_OFF_SQ_RING and IORING_OFF_SQES: the mmap offsets of the rings and of the submission entries.</summary>
    internal const long RingsMapOffset = 0;
    internal const long SubmissionEntriesMapOffset = 0x10000000;

    private const uint RequiredFeatures =
        IoUringParameters.FeatureSingleMmap | IoUringParameters.FeatureNoDrop | IoUringParameters.FeatureReadWriteCurrentPosition;

    private static readonly Lazy<string?> UnavailableReason = new(Probe);

    private readonly FileDescriptor _ring;
    private readonly byte* _rings;
    private readonly nuint _ringsLength;
    private readonly IoUringSubmissionEntry* _submissions;
    private readonly nuint _submissionsLength;
    private readonly uint* _submissionHead;
    private readonly uint* _submissionTail;
    private readonly uint _submissionMask;
    private readonly uint* _completionHead;
    private readonly uint* _completionTail;
    private readonly uint _completionMask;
    private readonly IoUringCompletionEntry* _completions;

    /// <summary>The descriptors registered as the ring's fixed files, each at its slot.</summary>
    private int[] _registeredFiles = [];

    /// <summary>Entries prepared so far: those past the kernel's head wait for the next submit.</summary>
    private uint _preparedTail;
    private bool _disposed;

    private IoRing(FileDescriptor ring, in IoUringParameters parameters, byte* rings, nuint ringsLength, IoUringSubmissionEntry* submissions, nuint submissionsLength)
    {
        _ring = ring;
        _rings = rings;
        _ringsLength = ringsLength;
        _submissions = submissions;
        _submissionsLength = submissionsLength;
        SubmissionCapacity = parameters.SubmissionEntries;
        CompletionCapacity = parameters.CompletionEntries;
        _submissionHead = (uint*)(rings + parameters.SubmissionRing.Head);
        _submissionTail = (uint*)(rings + parameters.SubmissionRing.Tail);
        _submissionMask = *(uint*)(rings + parameters.SubmissionRing.RingMask);
        _completionHead = (uint*)(rings + parameters.CompletionRing.Head);
        _completionTail = (uint*)(rings + parameters.CompletionRing.Tail);
        _completionMask = *(uint*)(rings + parameters.CompletionRing.RingMask);
        _completions = (IoUringCompletionEntry*)(rings + parameters.CompletionRing.Entries);
        _preparedTail = *_submissionTail;

        // The indirection array maps ring slots to entries one to one, once and for all.
        uint* array = (uint*)(rings + parameters.SubmissionRing.Array);
        for (uint slot = 0; slot < SubmissionCapacity; slot++)
        {
            array[slot] = slot;
        }
    }

    ~IoRing() => Unmap();

    /// <summary>Why this process cannot use io_uring (the kernel lacks it, or a seccomp policy or sysctl refuses it); null when it can.</summary>
    public static string? Unavailable => UnavailableReason.Value;

    public uint SubmissionCapacity { get; }

    public uint CompletionCapacity { get; }

    /// <summary>Entries prepared and not yet taken by the kernel.</summary>
    public uint Pending => _preparedTail - Volatile.Read(ref *_submissionHead);

    /// <summary>Sets up a ring with room for <paramref name="entries"/> submissions (a power of two) and twice as many completions.</summary>
    /// <exception cref="NativeException">The kernel refused, or its io_uring is older than dmp needs (5.6).</exception>
    public static IoRing Create(uint entries)
    {
        IoUringParameters parameters = default;
        var ring = FileDescriptor.FromResult((int)Syscall(SetupSyscall, entries, (long)&parameters, 0, 0, 0, 0), "io_uring_setup");
        byte* rings = null;
        nuint ringsLength = 0;
        try
        {
            if ((parameters.Features & RequiredFeatures) != RequiredFeatures)
            {
                throw new NativeException("io_uring_setup: the kernel's io_uring is older than 5.6", LibC.ENOSYS);
            }

            ringsLength = Math.Max(
                parameters.SubmissionRing.Array + (parameters.SubmissionEntries * sizeof(uint)),
                parameters.CompletionRing.Entries + (parameters.CompletionEntries * (uint)sizeof(IoUringCompletionEntry)));
            rings = (byte*)Map(ring, ringsLength, RingsMapOffset);
            nuint submissionsLength = parameters.SubmissionEntries * (nuint)sizeof(IoUringSubmissionEntry);
            var submissions = (IoUringSubmissionEntry*)Map(ring, submissionsLength, SubmissionEntriesMapOffset);
            return new IoRing(ring, parameters, rings, ringsLength, submissions, submissionsLength);
        }
        catch
        {
            if (rings != null)
            {
                _ = LibC.munmap(rings, (size_t)(ulong)ringsLength);
            }

            ring.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The next free submission entry, for the caller to prepare; it goes to the kernel at the next
    /// <see cref="Submit"/> or <see cref="SubmitAndWait"/>. When every entry is taken, the prepared ones
    /// are submitted first to make room.
    /// </summary>
    public ref IoUringSubmissionEntry NextSubmission()
    {
        while (Pending == SubmissionCapacity)
        {
            int error = Submit();
            if (error != 0 && error != LibC.EAGAIN && error != LibC.EBUSY)
            {
                throw new NativeException("io_uring_enter", error); // only a broken ring: EBADF, EFAULT
            }
        }

        return ref _submissions[_preparedTail++ & _submissionMask];
    }

    /// <summary>Hands every prepared entry to the kernel, without waiting for anything.</summary>
    /// <returns>0, or errno (EAGAIN or EBUSY: the kernel is short of resources or completions, try again after taking some).</returns>
    public int Submit() => Pending == 0 ? 0 : Enter(0, 0);

    /// <summary>Hands every prepared entry to the kernel and waits until <paramref name="completions"/> completions are ready.</summary>
    /// <returns>0 once they are, or once entries were submitted (it may return early then); EINTR when a signal
    /// interrupted the wait; otherwise errno. The caller looks at the completion ring either way.</returns>
    public int SubmitAndWait(uint completions) => Enter(completions, EnterGetEvents);

    /// <summary>
    /// Registers <paramref name="descriptors"/> as the ring's fixed files (<see cref="UseRegisteredFile"/>). The ring then
    /// holds its own reference to each file, which the kernel drops on its own worker once the ring is gone and every
    /// request on it has ended (unless <see cref="Dispose"/> unregisters them first): the last close of a block device,
    /// which waits for its dirty pages, then never falls to a thread of a process that exits while that device hangs.
    /// Requests on fixed files also skip a reference count each.
    /// </summary>
    /// <returns>0, or errno (EMFILE past RLIMIT_NOFILE, say): the descriptors then serve as they are.</returns>
    public int RegisterFiles(ReadOnlySpan<int> descriptors)
    {
        fixed (int* list = descriptors)
        {
            int error = Errno.Of(Syscall(RegisterSyscall, _ring.Value, RegisterFilesOpcode, (long)list, descriptors.Length, 0, 0));
            if (error == 0)
            {
                _registeredFiles = descriptors.ToArray();
            }

            return error;
        }
    }

    /// <summary>Makes a prepared entry that names a registered descriptor name its fixed-file slot instead.</summary>
    public void UseRegisteredFile(ref IoUringSubmissionEntry entry)
    {
        int slot = _registeredFiles.AsSpan().IndexOf(entry.FileDescriptor);
        if (slot >= 0)
        {
            entry.FileDescriptor = slot;
            entry.Flags |= IoUringSubmissionEntry.FixedFile;
        }
    }

    /// <summary>Takes the oldest completion, if there is one.</summary>
    public bool TryTakeCompletion(out IoUringCompletionEntry completion)
    {
        uint head = *_completionHead; // only this thread moves the head
        if (head == Volatile.Read(ref *_completionTail))
        {
            completion = default;
            return false;
        }

        completion = _completions[head & _completionMask];
        Volatile.Write(ref *_completionHead, head + 1); // the kernel may reuse the slot from here on
        return true;
    }

    /// <summary>Closes the ring. Registered files are let go of first, on this thread, so that a file's last close (a block
    /// device's release, say) is over when this returns; the caller sees to it that no request on them is in flight.</summary>
    public void Dispose()
    {
        if (_registeredFiles.Length > 0 && !_disposed)
        {
            _ = Syscall(RegisterSyscall, _ring.Value, UnregisterFilesOpcode, 0, 0, 0, 0);
            _registeredFiles = [];
        }

        Unmap();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// io_uring_enter. The prepared entries are published first (the release store pairs with the kernel's
    /// acquire of the tail): every field written before is seen by the kernel.
    /// </summary>
    private int Enter(uint waitFor, uint flags)
    {
        Volatile.Write(ref *_submissionTail, _preparedTail);
        long result = Syscall(EnterSyscall, _ring.Value, Pending, waitFor, flags, 0, 0); // no signal mask
        return Errno.Of(result);
    }

    private static void* Map(FileDescriptor ring, nuint length, long offset)
    {
        void* mapping = LibC.mmap(null, (size_t)(ulong)length, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED | LibC.MAP_POPULATE, ring.Value, offset);
        return mapping != LibC.MAP_FAILED ? mapping : throw NativeException.FromLast("mmap io_uring");
    }

    private static string? Probe()
    {
        try
        {
            using IoRing ring = Create(2);
            return null;
        }
        catch (NativeException exception)
        {
            return exception.Message;
        }
    }

    private void Unmap()
    {
        if (!_disposed)
        {
            _disposed = true;
            _ = LibC.munmap(_submissions, (size_t)(ulong)_submissionsLength);
            _ = LibC.munmap(_rings, (size_t)(ulong)_ringsLength);
            _ring.Dispose();
        }
    }

    // glibc's syscall(2) is variadic, but on Linux's ABIs integer arguments pass in the same registers either way.
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long argument1, long argument2, long argument3, long argument4, long argument5, long argument6);
}
