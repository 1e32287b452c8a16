using System.Diagnostics;
using Dmp.Faults;
using Dmp.Nbd;
using Dmp.Stats;
using Dmp.Trace;

namespace Dmp.Chain;

/// <summary>
/// The layers between a transport and a store, as nbdkit stacks filters over a plugin, for one connection of
/// one device. A request meets them in this order:
/// <list type="number">
/// <item>counting (<c>Stats/</c>): in flight from <see cref="Enter"/>; counted at <see cref="Complete"/>;</item>
/// <item>faults (<c>Faults/</c>): <see cref="Decide"/> says whether the store is asked at all, and how;</item>
/// <item>the store (<c>Storage/</c>), which the transport drives on its own path (inline, io_uring, a worker);</item>
/// <item>on the way back, a rule's corruption of a read, the count, and the trace (<c>Trace/</c>) at <see cref="Complete"/>.</item>
/// </list>
/// Each layer is on or off per device: counting with the daemon, faults while the device has rules, the trace
/// while anyone reads it. A layer that is off costs one check. Requests are described as NBD describes them, which
/// the kernel's nbd client and NBD clients speak, and which ublk's operations map onto one for one.
/// </summary>
internal sealed class RequestChain : IDisposable
{
    private readonly NbdExport _export;
    private readonly CounterShard? _counters;
    private readonly DeviceFaults _faults;
    private readonly TraceHub _trace;

    /// <param name="connection">The connection's number on its device, which the trace shows.</param>
    public RequestChain(NbdExport export, int connection)
    {
        _export = export;
        _faults = export.Faults;
        _trace = export.Trace;
        _counters = export.Statistics.Enabled ? export.Statistics.OpenShard() : null;
        Connection = connection;
    }

    public int Connection { get; }

    /// <summary>The time a request's header was read, for its service time: 0 when no layer wants it.</summary>
    public long Arrived() => _counters is not null || _trace.Active ? Stopwatch.GetTimestamp() : 0;

    /// <summary>A request has arrived whole: it is in flight until <see cref="Complete"/>.</summary>
    public void Enter(NbdCommand command)
    {
        if (_counters is not null && NbdExport.CountedAs(command) is { } operation)
        {
            _counters.Enter(operation);
        }
    }

    /// <summary>What the device's fault rules make of a request: nothing unless it is valid and a rule fires.</summary>
    public FaultDecision Decide(in NbdRequestHeader request)
    {
        if (!_faults.Active || NbdExport.CountedAs(request.Command) is not { } operation || _export.Validate(request) != NbdError.None)
        {
            return default;
        }

        return _faults.Decide(operation, (long)request.Offset, request.Command == NbdCommand.Flush ? 0 : request.Length);
    }

    /// <summary>
    /// A request is answered: a rule that corrupts reads does so to <paramref name="readData"/>, then the request
    /// is counted and traced. Called just before its reply is sent, so that a client that has its answer finds it
    /// counted; one thread at a time per connection.
    /// </summary>
    /// <param name="error">The reply's error (0 on success).</param>
    /// <param name="arrived">What <see cref="Arrived"/> returned for it.</param>
    /// <param name="readData">A READ's data, about to be sent; empty otherwise.</param>
    public void Complete(in NbdRequestHeader request, int error, long arrived, in FaultDecision fault, Span<byte> readData)
    {
        if (error == NbdError.None)
        {
            fault.CorruptIfAsked(readData);
        }

        if (NbdExport.CountedAs(request.Command) is not { } operation || arrived == 0)
        {
            return;
        }

        long now = Stopwatch.GetTimestamp();
        long nanoseconds = (long)((now - arrived) * (1_000_000_000.0 / Stopwatch.Frequency));
        _counters?.Record(operation, request.Length, error != NbdError.None, nanoseconds);
        if (_trace.Active)
        {
            _trace.Publish(new TraceRecord
            {
                CompletedAt = now,
                Offset = (long)request.Offset,
                ServiceNanoseconds = nanoseconds,
                Device = _export.Statistics.Name,
                Length = request.Length,
                Error = error,
                Connection = Connection,
                Rule = fault.Rule,
                Operation = operation,
                Flags = request.Flags,
            });
        }
    }

    /// <summary>Keeps the connection's counts in its device's once it has ended.</summary>
    public void Dispose()
    {
        if (_counters is not null)
        {
            _export.Statistics.CloseShard(_counters);
        }
    }
}
