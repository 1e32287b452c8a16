using Dmp.Native;

namespace Dmp.Http;

/// <summary>
/// A connection of the metrics server and the thread serving it. Its state changes under the server's lock: a
/// connection still waiting for its head may be evicted for a newer one; one being answered is left to finish.
/// </summary>
internal sealed class MetricsHttpConnection(FileDescriptor socket)
{
    public FileDescriptor Socket { get; } = socket;

    public Thread? Thread { get; set; }

    /// <summary>Its head is read and its response is being rendered or sent.</summary>
    public bool Answering { get; set; }

    /// <summary>Shut down for a newer connection while it waited for its head.</summary>
    public bool Evicted { get; set; }
}
