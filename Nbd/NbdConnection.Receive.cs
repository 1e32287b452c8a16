using Dmp.Faults;
using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Nbd;

internal sealed partial class NbdConnection
{
    /// <summary>What <see cref="Receive"/> returns when a hand-over stops the receiver.</summary>
    private const int HandedOver = -3;

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
            // Every reply still owed is sent (or fails) before the connection counts as finished; requests
            // a fault rule delays need not keep it waiting.
            DelayTimer.Expedite(item => item is NbdRequest request && request.IsFor(this));
            AwaitAll();

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
        while (true)
        {
            int status = Receive(NbdProtocol.RequestHeaderLength, atBoundary: true);
            if (status == HandedOver)
            {
                _handedOver = true;
                return HandedOverReason;
            }

            if (status != 0)
            {
                return status == StreamSocket.EndOfStream ? null : $"receive failed: {Errno.Describe(status)}";
            }

            if (!NbdRequestHeader.TryRead(_input.Buffered, out NbdRequestHeader header))
            {
                return "bad request magic";
            }

            long receivedAt = _chain.Arrived();
            _input.Consume(NbdProtocol.RequestHeaderLength);
            if (header.Command == NbdCommand.Disconnect)
            {
                _disconnectRequested = true;
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

    /// <summary>
    /// Receives until <paramref name="count"/> bytes are buffered. When the client has sent nothing more for now, the
    /// replies gathered so far go out first: it may be waiting for them. Asleep, the thread also wakes for what
    /// workers hand back and for a hand-over.
    /// </summary>
    /// <param name="atBoundary">No request is begun: a hand-over may stop here, once every request in flight is answered.</param>
    /// <returns>0, <see cref="HandedOver"/>, or as <see cref="SocketReader.Fill(int)"/>.</returns>
    private int Receive(int count, bool atBoundary = false)
    {
        int status = _input.TryFill(count);
        if (status != LibC.EAGAIN)
        {
            return status;
        }

        if (_ring is not null)
        {
            return ReceiveAlongsideRing(count, atBoundary);
        }

        while (true)
        {
            AnswerCompleted(); // and sends the batch

            if (atBoundary && _handOver)
            {
                return HandedOver;
            }

            status = _input.Fill(count, _wake.Descriptor);
            if (status != SocketReader.Woken)
            {
                return status;
            }

            _wake.Wait(); // readable: this does not block
        }
    }

    /// <summary>Carries out a request on the receiving thread and adds its reply to the batch; one a fault rule delays waits elsewhere.</summary>
    /// <returns>0, or the errno of receiving a write's payload.</returns>
    private int ServeInline(in NbdRequestHeader header, long receivedAt)
    {
        FaultDecision fault = _chain.Decide(header);
        if (fault.Action == FaultAction.Delay)
        {
            return Postpone(header, receivedAt, fault);
        }

        const int replyLength = NbdProtocol.SimpleReplyLength;
        bool isRead = header.Command == NbdCommand.Read;
        bool isWrite = header.Command == NbdCommand.Write;
        int length = NbdRequest.PayloadLength(header);

        // The usual payload fits a batch: a write's is used where the receive left it, a read's lands in
        // the batch behind its reply header. A larger one moves straight between the socket and a memory
        // store's own memory, with no copy in between (unless a fault rule is to drop or corrupt it), or
        // else gets a buffer of its own.
        bool fitsBatch = isWrite ? length <= _input.Capacity : replyLength + length <= _output.Capacity;
        Span<byte> payload = default;
        bool inPlace = !fitsBatch && fault.Action == FaultAction.None && Export.TryGetMemory(header, out payload);
        NbdRequest? large = fitsBatch || inPlace ? null : TakeWithoutBlocking(header);
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

        _chain.Enter(header.Command);
        int error = inPlace ? NbdError.None : Export.Serve(header, payload, fault);
        Answer(header, error, receivedAt, fault, reply, isRead ? payload : default);
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

    /// <summary>Hands a request to the thread pool (or, if a fault rule delays it, to the <see cref="DelayTimer"/>),
    /// once its payload (if any) has been received. It comes back to this thread to be answered (<see cref="HandBack"/>).</summary>
    /// <returns>0, or the errno of receiving a write's payload.</returns>
    private int Dispatch(in NbdRequestHeader header, long receivedAt)
    {
        NbdRequest request = TakeWithoutBlocking(header);
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

        _chain.Enter(header.Command);
        request.Fault = _chain.Decide(header);
        if (request.Fault.Action == FaultAction.Delay)
        {
            Postpone(request);
        }
        else
        {
            HandToWorker(request);
        }

        return 0;
    }
}
