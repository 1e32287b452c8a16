using Dmp.Faults;
using Dmp.Native.IoUring;
using Dmp.Stats;
using Dmp.Storage;
using Dmp.Trace;

namespace Dmp.Nbd;

/// <summary>
/// What is served: a backing store, what it advertises, and the layers its requests pass (its counters, its
/// fault rules, the trace; see <see cref="Chain.RequestChain"/>). <see cref="Execute"/> is the whole command
/// semantics, shared by every connection.
/// </summary>
internal sealed class NbdExport
{
    private int _connections;

    /// <param name="trace">Where its requests are traced: the module's hub, or null for one of its own.</param>
    /// <param name="faults">Its fault rules, or null for none yet, kept in memory.</param>
    public NbdExport(IBackingStore store, DeviceStatistics statistics, bool readOnly = false, TraceHub? trace = null, DeviceFaults? faults = null)
    {
        Store = store;
        Statistics = statistics;
        ReadOnly = readOnly;
        Faults = faults ?? new DeviceFaults(store.Size);
        Trace = trace ?? new TraceHub();
    }

    public IBackingStore Store { get; }

    /// <summary>The device's counters, and its name.</summary>
    public DeviceStatistics Statistics { get; }

    public DeviceFaults Faults { get; }

    public TraceHub Trace { get; }

    public bool ReadOnly { get; }

    public long Size => Store.Size;

    public NbdTransmissionFlags TransmissionFlags => FlagsFor(ReadOnly);

    /// <summary>
    /// What an export advertises: every command and flag it serves, that connections may be many
    /// (a flush covers writes completed on any of them: they share one store), and whether it is read-only.
    /// </summary>
    public static NbdTransmissionFlags FlagsFor(bool readOnly) =>
        NbdTransmissionFlags.HasFlags | NbdTransmissionFlags.SendFlush | NbdTransmissionFlags.SendFua |
        NbdTransmissionFlags.SendTrim | NbdTransmissionFlags.SendWriteZeroes | NbdTransmissionFlags.SendFastZero |
        NbdTransmissionFlags.SendCache | NbdTransmissionFlags.CanMultiConnection |
        (readOnly ? NbdTransmissionFlags.ReadOnly : NbdTransmissionFlags.None);

    /// <summary>The counter a command feeds, or null for commands that are not counted.</summary>
    public static IoOperation? CountedAs(NbdCommand command) => command switch
    {
        NbdCommand.Read => IoOperation.Read,
        NbdCommand.Write => IoOperation.Write,
        NbdCommand.WriteZeroes => IoOperation.WriteZeroes,
        NbdCommand.Trim => IoOperation.Discard,
        NbdCommand.Flush => IoOperation.Flush,
        NbdCommand.Cache => IoOperation.Cache,
        _ => null,
    };

    /// <summary>
    /// The request flags each command may carry; any other flag makes the request invalid. FUA is valid
    /// on every command (proto.md), even where it changes nothing.
    /// </summary>
    public static NbdCommandFlags AllowedFlags(NbdCommand command) => command == NbdCommand.WriteZeroes
        ? NbdCommandFlags.ForceUnitAccess | NbdCommandFlags.NoHole | NbdCommandFlags.FastZero
        : NbdCommandFlags.ForceUnitAccess;

    /// <summary>A number for a new connection, unique on this export: the kernel's sockets come first, then NBD clients.</summary>
    public int NumberConnection() => Interlocked.Increment(ref _connections) - 1;

    /// <summary>
    /// Carries out one request; <see cref="Execute"/>, with a store that throws answered by EIO. A fault rule that
    /// answers in the store's place (an error, a dropped write) leaves the store alone.
    /// </summary>
    public int Serve(in NbdRequestHeader request, Span<byte> payload, in FaultDecision fault = default)
    {
        if (fault.Answers)
        {
            return fault.Action == FaultAction.Fail ? NbdError.FromErrno(fault.Error) : NbdError.None;
        }

        try
        {
            return Execute(request, payload);
        }
        catch (Exception)
        {
            // Stores report errno rather than throw; should one throw all the same, the client gets EIO, not a dead daemon.
            return NbdError.InputOutput;
        }
    }

    /// <summary>
    /// The store's own memory for a valid READ or WRITE, when the store lies in memory, so that a large
    /// payload moves between the socket and the store with no copy in between: the request is then as
    /// good as carried out once the data has been sent or received. False for every other request.
    /// </summary>
    public bool TryGetMemory(scoped in NbdRequestHeader request, out Span<byte> memory)
    {
        memory = default;
        return request.Command is NbdCommand.Read or NbdCommand.Write && Validate(request) == NbdError.None &&
            Store.TryGetMemory((long)request.Offset, (int)request.Length, forWrite: request.Command == NbdCommand.Write, out memory);
    }

    /// <summary>Carries out one request against the store.</summary>
    /// <param name="payload">The data of a WRITE, or room for the data of a READ.</param>
    /// <returns>The NBD error to reply with (0 on success).</returns>
    public int Execute(in NbdRequestHeader request, Span<byte> payload)
    {
        NbdCommand command = request.Command;
        if (Validate(request) is int error and not NbdError.None)
        {
            return error;
        }

        if (command is NbdCommand.Flush)
        {
            return NbdError.FromErrno(Store.Flush());
        }

        long offset = (long)request.Offset;
        long length = request.Length;
        bool forceUnitAccess = (request.Flags & NbdCommandFlags.ForceUnitAccess) != 0;
        int errno = command switch
        {
            NbdCommand.Read => Store.Read(payload, offset),
            NbdCommand.Write => FlushIf(forceUnitAccess, Store.Write(payload, offset)),
            NbdCommand.Trim => FlushIf(forceUnitAccess, Store.Trim(offset, length)),
            NbdCommand.WriteZeroes => FlushIf(forceUnitAccess, Store.WriteZeroes(
                offset, length, mayDeallocate: (request.Flags & NbdCommandFlags.NoHole) == 0, fastOnly: (request.Flags & NbdCommandFlags.FastZero) != 0)),
            _ => 0, // CACHE is advisory: the store keeps no cache of its own to fill.
        };
        return NbdError.FromErrno(errno);
    }

    /// <summary>
    /// Starts a request that <see cref="Validate"/> passed on <paramref name="ring"/>, when the store can carry it
    /// there (an <see cref="IRingStore"/>'s READ, WRITE, FLUSH, WRITE_ZEROES and, where it has one, TRIM); the
    /// completion then goes to <see cref="ErrorOf"/>.
    /// </summary>
    /// <returns>False when the request is not for the ring: <see cref="Execute"/> it instead.</returns>
    public bool TryStart(IoRing ring, in NbdRequestHeader request, Span<byte> payload, ulong userData)
    {
        if (Store is not IRingStore store || !CanStart(store, request))
        {
            return false;
        }

        ref IoUringSubmissionEntry entry = ref ring.NextSubmission();
        long offset = (long)request.Offset;
        switch (request.Command)
        {
            case NbdCommand.Read:
                store.PrepareRead(ref entry, payload, offset, userData);
                break;
            case NbdCommand.Write:
                store.PrepareWrite(ref entry, payload, offset, (request.Flags & NbdCommandFlags.ForceUnitAccess) != 0, userData);
                break;
            case NbdCommand.Trim:
                store.PrepareTrim(ref entry, offset, request.Length, userData);
                break;
            case NbdCommand.WriteZeroes:
                store.PrepareWriteZeroes(ref entry, offset, request.Length, mayDeallocate: (request.Flags & NbdCommandFlags.NoHole) == 0, userData);
                break;
            default:
                store.PrepareFlush(ref entry, userData);
                break;
        }

        ring.UseRegisteredFile(ref entry);
        return true;
    }

    /// <summary>The NBD error for the ring's <paramref name="result"/> of a request <see cref="TryStart"/> started.</summary>
    /// <returns>Null when the request is to be <see cref="Execute"/>d again: a read or write that moved fewer bytes than
    /// asked (the file shrank, say), which that finishes as pread and pwrite do; or a TRIM or WRITE_ZEROES that failed,
    /// where that knows what may fail (a trim is a hint; zeroes are written by hand where the device has no zeroing).</returns>
    public static int? ErrorOf(in NbdRequestHeader request, int result) => request.Command switch
    {
        NbdCommand.Trim or NbdCommand.WriteZeroes => result == 0 ? NbdError.None : null,
        _ when result < 0 => NbdError.FromErrno(-result),
        NbdCommand.Flush => NbdError.None,
        _ => result == (int)request.Length ? NbdError.None : null,
    };

    /// <summary>Whether <paramref name="store"/> can carry the request on a ring. A TRIM or WRITE_ZEROES with FUA
    /// would need a flush linked behind it: those rare ones run on a worker.</summary>
    private static bool CanStart(IRingStore store, in NbdRequestHeader request) => request.Command switch
    {
        NbdCommand.Read or NbdCommand.Write or NbdCommand.Flush => true,
        NbdCommand.Trim => store.CanPrepareTrim && (request.Flags & NbdCommandFlags.ForceUnitAccess) == 0,
        NbdCommand.WriteZeroes => (request.Flags & NbdCommandFlags.ForceUnitAccess) == 0,
        _ => false,
    };

    /// <summary>
    /// Carries out a READ that <see cref="Validate"/> passed now, when the store can without waiting for its device
    /// (<see cref="IRingStore.TryReadNow"/>); otherwise it is for <see cref="TryStart"/>.
    /// </summary>
    public bool TryReadNow(in NbdRequestHeader request, Span<byte> payload) =>
        request.Command == NbdCommand.Read && Store is IRingStore store && store.TryReadNow(payload, (long)request.Offset);

    /// <summary>Whether the request may be carried out: its command, flags, permission and range.</summary>
    /// <returns>0, or the NBD error to reply with.</returns>
    public int Validate(in NbdRequestHeader request)
    {
        NbdCommand command = request.Command;
        if (CountedAs(command) is null || (request.Flags & ~AllowedFlags(command)) != 0)
        {
            return NbdError.InvalidArgument;
        }

        if (command is NbdCommand.Flush)
        {
            return NbdError.None;
        }

        bool modifies = command is NbdCommand.Write or NbdCommand.WriteZeroes or NbdCommand.Trim;
        if (modifies && ReadOnly)
        {
            return NbdError.NotPermitted;
        }

        if (request.Length == 0 || (command is NbdCommand.Read && request.Length > NbdProtocol.MaxPayloadLength))
        {
            return NbdError.InvalidArgument;
        }

        if (request.Offset > (ulong)Size || request.Length > (ulong)Size - request.Offset)
        {
            // proto.md: ENOSPC for writes past the end, EINVAL for everything else.
            return command is NbdCommand.Write or NbdCommand.WriteZeroes ? NbdError.NoSpace : NbdError.InvalidArgument;
        }

        return NbdError.None;
    }

    private int FlushIf(bool forceUnitAccess, int errno) => errno == 0 && forceUnitAccess ? Store.Flush() : errno;
}
