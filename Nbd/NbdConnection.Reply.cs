using Dmp.Faults;
using Dmp.Native;

namespace Dmp.Nbd;

internal sealed partial class NbdConnection
{
    /// <summary>Why sending failed, if it did; the receiver then only sees the end of stream it causes.</summary>
    private string? SendFailure => _output.Error is int error and not 0 ? $"send failed: {Errno.Describe(error)}" : null;

    /// <summary>On a worker, once it has carried a request out: hands it back to the receiver, which answers it and
    /// recycles it. Only the receiver sends, so a client that does not read its replies stops that one thread (which then
    /// stops reading), never the pool's workers.</summary>
    internal void Complete(NbdRequest request, int error) => HandBack(request, error);

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
