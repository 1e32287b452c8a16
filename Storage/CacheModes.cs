namespace Dmp.Storage;

/// <summary>The command-line names of <see cref="CacheMode"/>.</summary>
internal static class CacheModes
{
    public const string None = "none";
    public const string Writeback = "writeback";

    public static CacheMode Parse(string text) => text switch
    {
        None => CacheMode.None,
        Writeback => CacheMode.Writeback,
        _ => throw new FormatException($"unknown cache mode '{text}' (none or writeback)"),
    };

    public static string Name(this CacheMode mode) => mode == CacheMode.None ? None : Writeback;
}
