using Dmp.Chain;
using Dmp.Native;
using Microsoft.Extensions.ObjectPool;

namespace Dmp.Nbd;

/// <summary>
/// The transmission phase on one connected stream socket, served by a thread of its own that reads
/// requests in batches (<see cref="SocketReader"/>) and answers them in batches (<see cref="SocketWriter"/>).
/// A store that only touches memory is served inline on that thread: no hand-off, and one send for all
/// the replies to what one receive brought. A store that may block (a file, a disk) has its requests
/// started on the connection's own io_uring and answered, on the same thread, as the device completes
/// them (<see cref="NbdRequestPath.Ring"/>); where io_uring is not to be had, each request is queued to the
/// thread pool instead, so that many wait on the device at once, and comes back to that thread to be answered.
/// Only that thread sends: a client that does not read its replies holds it up alone (it stops reading from
/// the client), never the pool's workers. Replies may go out in any
/// order, as the protocol allows. Each connection pools its own requests. Every request passes the
/// device's <see cref="RequestChain"/> (counting, faults, the trace) on its way to the store and back.
/// </summary>
internal sealed partial class NbdConnection : IDisposable
{
    /// <summary>What <see cref="Completion"/> ends with after <see cref="RequestHandOver"/>.</summary>
    public const string HandedOverReason = "handed over";

    /// <summary>Requests one connection may have in flight; the receiver waits when this many are.</summary>
    public const int MaxInFlight = 128;

    /// <summary>Bytes one connection's large payloads may hold, in flight and kept for reuse (<see cref="NbdLargePayloadPool"/>).</summary>
    public const int LargePayloadBudget = 16 << 20;

    /// <summary>Room for a depth-32 batch of 4 KiB requests or replies, in one receive or one send.</summary>
    private const int BatchCapacity = 256 * 1024;

    /// <summary>How long the receiver polls an idle socket before it sleeps: about one round trip of a lone 4 KiB request.</summary>
    private static readonly TimeSpan PollBeforeSleep = TimeSpan.FromMicroseconds(50);

    private readonly FileDescriptor _socket;
    private readonly SocketReader _input;
    private readonly SocketWriter _output;
    private readonly bool _inline;
    private readonly NbdRequest?[] _requestsById = new NbdRequest?[MaxInFlight];
    private readonly ObjectPool<NbdRequest> _requests;
    private readonly RequestChain _chain;
    private readonly SemaphoreSlim _slots = new(MaxInFlight, MaxInFlight);
    private readonly NbdLargePayloadPool _largePayloads = new(LargePayloadBudget);
    private readonly TaskCompletionSource<string?> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes the receiver where it sleeps: signalled by a worker that finished a request for it, or by a hand-over.</summary>
    private readonly EventCounter _wake = new();
    private volatile bool _handOver;

    /// <summary>The receiver stopped for a hand-over: the socket is another's to serve, and must not be shut down.</summary>
    private volatile bool _handedOver;
    private volatile bool _disconnectRequested;
    private Thread? _receiver;

    /// <param name="name">Names the receiving thread, for debuggers and logs.</param>
    /// <param name="allowRing">False serves a store that may block on the thread pool even where io_uring is to be had.</param>
    /// <param name="received">Bytes of requests already read from the socket (by the daemon that handed it over), to serve first.</param>
    public NbdConnection(string name, FileDescriptor socket, NbdExport export, bool allowRing = true, ReadOnlySpan<byte> received = default)
    {
        Name = name;
        _socket = socket;
        Export = export;
        _input = new SocketReader(socket.Value, BatchCapacity, PollBeforeSleep);
        _input.Prefill(received);
        _output = new SocketWriter(socket.Value, BatchCapacity);
        _requests = NbdRequestPoolPolicy.CreatePool(_requestsById);
        _inline = !export.Store.MayBlock;
        _ring = !_inline && allowRing ? TryCreateRing(export.Store) : null;
        _chain = new RequestChain(export, export.NumberConnection());
    }

    public string Name { get; }

    public NbdRequestPath Path => _inline ? NbdRequestPath.Inline : _ring is not null ? NbdRequestPath.Ring : NbdRequestPath.ThreadPool;

    public NbdExport Export { get; }

    /// <summary>Completes when the connection has ended and every reply it owed has been sent or failed:
    /// with null after a clean end (NBD_CMD_DISC or the peer closing), otherwise with the reason.</summary>
    public Task<string?> Completion => _completion.Task;

    /// <summary>Serves the connection on a thread of its own.</summary>
    public void Start()
    {
        _receiver = new Thread(() => ReceiveLoop()) { IsBackground = true, Name = $"{Name} receiver" };
        _receiver.Start();
    }

    /// <summary>Serves the connection on the calling thread until it ends.</summary>
    /// <returns>Why it ended, or null after a clean end (the same as <see cref="Completion"/>).</returns>
    public string? Run() => ReceiveLoop();

    /// <summary>Ends the connection now: the receiver stops and replies not yet sent are dropped. A connection handed
    /// over is left alone: its socket is another's to serve.</summary>
    public void Abort()
    {
        if (!_handedOver)
        {
            StreamSocket.Shutdown(_socket.Value);
        }
    }

    /// <summary>
    /// Asks the receiver to stop before the next request it has not begun, once every request it began is answered,
    /// leaving the socket open: another daemon then goes on serving it (<see cref="Socket"/>, <see cref="Unread"/>), and
    /// its peer sees nothing happen. <see cref="Completion"/> then ends with <see cref="HandedOverReason"/>.
    /// </summary>
    public void RequestHandOver()
    {
        _handOver = true;
        _wake.Signal();
    }

    /// <summary>Takes back a <see cref="RequestHandOver"/> that has not yet stopped the receiver.</summary>
    public void CancelHandOver() => _handOver = false;

    /// <summary>The peer ended the connection with NBD_CMD_DISC: it is done with the export. The kernel's nbd client sends
    /// one on each live socket when the device is disconnected, and none on a socket it gives up.</summary>
    public bool DisconnectRequested => _disconnectRequested;

    /// <summary>Requests answered (and counted) whose replies did not reach the peer, once the connection has ended: the
    /// socket failed under them. The kernel sends such a request again on another socket, if it has one.</summary>
    public long RepliesLost => _output.Lost;

    /// <summary>The socket, for handing over once the receiver stopped; it stays this connection's to close.</summary>
    public int Socket => _socket.Value;

    /// <summary>Bytes read from the socket and not yet served, once the receiver stopped for a hand-over: requests the next daemon serves first.</summary>
    public ReadOnlySpan<byte> Unread => _input.Buffered;

    /// <summary>Ends the connection and waits for the requests in flight to finish.</summary>
    /// <returns>False when some are still running after <paramref name="timeout"/> (a store that hangs): the
    /// connection must then neither be disposed nor its store closed, since a worker still uses both.</returns>
    public bool Drain(TimeSpan timeout)
    {
        Abort();
        return Completion.Wait(timeout);
    }

    /// <summary>Releases the socket and buffers once the connection has ended (after <see cref="Run"/> or a <see cref="Drain"/> that succeeded).</summary>
    public void Dispose()
    {
        Abort();
        _receiver?.Join();
        _chain.Dispose();
        _socket.Dispose();
        _slots.Dispose();
        _input.Dispose();
        _output.Dispose();
        _ring?.Dispose(); // the receiver waited for every request: only its socket poll and counter read may be left, both cancelled
        _wake.Dispose();
        _ringWords.Dispose();
        (_requests as IDisposable)?.Dispose();
        _largePayloads.Dispose();
    }
}
