using Dmp.Nbd;
using Dmp.Native;
using Dmp.Stats;
using Dmp.Storage;
using Tmds.Linux;

namespace Dmp.Daemon;

/// <summary>A device passed between daemons: adopted from one that handed over (<c>dmp restart</c>), stopped for a
/// hand-over and resumed if it did not happen, or let go for the next daemon to take over.</summary>
internal sealed partial class ServedDevice
{
    /// <summary>
    /// Serves a device another daemon handed over on the sockets it passed, with no request lost or answered twice and
    /// nothing the kernel sees: what the old daemon read and did not serve is served first, the counters go on.
    /// </summary>
    public static ServedDevice Adopt(
        KernelAttachment kernel, DeviceRecord record, IBackingStore store, ModuleStatistics statistics, List<FileDescriptor> sockets, IReadOnlyList<byte[]> unread) =>
        Serve(kernel, record.Index, store, statistics, OriginOf(record), sockets, fresh: false, unread);

    /// <summary>
    /// Begins handing the device over to another daemon (<c>dmp restart</c>): each connection stops before the next
    /// request it has not begun, once every request it began is answered. <see cref="HandOverSockets"/> then gives
    /// its sockets; <see cref="Resume"/> takes it back.
    /// </summary>
    public void BeginHandOver()
    {
        StopReplacing();
        _connections.ForEach(connection => connection.RequestHandOver());
    }

    /// <summary>Whether every connection has stopped for the hand-over, waiting until <paramref name="deadline"/> at most.</summary>
    public bool AwaitHandOver(DateTime deadline) => _connections.TrueForAll(connection =>
        connection.Completion.Wait(Max(deadline - DateTime.UtcNow, TimeSpan.Zero)) && connection.Completion.Result == NbdConnection.HandedOverReason);

    /// <summary>Copies of the sockets, and what was read of each and not served, once every connection stopped.</summary>
    public IReadOnlyList<(FileDescriptor Socket, byte[] Unread)> HandOverSockets() =>
        [.. _connections.Select(connection => (FileDescriptor.FromResult(LibC.dup(connection.Socket), "dup"), connection.Unread.ToArray()))];

    /// <summary>After a hand-over that did not happen: every connection serves on as before, those that stopped on their
    /// sockets and from what they had read.</summary>
    public void Resume(Action<string> log)
    {
        for (int number = 0; number < _connections.Count; number++)
        {
            NbdConnection stopped = _connections[number];
            stopped.CancelHandOver();
            if (stopped.Completion.IsCompleted && stopped.Completion.Result == NbdConnection.HandedOverReason)
            {
                var resumed = new NbdConnection(
                    ConnectionName(Name, number), FileDescriptor.FromResult(LibC.dup(stopped.Socket), "dup"), Export, received: stopped.Unread);
                stopped.Dispose();
                _connections[number] = resumed;
                Start(resumed, log);
            }
        }

        _detaching = false;
    }

    /// <summary>
    /// Lets go of the device without disconnecting it, as a daemon that dies does: its sockets close, so the kernel
    /// holds its IO for the next daemon; the store and the counters are closed, and kept where they are.
    /// </summary>
    public void LetGo(Action<string> log)
    {
        StopReplacing();
        if (Unanswered(DateTime.UtcNow + UnansweredTimeout, storeInUse: false, log) is { } unanswered)
        {
            log($"{unanswered}; it stays open until it answers");
            return;
        }

        _connections.ForEach(connection => connection.Dispose());
        Export.Store.Dispose();
        Statistics.Dispose();
    }
}
