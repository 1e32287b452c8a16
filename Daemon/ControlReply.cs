namespace Dmp.Daemon;

/// <summary>What the daemon answers a control request: lines for the user, then success or the error.</summary>
internal sealed record ControlReply(IReadOnlyList<string> Output, string? Error)
{
    public static ControlReply Success(params IReadOnlyList<string> output) => new(output, null);

    public static ControlReply Failure(string error) => new([], error);

    public bool Succeeded => Error is null;
}
