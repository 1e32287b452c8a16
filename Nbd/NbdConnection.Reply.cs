using System.Diagnostics;
using Dmp.Native;
using Dmp.Stats;

namespace Dmp.Nbd;

internal sealed partial class NbdConnection
{
    private readonly Lock _sendLock = new();
    private int _sendError;

    /// <summary>Why sending failed, if it did; the receiver then only sees the end of stream it causes.</summary>
    private string? SendFailure => Volatile.Read(ref _sendError) is int error and not 0 ? $"send failed: {Errno.Describe(error)}" : null;

    /// <summary>Sends the reply to a finished request, counts it, and recycles it.</summary>
    internal void Complete(NbdRequest request, int error)
    {
        NbdRequestHeader header = request.Header;
        Span<byte> reply = stackalloc byte[NbdProtocol.SimpleReplyLength];
        NbdSimpleReply.Write(reply, error, header.Cookie);
        ReadOnlySpan<byte> data = header.Command == NbdCommand.Read && error == NbdError.None ? request.Payload : default;
        IoOperation? operation = _counting ? request.Operation : null;
        bool failed = error != NbdError.None;
        long nanoseconds = operation is null ? 0 : ElapsedNanoseconds(request.ReceivedAt);
        lock (_sendLock)
        {
            // Counting under the send lock makes this connection's shard single-writer. The count comes
            // before the reply, so a client that has its answer also finds it counted.
            if (_sendError == 0)
            {
                if (operation is { } counted)
                {
                    _counters.Record(counted, header.Length, failed, nanoseconds);
                }

                int status = StreamSocket.SendAll(_socket.Value, reply, data);
                if (status != 0)
                {
                    if (operation is { } unanswered)
                    {
                        _counters.Retract(unanswered, header.Length, failed, nanoseconds);
                    }

                    Volatile.Write(ref _sendError, status);
                    Abort();
                }
            }
            else if (operation is { } unanswered)
            {
                _counters.Leave(unanswered);
            }
        }

        Release(request);
    }

    private static long ElapsedNanoseconds(long since) =>
        (long)((Stopwatch.GetTimestamp() - since) * (1_000_000_000.0 / Stopwatch.Frequency));

    private void Release(NbdRequest request)
    {
        _requests.Return(request);
        _slots.Release();
    }
}
