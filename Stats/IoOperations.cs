namespace Dmp.Stats;

/// <summary>The operations in the order the stat files list them, with the names they use.</summary>
internal static class IoOperations
{
    public static IReadOnlyList<IoOperation> All { get; } = Enum.GetValues<IoOperation>();

    /// <summary>"read", "write", "write_zeroes", "discard", "flush", "cache".</summary>
    public static string NameOf(IoOperation operation) => operation switch
    {
        IoOperation.Read => "read",
        IoOperation.Write => "write",
        IoOperation.WriteZeroes => "write_zeroes",
        IoOperation.Discard => "discard",
        IoOperation.Flush => "flush",
        _ => "cache",
    };
}
