using Dmp.Faults;
using Dmp.Native;
using Tmds.Linux;

namespace Dmp.Nbd;

/// <summary>
/// Requests that the receiving thread answers although it did not carry them out itself: those a worker ran
/// (on the thread-pool path, all; on the io_uring path, what the ring does not carry) and those a fault rule delayed. Each
/// comes back on a list that workers push to, with a signal on an eventfd that wakes the receiver, which
/// then counts it, adds its reply to the batch and recycles it, as it does every request it serves.
/// </summary>
internal sealed partial class NbdConnection
{
    /// <summary>Requests workers have finished, newest first; pushed by them, taken whole by the receiver.</summary>
    private NbdRequest? _finished;

    /// <summary>Requests out with a worker or the <see cref="DelayTimer"/>; only the receiver counts them.</summary>
    private int _onWorkers;

    /// <summary>Takes a request a fault rule delays, with its payload, and leaves it with the <see cref="DelayTimer"/>:
    /// it is carried out on a worker once its time has come, and the requests behind it pass meanwhile.</summary>
    /// <returns>0, or the errno of receiving a write's payload.</returns>
    private int Postpone(in NbdRequestHeader header, long receivedAt, in FaultDecision fault)
    {
        NbdRequest request = TakeWithoutBlocking(header);
        request.ReceivedAt = receivedAt;
        request.Fault = fault;
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
        Postpone(request);
        return 0;
    }

    private void Postpone(NbdRequest request)
    {
        _onWorkers++;
        DelayTimer.Schedule(request, request.Fault.Delay);
    }

    /// <summary>Runs a request on the thread pool; it comes back through <see cref="HandBack"/>.</summary>
    private void HandToWorker(NbdRequest request)
    {
        _onWorkers++;
        ThreadPool.UnsafeQueueUserWorkItem(request, preferLocal: false);
    }

    /// <summary>On a worker: queues a finished request for the receiver, and wakes it.</summary>
    private void HandBack(NbdRequest request, int error)
    {
        request.Error = error;
        NbdRequest? head;
        do
        {
            head = Volatile.Read(ref _finished);
            request.NextFinished = head;
        }
        while (Interlocked.CompareExchange(ref _finished, request, head) != head);

        _wake.Signal();
    }

    /// <summary>A pooled request, taken once one is free and the large-payload budget has room: until then,
    /// this thread answers what completes (it is the one that frees them, so it must not block on them).</summary>
    private NbdRequest TakeWithoutBlocking(in NbdRequestHeader header)
    {
        while (_slots.CurrentCount == 0)
        {
            AwaitCompletions(socket: false);
        }

        NativeBuffer? large = null;
        while (NbdRequest.IsLarge(header) && !_largePayloads.TryRent(NbdRequest.PayloadLength(header), out large))
        {
            AwaitCompletions(socket: false);
        }

        _slots.Wait();
        NbdRequest request = _requests.Get();
        request.Prepare(this, header, large);
        return request;
    }

    /// <summary>Sleeps until something completes (or, with <paramref name="socket"/> on the ring, the socket is readable), then answers it.</summary>
    private void AwaitCompletions(bool socket)
    {
        if (_ring is not null)
        {
            AwaitRing(socket);
        }
        else
        {
            _wake.Wait();
        }

        AnswerCompleted();
    }

    /// <summary>Waits for every request out on the ring or with workers to be answered, when the connection ends.</summary>
    private void AwaitAll()
    {
        while (_onRing + _onWorkers > 0)
        {
            AwaitCompletions(socket: false);
        }

        _output.Flush();
    }

    /// <summary>Answers every request that has completed, on the ring or on a worker, and sends the replies.</summary>
    private void AnswerCompleted()
    {
        if (_ring is not null)
        {
            AnswerRingCompletions();
        }

        if (Volatile.Read(ref _finished) is not null)
        {
            for (NbdRequest? request = Interlocked.Exchange(ref _finished, null); request is not null;)
            {
                NbdRequest next = request.NextFinished!;
                _onWorkers--;
                Finish(request, request.Error);
                request = next;
            }
        }

        _output.Flush();
    }

    /// <summary>Passes a request back through the chain, adds its reply (and a read's data) to the batch, and recycles it.</summary>
    private void Finish(NbdRequest request, int error)
    {
        NbdRequestHeader header = request.Header;
        bool sendsData = header.Command == NbdCommand.Read && error == NbdError.None;
        int copied = sendsData && header.Length <= CopiedReadLimit ? (int)header.Length : 0;
        Span<byte> reply = _output.GetSpan(NbdProtocol.SimpleReplyLength + copied);
        Answer(header, error, request.ReceivedAt, request.Fault, reply, sendsData ? request.Payload : default);
        if (copied > 0)
        {
            request.Payload.CopyTo(reply[NbdProtocol.SimpleReplyLength..]);
        }

        _output.Advance(NbdProtocol.SimpleReplyLength + copied);
        if (sendsData && copied == 0)
        {
            _output.Send(request.Payload);
        }

        Release(request);
    }
}
