using System.Diagnostics;
using Dmp.Native;
using Tmds.Linux;

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
            if (_ring is not null)
            {
                AwaitAllOnRing();
            }

            for (int i = 0; i < MaxInFlight; i++)
            {
                _slots.Wait();
            }

            if (_inline)
            {
                _output.Flush();
            }

            failure ??= SendFailure;
            _completion.TrySetResult(failure);
        }

        return failure;
    }

    /// <returns>Null when the peer ended the connection properly, otherwise why it was ended.</returns>
    private string? ReceiveRequests()
    {
        while (true)
        {
            int status = Receive(NbdProtocol.RequestHeaderLength);
            if (status != 0)
            {
                return status == StreamSocket.EndOfStream ? null : $"receive failed: {Errno.Describe(status)}";
            }

            if (!NbdRequestHeader.TryRead(_input.Buffered, out NbdRequestHeader header))
            {
                return "bad request magic";
            }

            long receivedAt = _counting ? Stopwatch.GetTimestamp() : 0;
            _input.Consume(NbdProtocol.RequestHeaderLength);
            if (header.Command == NbdCommand.Disconnect)
            {
                return null;
            }

            if (header.Command == NbdCommand.Write && header.Length > NbdProtocol.MaxPayloadLength)
            {
                // The payload cannot be skipped safely, so the protocol lets the server drop the connection.
                return $"write of {header.Length} bytes exceeds the {NbdProtocol.MaxPayloadLength}-byte limit";
            }

            status = _inline ? ServeInline(header, receivedAt) : _ring is not null ? Start(header, receivedAt) : Dispatch(header, receivedAt);
            if (status != 0)
            {
                return $"receive failed in a write payload: {Errno.Describe(status == StreamSocket.EndOfStream ? LibC.EPIPE : status)}";
            }

            if (_output.Error != 0)
            {
                return SendFailure;
            }
        }
    }

    /// <summary>Receives until <paramref name="count"/> bytes are buffered. When the client has sent
    /// nothing more for now, the replies gathered so far go out first: it may be waiting for them.</summary>
    private int Receive(int count)
    {
        int status = _input.TryFill(count);
        if (status != LibC.EAGAIN)
        {
            return status;
        }

        if (_ring is not null)
        {
            return ReceiveAlongsideRing(count);
        }

        if (_inline)
        {
            _output.Flush();
        }

        return _input.Fill(count);
    }

    /// <summary>Carries out a request on the receiving thread and adds its reply to the batch.</summary>
    /// <returns>0, or the errno of receiving a write's payload.</returns>
    private int ServeInline(in NbdRequestHeader header, long receivedAt)
    {
        const int replyLength = NbdProtocol.SimpleReplyLength;
        bool isRead = header.Command == NbdCommand.Read;
        bool isWrite = header.Command == NbdCommand.Write;
        int length = NbdRequest.PayloadLength(header);

        // The usual payload fits a batch: a write's is used where the receive left it, a read's lands in
        // the batch behind its reply header. A larger one moves straight between the socket and a memory
        // store's own memory, with no copy in between, or else gets a buffer of its own.
        bool fitsBatch = isWrite ? length <= _input.Capacity : replyLength + length <= _output.Capacity;
        Span<byte> payload = default;
        bool inPlace = !fitsBatch && Export.TryGetMemory(header, out payload);
        NbdRequest? large = fitsBatch || inPlace ? null : Take(header);
        if (large is not null)
        {
            payload = large.Payload;
        }

        if (isWrite && (fitsBatch ? Receive(length) : _input.ReadExactly(payload)) is int status and not 0)
        {
            if (large is not null)
            {
                Release(large);
            }

            return status;
        }

        int dataInBatch = isRead && fitsBatch ? length : 0;
        Span<byte> reply = _output.GetSpan(replyLength + dataInBatch);
        if (fitsBatch)
        {
            payload = isWrite ? _input.Buffered[..length] : reply.Slice(replyLength, dataInBatch);
        }

        Enter(header.Command);
        int error = inPlace ? NbdError.None : Export.Serve(header, payload);
        Answer(header, error, receivedAt, reply);
        bool succeeded = error == NbdError.None;
        _output.Advance(replyLength + (succeeded ? dataInBatch : 0));
        if (isWrite && fitsBatch)
        {
            _input.Consume(length);
        }

        if (isRead && !fitsBatch && succeeded)
        {
            _output.Send(payload);
        }

        if (large is not null)
        {
            Release(large);
        }

        return 0;
    }

    /// <summary>Hands a request to the thread pool, once its payload (if any) has been received.</summary>
    /// <returns>0, or the errno of receiving a write's payload.</returns>
    private int Dispatch(in NbdRequestHeader header, long receivedAt)
    {
        NbdRequest request = Take(header);
        request.ReceivedAt = receivedAt;
        if (header.Command == NbdCommand.Write)
        {
            int status = _input.ReadExactly(request.Payload);
            if (status != 0)
            {
                Release(request);
                return status;
            }
        }

        Enter(header.Command);
        ThreadPool.UnsafeQueueUserWorkItem(request, preferLocal: false);
        return 0;
    }

    /// <summary>A pooled request for <paramref name="header"/>, with room for its payload; waits while <see cref="MaxInFlight"/>
    /// are out, or while a large payload does not fit the <see cref="LargePayloadBudget"/>.</summary>
    private NbdRequest Take(in NbdRequestHeader header)
    {
        _slots.Wait();
        NativeBuffer? large;
        try
        {
            large = NbdRequest.IsLarge(header) ? _largePayloads.Rent(NbdRequest.PayloadLength(header)) : null;
        }
        catch
        {
            _slots.Release(); // e.g. no memory for a large payload: the slot must come back
            throw;
        }

        NbdRequest request = _requests.Get();
        request.Prepare(this, header, large);
        return request;
    }
}
