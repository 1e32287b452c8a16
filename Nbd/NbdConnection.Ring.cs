using System.Diagnostics;
using Dmp.Native;
using Dmp.Native.IoUring;
using Tmds.Linux;

namespace Dmp.Nbd;

/// <summary>
/// The io_uring path (<see cref="NbdRequestPath.Ring"/>): one thread receives requests, starts them on the
/// connection's ring, and answers each as its completion arrives, batching the replies as the inline
/// path does. Only that thread touches the ring, the counters and the reply batch, so nothing is locked.
/// When it has nothing to do it sleeps in the ring, on whichever comes first: a completion, or the
/// socket becoming readable (a poll on the ring). The few requests the ring does not carry (a block
/// device's TRIM, a TRIM or WRITE_ZEROES with FUA, one the ring could not finish) run on the thread
/// pool and come back through an eventfd whose read is queued on the same ring.
/// </summary>
internal sealed partial class NbdConnection
{
    /// <summary>Submission entries: every request in flight, the socket poll and the counter read, with room to spare.</summary>
    private const uint RingEntries = 2 * MaxInFlight;

    /// <summary>Read replies up to this size are copied into the reply batch; larger ones go out from their own buffer.</summary>
    private const int CopiedReadLimit = 16 * 1024;

    private const ulong SocketReadableToken = ulong.MaxValue;
    private const ulong WorkersFinishedToken = ulong.MaxValue - 1;

    private readonly IoRing? _ring;

    /// <summary>Signalled by a worker that has finished a request for this connection.</summary>
    private readonly EventCounter? _finishedWake;

    /// <summary>Where the ring reads <see cref="_finishedWake"/>'s counter to: memory that does not move.</summary>
    private readonly NativeBuffer _ringWords = new(sizeof(ulong));

    /// <summary>Requests workers have finished, newest first; pushed by them, taken whole by the receiver.</summary>
    private NbdRequest? _finished;
    private int _onRing;
    private int _onWorkers;
    private bool _socketPollQueued;
    private bool _counterReadQueued;

    private static IoRing? TryCreateRing()
    {
        try
        {
            return IoRing.Unavailable is null ? IoRing.Create(RingEntries) : null;
        }
        catch (NativeException)
        {
            return null; // e.g. out of locked memory on an old kernel: the thread pool serves all the same
        }
    }

    /// <summary>Takes a request for <paramref name="header"/>, receives its payload and starts it.</summary>
    /// <returns>0, or the errno of receiving a write's payload.</returns>
    private int Start(in NbdRequestHeader header, long receivedAt)
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

        Enter(header.Command);
        int error = Export.Validate(header);
        if (error != NbdError.None || Export.TryReadNow(header, request.Payload))
        {
            Finish(request, error);
        }
        else if (Export.TryStart(_ring!, header, request.Payload, (ulong)request.Id))
        {
            _onRing++;
        }
        else
        {
            HandToWorker(request);
        }

        return 0;
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

    /// <summary>Receives until <paramref name="count"/> bytes are buffered, answering what completes in the meantime.</summary>
    private int ReceiveAlongsideRing(int count)
    {
        long pollTicks = (long)(PollBeforeSleep.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            // What the last receive brought goes to the device in one submit, and what has finished goes out in one send.
            _ = _ring!.Submit();
            AnswerCompleted();
            long pollUntil = Stopwatch.GetTimestamp() + pollTicks;
            do
            {
                int status = _input.TryFill(count);
                if (status != LibC.EAGAIN)
                {
                    return status;
                }

                AnswerCompleted();
            }
            while (Stopwatch.GetTimestamp() < pollUntil);

            AwaitCompletions(socket: true);
        }
    }

    /// <summary>Sleeps in the ring until something completes (or, with <paramref name="socket"/>, the socket is readable), then answers it.</summary>
    private void AwaitCompletions(bool socket)
    {
        if (socket && !_socketPollQueued)
        {
            _ring!.NextSubmission().PreparePollIn(_socket.Value, SocketReadableToken);
            _socketPollQueued = true;
        }

        QueueCounterRead();
        _ = _ring!.SubmitAndWait(1); // EINTR and the like: the caller looks again either way
        AnswerCompleted();
    }

    /// <summary>Waits for every request in flight to be answered, when the connection ends.</summary>
    private void AwaitAllOnRing()
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
        while (_ring!.TryTakeCompletion(out IoUringCompletionEntry completion))
        {
            switch (completion.UserData)
            {
                case SocketReadableToken:
                    _socketPollQueued = false;
                    break;
                case WorkersFinishedToken:
                    _counterReadQueued = false;
                    break;
                default:
                    _onRing--;
                    Completed(_requestsById[(int)completion.UserData]!, completion.Result);
                    break;
            }
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

    private void Completed(NbdRequest request, int result)
    {
        if (NbdExport.ErrorOf(request.Header, result) is int error)
        {
            Finish(request, error);
        }
        else
        {
            HandToWorker(request);
        }
    }

    /// <summary>Counts a request, adds its reply (and a read's data) to the batch, and recycles it.</summary>
    private void Finish(NbdRequest request, int error)
    {
        NbdRequestHeader header = request.Header;
        bool sendsData = header.Command == NbdCommand.Read && error == NbdError.None;
        int copied = sendsData && header.Length <= CopiedReadLimit ? (int)header.Length : 0;
        Span<byte> reply = _output.GetSpan(NbdProtocol.SimpleReplyLength + copied);
        Answer(header, error, request.ReceivedAt, reply);
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

    /// <summary>Runs a request the ring does not carry on the thread pool; it comes back through <see cref="HandBack"/>.</summary>
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

        _finishedWake!.Signal();
    }

    /// <summary>While workers have requests, a read of their counter waits on the ring, so that their finishing wakes this thread.</summary>
    private unsafe void QueueCounterRead()
    {
        if (_onWorkers > 0 && !_counterReadQueued)
        {
            fixed (byte* word = _ringWords.Span)
            {
                _ring!.NextSubmission().PrepareRead(_finishedWake!.Descriptor, word, sizeof(ulong), 0, WorkersFinishedToken);
            }

            _counterReadQueued = true;
        }
    }
}
