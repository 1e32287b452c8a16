namespace Dmp.Storage;

/// <summary>The command-line names of <see cref="CacheMode"/>.</summary>
internal static class CacheModes
{
    public const string None = "none";
    public const string Writeback = "writeback";

    public static CacheMode Parse(string text) =>
        TryParse(text, out CacheMode mode) ? mode : throw new FormatException($"unknown cache mode '{text}' (none or writeback)");

    public static bool TryParse(string text, out CacheMode mode)
    {
        (bool known, mode) = text switch
        {
            None => (true, CacheMode.None),
            Writeback => (true, CacheMode.Writeback),
            _ => (false, default),
        };
        return known;
    }

    public static string Name(this CacheMode mode) => mode == CacheMode.None ? None : Writeback;
}
