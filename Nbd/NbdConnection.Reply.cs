using Dmp.Faults;
using Dmp.Native;

namespace Dmp.Nbd;

internal sealed partial class NbdConnection
{
    private readonly Lock _sendLock = new();

    /// <summary>Why sending failed, if it did; the receiver then only sees the end of stream it causes.</summary>
    private string? SendFailure => _output.Error is int error and not 0 ? $"send failed: {Errno.Describe(error)}" : null;

    /// <summary>On a worker, once it has carried a request out: on the thread-pool path, sends the reply and recycles
    /// the request; where the receiver answers (inline and io_uring), hands it back to the receiver, which does both.</summary>
    internal void Complete(NbdRequest request, int error)
    {
        if (_inline || _ring is not null)
        {
            HandBack(request, error);
            return;
        }

        NbdRequestHeader header = request.Header;
        Span<byte> data = header.Command == NbdCommand.Read && error == NbdError.None ? request.Payload : default;
        lock (_sendLock)
        {
            // Under the send lock, this connection's counters have one writer at a time.
            if (_output.Error == 0)
            {
                Answer(header, error, request.ReceivedAt, request.Fault, _output.GetSpan(NbdProtocol.SimpleReplyLength), data);
                _output.Advance(NbdProtocol.SimpleReplyLength);
                if (_output.Send(data) != 0)
                {
                    Abort(); // wakes the receiver, which then ends the connection
                }
            }
            else
            {
                _chain.Abandon(header.Command); // its reply can no longer be sent
            }
        }

        Release(request);
    }

    /// <summary>
    /// Passes a finished request back through the chain (a fault rule's corruption of a read, the count, the trace)
    /// and writes its reply header. This comes before the reply is sent, so a client that has its answer also
    /// finds it counted; a reply then lost with the connection stays counted, as the kernel counts the request it
    /// fails for want of one.
    /// </summary>
    /// <param name="readData">A READ's data, about to be sent; empty otherwise.</param>
    private void Answer(in NbdRequestHeader header, int error, long receivedAt, in FaultDecision fault, Span<byte> reply, Span<byte> readData)
    {
        _chain.Complete(header, error, receivedAt, fault, readData);
        NbdSimpleReply.Write(reply, error, header.Cookie);
    }

    private void Release(NbdRequest request)
    {
        request.ReturnLargeBuffer(_largePayloads);
        _requests.Return(request);
        _slots.Release();
    }
}
