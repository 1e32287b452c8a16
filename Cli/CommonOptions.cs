using System.CommandLine;
using Dmp.Daemon;
using Dmp.Nbd;
using Dmp.Storage;

namespace Dmp.Cli;

/// <summary>Options and arguments shared by several commands, defined once.</summary>
internal static class CommonOptions
{
    public const long DefaultSize = 1L << 30;

    public static Option<string> RunDirectory { get; } = new("--run-dir")
    {
        Description = "Where the daemon keeps its files and mounts the stat tree",
        HelpName = "DIR",
        Recursive = true,
        DefaultValueFactory = _ => Daemon.RunDirectory.DefaultPath,
    };

    public static Option<long?> Size { get; } = new("--size")
    {
        Description = "Size of memory and zero backings (default 1G); K, M, G, T suffixes",
        HelpName = "SIZE",
        CustomParser = result =>
        {
            long? size = SizeParser.TryParse(result.Tokens[0].Value, out string error);
            if (size is null)
            {
                result.AddError(error);
            }

            return size;
        },
    };

    public static Argument<BackingSpec[]> Backings { get; } = new("BACKING")
    {
        Description = "memory (default), zero, or a file or block device; one nbd device each",
        Arity = ArgumentArity.ZeroOrMore,
        CustomParser = result => ParseEach(result, BackingSpec.Parse),
    };

    /// <summary>Parses every token with <paramref name="parse"/>, reporting each that fails as a parse error of <paramref name="result"/>.</summary>
    public static T[] ParseEach<T>(System.CommandLine.Parsing.ArgumentResult result, Func<string, T> parse)
    {
        var values = new List<T>();
        foreach (var token in result.Tokens)
        {
            try
            {
                values.Add(parse(token.Value));
            }
            catch (FormatException exception)
            {
                result.AddError(exception.Message);
            }
        }

        return [.. values];
    }

    public static Option<NbdListenAddress[]> Listen { get; } = new("--listen")
    {
        Description = "Also serve the devices to NBD clients at ADDR: unix:PATH or tcp:HOST:PORT (repeatable)",
        HelpName = "ADDR",
        CustomParser = result => ParseEach(result, NbdListenAddress.Parse),
    };

    public static Option<string?> MetricsTextfile { get; } = new("--metrics-textfile")
    {
        Description = "Keep the metrics in PATH for node_exporter's textfile collector (rewritten every few seconds)",
        HelpName = "PATH",
    };

    /// <summary>Hidden: serve without counting, to measure what counting costs.</summary>
    public static Option<bool> NoStatistics { get; } = new("--no-statistics") { Hidden = true };

    public static RunDirectory RunDirectoryOf(ParseResult result) => new(result.GetValue(RunDirectory)!);

    /// <summary>The run directory only if the user named one (serve keeps none by default).</summary>
    public static RunDirectory? ExplicitRunDirectoryOf(ParseResult result) =>
        result.GetResult(RunDirectory) is { Implicit: false } ? RunDirectoryOf(result) : null;

    /// <summary>The --size of a command line for <paramref name="backings"/>, which must include one it applies to.</summary>
    public static long SizeFor(ParseResult result, IReadOnlyCollection<BackingSpec> backings) =>
        result.GetValue(Size) is not { } size ? DefaultSize
        : backings.Any(backing => backing.IsSized) ? size
        : throw new CommandException("--size applies only to memory and zero backings");

    /// <summary>The checked daemon options of a load, daemon or serve command line.</summary>
    public static DaemonOptions DaemonOptionsOf(ParseResult result)
    {
        BackingSpec[] backings = result.GetValue(Backings) is { Length: > 0 } given ? given : [BackingSpec.Memory];
        long size = SizeFor(result, backings);

        string? repeated = backings.Where(backing => backing.Kind == BackingKind.File)
            .GroupBy(backing => backing.Path).FirstOrDefault(group => group.Count() > 1)?.Key;
        if (repeated is not null)
        {
            throw new CommandException($"backing {repeated} is given more than once");
        }

        string? textfile = result.GetValue(MetricsTextfile);
        return new DaemonOptions(
            backings, size, RunDirectoryOf(result), result.GetValue(Listen) ?? [],
            textfile is null ? null : Path.GetFullPath(textfile), !result.GetValue(NoStatistics));
    }
}
