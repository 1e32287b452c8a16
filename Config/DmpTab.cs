using System.Globalization;
using Dmp.Cli;
using Dmp.Nbd;
using Dmp.Storage;

namespace Dmp.Config;

/// <summary>
/// <c>/etc/dmp/dmptab</c>, in the spirit of <c>/etc/nbdtab</c> and <c>/etc/crypttab</c>: one device per line,
/// <c>NAME BACKING [OPTIONS]</c>, whitespace-separated; a field that starts with <c>#</c> begins a comment; blank
/// lines are ignored. OPTIONS is one comma-separated list of <c>size=SIZE</c>, <c>cache=MODE</c>,
/// <c>connections=N</c>, <c>listen=ADDR</c>, <c>ro</c> and <c>nodm</c>.
/// </summary>
internal static class DmpTab
{
    public const string DefaultPath = "/etc/dmp/dmptab";

    /// <summary>Device-mapper's limit (DM_NAME_LEN, with its NUL).</summary>
    public const int MaxNameLength = 127;

    private const string SizeOption = "size";
    private const string CacheOption = "cache";
    private const string ConnectionsOption = "connections";
    private const string ListenOption = "listen";
    private const string ReadOnlyOption = "ro";
    private const string NoDmOption = "nodm";

    /// <summary>Reads and checks the file at <paramref name="path"/>.</summary>
    /// <param name="defaultCache">The cache mode of a line that names none (the load's <c>--cache</c>).</param>
    /// <param name="defaultConnections">The sockets of a line that names none (the load's <c>--connections</c>).</param>
    /// <exception cref="FormatException">The file cannot be read, or a line is bad: "PATH:LINE: what is wrong".</exception>
    public static IReadOnlyList<DmpTabEntry> Read(string path, CacheMode defaultCache, int defaultConnections)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            throw new FormatException($"{path}: No such file or directory");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"{path}: {exception.Message}");
        }

        return Parse(path, text, defaultCache, defaultConnections);
    }

    /// <summary>Checks every line of <paramref name="text"/>; the first bad one is the error.</summary>
    /// <param name="path">The file's name, for errors.</param>
    /// <exception cref="FormatException">A line is bad: "PATH:LINE: what is wrong".</exception>
    public static IReadOnlyList<DmpTabEntry> Parse(string path, string text, CacheMode defaultCache, int defaultConnections)
    {
        var entries = new List<DmpTabEntry>();
        string[] lines = text.Split('\n');
        for (int number = 1; number <= lines.Length; number++)
        {
            string[] fields = lines[number - 1].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            int comment = Array.FindIndex(fields, field => field.StartsWith('#'));
            fields = comment < 0 ? fields : fields[..comment];
            if (fields.Length == 0)
            {
                continue;
            }

            try
            {
                DmpTabEntry entry = ParseLine(fields, number, defaultCache, defaultConnections);
                if (entries.Find(other => other.Name == entry.Name) is { } sameName)
                {
                    throw new FormatException($"the name {entry.Name} is declared already on line {sameName.Line}");
                }

                if (entry.Backing.Kind == BackingKind.File && entries.Find(other => other.Backing == entry.Backing) is { } sameBacking)
                {
                    throw new FormatException($"the backing {entry.Backing} is declared already on line {sameBacking.Line}");
                }

                if (entry.Listen is not null && entries.Find(other => other.Listen?.ToString() == entry.Listen.ToString()) is { } sameAddress)
                {
                    throw new FormatException($"the address {entry.Listen} is declared already on line {sameAddress.Line}");
                }

                entries.Add(entry);
            }
            catch (FormatException exception)
            {
                throw new FormatException($"{path}:{number}: {exception.Message}");
            }
        }

        return entries;
    }

    private static DmpTabEntry ParseLine(string[] fields, int number, CacheMode defaultCache, int defaultConnections)
    {
        if (fields.Length < 2)
        {
            throw new FormatException("expected NAME BACKING [OPTIONS], found only a name");
        }

        if (fields.Length > 3)
        {
            throw new FormatException($"expected NAME BACKING [OPTIONS], found {fields.Length} fields (OPTIONS is one list, comma-separated, without spaces)");
        }

        string name = CheckName(fields[0]);
        BackingSpec backing = fields[1] is "memory" or "zero" || Path.IsPathFullyQualified(fields[1])
            ? BackingSpec.Parse(fields[1])
            : throw new FormatException($"the backing must be memory, zero or an absolute path, not '{fields[1]}'");

        long size = CommonOptions.DefaultSize;
        CacheMode cache = defaultCache;
        int connections = defaultConnections;
        bool readOnly = false, mapped = true;
        NbdListenAddress? listen = null;
        var seen = new HashSet<string>();
        foreach (string option in fields.Length == 3 ? fields[2].Split(',') : [])
        {
            int equals = option.IndexOf('=', StringComparison.Ordinal);
            string key = equals < 0 ? option : option[..equals];
            string? value = equals < 0 ? null : option[(equals + 1)..];
            if (key.Length == 0)
            {
                throw new FormatException(option.Length == 0 ? "an empty option (two commas in a row?)" : $"an option without a name: '{option}'");
            }

            if (!seen.Add(key))
            {
                throw new FormatException($"the option {key} is given twice");
            }

            switch (key)
            {
                case SizeOption:
                    size = backing.IsSized
                        ? SizeParser.TryParse(ValueOf(key, value), out string error) ?? throw new FormatException(error)
                        : throw new FormatException($"{SizeOption}= applies only to memory and zero backings (a file or device has its own size)");
                    break;
                case CacheOption:
                    cache = !backing.IsSized
                        ? CacheModes.Parse(ValueOf(key, value))
                        : throw new FormatException($"{CacheOption}= applies only to files and block devices");
                    break;
                case ConnectionsOption:
                    connections = ParseConnections(ValueOf(key, value));
                    break;
                case ListenOption:
                    listen = NbdListenAddress.Parse(ValueOf(key, value));
                    break;
                case ReadOnlyOption:
                    readOnly = Flag(key, value);
                    break;
                case NoDmOption:
                    mapped = !Flag(key, value);
                    break;
                default:
                    throw new FormatException(
                        $"unknown option '{key}' (known: {SizeOption}=SIZE, {CacheOption}=none|writeback, {ConnectionsOption}=N, {ListenOption}=ADDR, {ReadOnlyOption}, {NoDmOption})");
            }
        }

        return new DmpTabEntry(name, backing, size, cache, connections, readOnly, mapped, number, listen);
    }

    /// <summary>A name as device-mapper takes one, since by default the dm device is given it.</summary>
    private static string CheckName(string name) =>
        name.Length > MaxNameLength ? throw new FormatException($"the name is longer than {MaxNameLength} characters")
        : name.Contains('/', StringComparison.Ordinal) ? throw new FormatException($"the name '{name}' holds a '/'")
        : name is "." or ".." ? throw new FormatException($"the name cannot be '{name}'")
        : name;

    private static string ValueOf(string key, string? value) =>
        string.IsNullOrEmpty(value) ? throw new FormatException($"the option {key} needs a value ({key}=...)") : value;

    private static bool Flag(string key, string? value) =>
        value is null ? true : throw new FormatException($"the option {key} takes no value");

    private static int ParseConnections(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count >= 1 && count <= CommonOptions.MaxConnections
            ? count
            : throw new FormatException($"{ConnectionsOption}= must be a number from 1 to {CommonOptions.MaxConnections}, not '{text}'");
}
