using Dmp.Native;

namespace Dmp.Nbd;

internal sealed partial class NbdConnection
{
    private readonly Lock _sendLock = new();
    private bool _sendFailed;

    /// <summary>Sends the reply to a finished request, counts it, and recycles it.</summary>
    internal void Complete(NbdRequest request, int error)
    {
        NbdRequestHeader header = request.Header;
        Span<byte> reply = stackalloc byte[NbdProtocol.SimpleReplyLength];
        NbdSimpleReply.Write(reply, error, header.Cookie);
        ReadOnlySpan<byte> data = header.Command == NbdCommand.Read && error == NbdError.None ? request.Payload : default;
        lock (_sendLock)
        {
            // Counting under the send lock makes this connection's shard single-writer.
            if (!_sendFailed)
            {
                if (StreamSocket.SendAll(_socket.Value, reply, data) == 0)
                {
                    if (NbdExport.CountedAs(header.Command) is { } operation)
                    {
                        _counters.Record(operation, header.Length, failed: error != NbdError.None);
                    }
                }
                else
                {
                    _sendFailed = true;
                    Abort();
                }
            }
        }

        Release(request);
    }

    private void Release(NbdRequest request)
    {
        _requests.Return(request);
        _slots.Release();
    }
}
