using System.Diagnostics;
using Dmp.Faults;
using Dmp.Native;
using Dmp.Native.IoUring;
using Dmp.Storage;
using Tmds.Linux;

namespace Dmp.Nbd;

/// <summary>
/// The io_uring path (<see cref="NbdRequestPath.Ring"/>): one thread receives requests, starts them on the
/// connection's ring, and answers each as its completion arrives, batching the replies as the inline
/// path does. Only that thread touches the ring, the counters and the reply batch, so nothing is locked.
/// When it has nothing to do it sleeps in the ring, on whichever comes first: a completion, or the
/// socket becoming readable (a poll on the ring). The few requests the ring does not carry (a block
/// device's TRIM, a TRIM or WRITE_ZEROES with FUA, one the ring could not finish) run on the thread
/// pool and come back through an eventfd whose read is queued on the same ring
/// (<c>NbdConnection.HandOff.cs</c>), as do requests a fault rule delays.
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

    /// <summary>Where the ring reads <see cref="_wake"/>'s counter to: memory that does not move.</summary>
    private readonly NativeBuffer _ringWords = new(sizeof(ulong));

    private int _onRing;
    private bool _socketPollQueued;
    private bool _counterReadQueued;

    private static IoRing? TryCreateRing(IBackingStore store)
    {
        try
        {
            IoRing? ring = IoRing.Unavailable is null ? IoRing.Create(RingEntries) : null;
            if (ring is not null && store is IRingStore ringStore)
            {
                _ = ring.RegisterFiles(ringStore.Descriptors); // refused, the descriptors serve as they are
            }

            return ring;
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

        _chain.Enter(header.Command);
        int error = Export.Validate(header);
        request.Fault = error == NbdError.None ? _chain.Decide(header) : default;
        if (error != NbdError.None || request.Fault.Answers)
        {
            Finish(request, error != NbdError.None ? error : Export.Serve(header, request.Payload, request.Fault));
        }
        else if (request.Fault.Action == FaultAction.Delay)
        {
            Postpone(request);
        }
        else if (Export.TryReadNow(header, request.Payload))
        {
            Finish(request, NbdError.None);
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

    /// <summary>Receives until <paramref name="count"/> bytes are buffered, answering what completes in the meantime.</summary>
    /// <param name="atBoundary">No request is begun: a hand-over may stop here, once every request in flight is answered.</param>
    private int ReceiveAlongsideRing(int count, bool atBoundary)
    {
        long pollTicks = (long)(PollBeforeSleep.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            // What the last receive brought goes to the device in one submit, and what has finished goes out in one send.
            _ = _ring!.Submit();
            AnswerCompleted();
            if (atBoundary && _handOver)
            {
                return HandedOver;
            }

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

    /// <summary>Sleeps in the ring until something completes (or, with <paramref name="socket"/>, the socket is readable).</summary>
    private void AwaitRing(bool socket)
    {
        if (socket && !_socketPollQueued)
        {
            _ring!.NextSubmission().PreparePollIn(_socket.Value, SocketReadableToken);
            _socketPollQueued = true;
        }

        QueueCounterRead();
        _ = _ring!.SubmitAndWait(1); // EINTR and the like: the caller looks again either way
    }

    /// <summary>Answers every request the ring has completed (into the batch; <see cref="AnswerCompleted"/> sends it).</summary>
    private void AnswerRingCompletions()
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

    /// <summary>A read of <see cref="_wake"/> waits on the ring, so that a worker finishing (or a hand-over) wakes this thread.</summary>
    private unsafe void QueueCounterRead()
    {
        if (!_counterReadQueued)
        {
            fixed (byte* word = _ringWords.Span)
            {
                _ring!.NextSubmission().PrepareRead(_wake.Descriptor, word, sizeof(ulong), 0, WorkersFinishedToken);
            }

            _counterReadQueued = true;
        }
    }
}
