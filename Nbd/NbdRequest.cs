using Dmp.Native;
using Dmp.Stats;

namespace Dmp.Nbd;

/// <summary>
/// The pooled state of one request in flight: its header and a pinned buffer for its data.
/// Queued to the thread pool as is, so a request costs no allocation in steady state.
/// </summary>
internal sealed class NbdRequest : IThreadPoolWorkItem, IDisposable
{
    /// <summary>The buffer each request keeps: room for the payloads of all but rare large requests.</summary>
    public const int InitialCapacity = 128 * 1024;

    private readonly NativeBuffer _buffer = new(InitialCapacity);
    private NbdConnection? _connection;

    public NbdRequestHeader Header { get; private set; }

    /// <summary>The counter the request feeds (<see cref="NbdExport.CountedAs"/>), looked up once when it arrives.</summary>
    public IoOperation? Operation { get; private set; }

    /// <summary>When the request's header was read (<see cref="System.Diagnostics.Stopwatch"/> ticks), for its service time.</summary>
    public long ReceivedAt { get; set; }

    /// <summary>The request's data: what a WRITE carries, or what a READ returns.</summary>
    public Span<byte> Payload => _buffer.Slice(PayloadLength(Header));

    /// <summary>The bytes of data a request carries or asks for: none when it is neither a READ nor a WRITE, or too large to serve.</summary>
    public static int PayloadLength(in NbdRequestHeader header) =>
        header.Command is NbdCommand.Read or NbdCommand.Write && header.Length <= NbdProtocol.MaxPayloadLength
            ? (int)header.Length
            : 0;

    public void Prepare(NbdConnection connection, in NbdRequestHeader header)
    {
        _connection = connection;
        Header = header;
        Operation = NbdExport.CountedAs(header.Command);
        _buffer.EnsureCapacity(PayloadLength(header));
    }

    /// <summary>Forgets the connection so a pooled request keeps nothing alive, and gives back a buffer grown past <see cref="InitialCapacity"/>.</summary>
    public void Clear()
    {
        _connection = null;
        _buffer.ShrinkTo(InitialCapacity);
    }

    public void Execute()
    {
        NbdConnection connection = _connection!;
        connection.Complete(this, connection.Export.Serve(Header, Payload));
    }

    public void Dispose() => _buffer.Dispose();
}
