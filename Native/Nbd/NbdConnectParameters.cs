namespace Dmp.Native.Nbd;

/// <summary>What NBD_CMD_CONNECT tells the kernel about a device.</summary>
internal sealed class NbdConnectParameters
{
    /// <summary>Connected stream sockets the kernel will own (one per hardware queue).</summary>
    public required IReadOnlyList<int> SocketFds { get; init; }

    public required long SizeBytes { get; init; }

    public required int BlockSizeBytes { get; init; }

    /// <summary>NBD transmission flags, as a server would send them in the handshake.</summary>
    public required ushort ServerFlags { get; init; }

    /// <summary>Shown in /sys/block/nbdN/backend and required again by RECONFIGURE.</summary>
    public required string BackendIdentifier { get; init; }

    /// <summary>A particular device, or null to let the kernel pick the first free one.</summary>
    public int? Index { get; init; }

    /// <summary>How long a request that finds every socket dead waits for <see cref="NbdNetlinkClient.Reconfigure"/>
    /// to bring a new one, before it fails (NBD_ATTR_DEAD_CONN_TIMEOUT; zero: it fails at once).</summary>
    public TimeSpan DeadConnectionTimeout { get; init; }
}
