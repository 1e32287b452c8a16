using Dmp.Faults;
using Dmp.Native;

namespace Dmp.Nbd;

/// <summary>
/// The pooled state of one request in flight: its header and a pinned buffer for its data, its own
/// or, for a large payload, one rented from the connection's <see cref="NbdLargePayloadPool"/>.
/// Queued to the thread pool as is, so a request costs no allocation in steady state.
/// </summary>
internal sealed class NbdRequest : IThreadPoolWorkItem, IDisposable
{
    /// <summary>The buffer each request keeps: room for the payloads of all but large requests.</summary>
    public const int BufferCapacity = 128 * 1024;

    private readonly NativeBuffer _buffer = new(BufferCapacity);
    private NativeBuffer? _large;
    private NbdConnection? _connection;

    /// <param name="id">Its index among its connection's requests.</param>
    public NbdRequest(int id) => Id = id;

    /// <summary>Its index among its connection's requests: what its io_uring submissions carry as user data.</summary>
    public int Id { get; }

    public NbdRequestHeader Header { get; private set; }

    /// <summary>When the request's header was read (<see cref="System.Diagnostics.Stopwatch"/> ticks), for its service time.</summary>
    public long ReceivedAt { get; set; }

    /// <summary>What the device's fault rules make of it.</summary>
    public FaultDecision Fault { get; set; }

    /// <summary>The reply's error, once a worker has carried the request out for a connection that answers on its own thread.</summary>
    public int Error { get; set; }

    /// <summary>The next request in the connection's list of those workers have finished.</summary>
    public NbdRequest? NextFinished { get; set; }

    /// <summary>The request's data: what a WRITE carries, or what a READ returns.</summary>
    public Span<byte> Payload => (_large ?? _buffer).Slice(PayloadLength(Header));

    /// <summary>The bytes of data a request carries or asks for: none when it is neither a READ nor a WRITE, or too large to serve.</summary>
    public static int PayloadLength(in NbdRequestHeader header) =>
        header.Command is NbdCommand.Read or NbdCommand.Write && header.Length <= NbdProtocol.MaxPayloadLength
            ? (int)header.Length
            : 0;

    /// <summary>True when the request's payload does not fit its own buffer: it needs a large one.</summary>
    public static bool IsLarge(in NbdRequestHeader header) => PayloadLength(header) > BufferCapacity;

    /// <param name="large">The buffer rented for a payload over <see cref="BufferCapacity"/> (<see cref="IsLarge"/>), or null.</param>
    public void Prepare(NbdConnection connection, in NbdRequestHeader header, NativeBuffer? large)
    {
        _connection = connection;
        Header = header;
        _large = large;
    }

    /// <summary>Gives back the large buffer <see cref="Prepare"/> was given, if it was.</summary>
    public void ReturnLargeBuffer(NbdLargePayloadPool largePayloads)
    {
        if (_large is not null)
        {
            largePayloads.Return(_large, PayloadLength(Header));
            _large = null;
        }
    }

    /// <summary>Forgets the connection, so that a pooled request keeps nothing alive.</summary>
    public void Clear()
    {
        _connection = null;
        NextFinished = null;
        Fault = default;
    }

    public bool IsFor(NbdConnection connection) => _connection == connection;

    /// <summary>On a worker: carries the request out (unless a fault rule answers instead) and hands it back to its connection.</summary>
    public void Execute()
    {
        NbdConnection connection = _connection!;
        connection.Complete(this, connection.Export.Serve(Header, Payload, Fault));
    }

    public void Dispose() => _buffer.Dispose();
}
