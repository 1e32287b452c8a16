using Dmp.Native;

namespace Dmp.Daemon;

/// <summary>What the daemon answers a control request: lines for the user, then success or the error.</summary>
/// <param name="Descriptors">Open descriptors sent with the reply (SCM_RIGHTS), which the reply owns until they are sent: a hand-over's sockets.</param>
internal sealed record ControlReply(IReadOnlyList<string> Output, string? Error, IReadOnlyList<FileDescriptor>? Descriptors = null)
{
    public static ControlReply Success(params IReadOnlyList<string> output) => new(output, null);

    public static ControlReply Failure(string error) => new([], error);

    public bool Succeeded => Error is null;
}
