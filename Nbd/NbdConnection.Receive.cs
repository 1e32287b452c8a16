using System.Diagnostics;
using Dmp.Native;

namespace Dmp.Nbd;

internal sealed partial class NbdConnection
{
    private string? ReceiveLoop()
    {
        string? failure = null;
        try
        {
            failure = ReceiveRequests();
        }
        catch (Exception exception)
        {
            // Nothing a peer sends may take the daemon down; the connection ends instead.
            failure = $"receiver failed: {exception.Message}";
        }
        finally
        {
            // Every reply still owed is sent (or fails) before the connection counts as finished.
            for (int i = 0; i < MaxInFlight; i++)
            {
                _slots.Wait();
            }

            failure ??= SendFailure;
            _completion.TrySetResult(failure);
        }

        return failure;
    }

    /// <returns>Null when the peer ended the connection properly, otherwise why it was ended.</returns>
    private string? ReceiveRequests()
    {
        Span<byte> headerBytes = stackalloc byte[NbdProtocol.RequestHeaderLength];
        while (true)
        {
            int status = StreamSocket.ReceiveExactly(_socket.Value, headerBytes);
            if (status != 0)
            {
                return status == StreamSocket.EndOfStream ? null : $"receive failed: {Errno.Describe(status)}";
            }

            if (!NbdRequestHeader.TryRead(headerBytes, out NbdRequestHeader header))
            {
                return "bad request magic";
            }

            if (header.Command == NbdCommand.Disconnect)
            {
                return null;
            }

            if (header.Command == NbdCommand.Write && header.Length > NbdProtocol.MaxPayloadLength)
            {
                // The payload cannot be skipped safely, so the protocol lets the server drop the connection.
                return $"write of {header.Length} bytes exceeds the {NbdProtocol.MaxPayloadLength}-byte limit";
            }

            _slots.Wait();
            NbdRequest request = _requests.Get();
            try
            {
                request.Prepare(this, header);
                if (header.Command == NbdCommand.Write)
                {
                    status = StreamSocket.ReceiveExactly(_socket.Value, request.Payload);
                    if (status != 0)
                    {
                        Release(request);
                        return $"receive failed in a write payload: {Errno.Describe(status == StreamSocket.EndOfStream ? Tmds.Linux.LibC.EPIPE : status)}";
                    }
                }
            }
            catch
            {
                Release(request); // e.g. no memory for a large payload: the slot must come back
                throw;
            }

            if (_counting && request.Operation is { } operation)
            {
                request.ReceivedAt = Stopwatch.GetTimestamp();
                _counters.Enter(operation);
            }

            ThreadPool.UnsafeQueueUserWorkItem(request, preferLocal: false);
        }
    }
}
