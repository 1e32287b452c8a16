using System.Diagnostics;
using Dmp.Native;
using Dmp.Stats;

namespace Dmp.Nbd;

internal sealed partial class NbdConnection
{
    private readonly Lock _sendLock = new();

    /// <summary>Why sending failed, if it did; the receiver then only sees the end of stream it causes.</summary>
    private string? SendFailure => _output.Error is int error and not 0 ? $"send failed: {Errno.Describe(error)}" : null;

    /// <summary>Sends the reply to a request the thread pool has carried out, and recycles the request; on the
    /// io_uring path, hands it back to the receiver, which does both.</summary>
    internal void Complete(NbdRequest request, int error)
    {
        if (_ring is not null)
        {
            HandBack(request, error);
            return;
        }

        NbdRequestHeader header = request.Header;
        ReadOnlySpan<byte> data = header.Command == NbdCommand.Read && error == NbdError.None ? request.Payload : default;
        lock (_sendLock)
        {
            // Under the send lock, this connection's counters have one writer at a time.
            if (_output.Error == 0)
            {
                Answer(header, error, request.ReceivedAt, _output.GetSpan(NbdProtocol.SimpleReplyLength));
                _output.Advance(NbdProtocol.SimpleReplyLength);
                if (_output.Send(data) != 0)
                {
                    Abort(); // wakes the receiver, which then ends the connection
                }
            }
            else if (_counting && NbdExport.CountedAs(header.Command) is { } unanswered)
            {
                _counters.Leave(unanswered); // its reply can no longer be sent
            }
        }

        Release(request);
    }

    /// <summary>A request has arrived: it is in flight until <see cref="Answer"/> counts it.</summary>
    private void Enter(NbdCommand command)
    {
        if (_counting && NbdExport.CountedAs(command) is { } operation)
        {
            _counters.Enter(operation);
        }
    }

    /// <summary>
    /// Counts a finished request and writes its reply header. The count comes before the reply is sent,
    /// so a client that has its answer also finds it counted; a reply then lost with the connection stays
    /// counted, as the kernel counts the request it fails for want of one.
    /// </summary>
    private void Answer(in NbdRequestHeader header, int error, long receivedAt, Span<byte> reply)
    {
        if (_counting && NbdExport.CountedAs(header.Command) is { } operation)
        {
            _counters.Record(operation, header.Length, error != NbdError.None, ElapsedNanoseconds(receivedAt));
        }

        NbdSimpleReply.Write(reply, error, header.Cookie);
    }

    private static long ElapsedNanoseconds(long since) =>
        (long)((Stopwatch.GetTimestamp() - since) * (1_000_000_000.0 / Stopwatch.Frequency));

    private void Release(NbdRequest request)
    {
        request.ReturnLargeBuffer(_largePayloads);
        _requests.Return(request);
        _slots.Release();
    }
}
