using System.Diagnostics;
using Dmp.Native.Fuse;
using Tmds.Linux;

namespace Dmp.Sysfs;

/// <summary>
/// Streams (<see cref="SysfsStream"/>): a read waits until its stream has something. The one FUSE thread must not
/// wait, so such a read is parked, and the thread looks at the parked reads every <see cref="StreamTick"/> while
/// there are any, answering each with whatever its stream has by then. A reader that gives up (a signal, Ctrl-C)
/// makes the kernel send INTERRUPT, answered at once with EINTR; once the tree is unmounted, reads end with end of file.
/// </summary>
internal sealed partial class FuseServer
{
    /// <summary>How long a parked read may wait for more: the trace's lines arrive at most this late.</summary>
    private static readonly TimeSpan StreamTick = TimeSpan.FromMilliseconds(10);

    private readonly Dictionary<ulong, ISysfsStreamReader> _openStreams = [];
    private readonly List<ParkedRead> _parkedReads = [];
    private long _nextTick;
    private volatile bool _streamsEnded;

    /// <summary>How long the thread may wait for a request before parked reads are due: infinite with none parked.</summary>
    private TimeSpan UntilParkedReadsAreDue()
    {
        if (_parkedReads.Count == 0)
        {
            return Timeout.InfiniteTimeSpan;
        }

        long now = Stopwatch.GetTimestamp();
        if (now >= _nextTick)
        {
            AnswerParkedReads();
            _nextTick = now + (long)(StreamTick.TotalSeconds * Stopwatch.Frequency);
        }

        return _parkedReads.Count == 0 ? Timeout.InfiniteTimeSpan : Stopwatch.GetElapsedTime(now, _nextTick);
    }

    private void OpenStream(in FuseInHeader header, SysfsStream stream, bool writes)
    {
        if (writes)
        {
            ReplyError(header, LibC.EACCES);
            return;
        }

        ulong handle = _nextFileHandle++;
        _openStreams[handle] = stream.Open();
        ReplyStruct(header, new FuseOpenOut
        {
            FileHandle = handle,
            OpenFlags = FuseOpenReplyFlags.DirectIo | FuseOpenReplyFlags.NonSeekable | FuseOpenReplyFlags.Stream,
        });
    }

    /// <summary>Answers at once when the stream can fill the read (or has ended), otherwise parks it.</summary>
    private void ReadStream(in FuseInHeader header, ISysfsStreamReader stream, ulong handle, int size)
    {
        if ((stream.CanFill(size) || _streamsEnded) && TryAnswer(header.Unique, stream, size))
        {
            return;
        }

        if (_parkedReads.Count == 0)
        {
            _nextTick = Stopwatch.GetTimestamp() + (long)(StreamTick.TotalSeconds * Stopwatch.Frequency);
        }

        _parkedReads.Add(new ParkedRead(header.Unique, handle, size));
    }

    /// <returns>False when the stream has nothing yet and has not ended: the read must wait.</returns>
    private bool TryAnswer(ulong unique, ISysfsStreamReader stream, int size)
    {
        int length = stream.Read(ReplyBody(size));
        if (length == 0 && !_streamsEnded)
        {
            return false;
        }

        SendReply(unique, 0, length);
        return true;
    }

    private void AnswerParkedReads() =>
        _parkedReads.RemoveAll(read => !_openStreams.TryGetValue(read.FileHandle, out ISysfsStreamReader? stream) || TryAnswer(read.Unique, stream, read.Size));

    /// <summary>The caller of a parked read gave up waiting: it ends with EINTR (the kernel waits for that answer).</summary>
    private void Interrupt(ulong unique)
    {
        if (_parkedReads.RemoveAll(read => read.Unique == unique) > 0)
        {
            Send(unique, -LibC.EINTR, []);
        }
    }

    private void ReleaseStream(ulong handle)
    {
        if (_openStreams.Remove(handle, out ISysfsStreamReader? stream))
        {
            stream.Dispose();
        }
    }

    /// <summary>A READ waiting for its stream.</summary>
    private readonly record struct ParkedRead(ulong Unique, ulong FileHandle, int Size);
}
