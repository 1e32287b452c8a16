using System.CommandLine;
using System.CommandLine.Parsing;
using Dmp.Config;
using Dmp.Daemon;
using Dmp.Nbd;
using Dmp.Storage;

namespace Dmp.Cli;

/// <summary>Options and arguments shared by several commands, defined once.</summary>
internal static class CommonOptions
{
    public const long DefaultSize = 1L << 30;

    /// <summary>Most sockets one kernel device may have (each is served by a thread of its own).</summary>
    public const int MaxConnections = 16;

    /// <summary>The default of <c>--connections</c>: one socket per CPU, so that each CPU's requests have a queue of their own, at most 4.</summary>
    public static int DefaultConnections { get; } = Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary><c>--cache</c> under a kernel nbd device, which keeps its own page cache above dmp: none by default.</summary>
    public static Option<string> Cache { get; } = CacheOption(CacheModes.None);

    /// <summary><c>--cache</c> for serve, whose clients keep no cache of their own: writeback by default, as nbdkit and qemu-nbd.</summary>
    public static Option<string> ServeCache { get; } = CacheOption(CacheModes.Writeback);

    public static Option<int> Connections { get; } = new("--connections")
    {
        Description = $"Sockets between the kernel and dmp per nbd device, a queue and a thread each (1 to {MaxConnections}; the default is one per CPU, at most 4)",
        HelpName = "N",
        DefaultValueFactory = _ => DefaultConnections,
        CustomParser = result =>
        {
            string text = result.Tokens[0].Value;
            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int count) ||
                count < 1 || count > MaxConnections)
            {
                result.AddError($"--connections must be a number from 1 to {MaxConnections}, not '{text}'");
            }

            return count;
        },
    };

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

    public static Option<string> Tls { get; } = new("--tls")
    {
        Description = "TLS for NBD clients: off, on (offered: a client may go without) or require (nothing but NBD_OPT_STARTTLS before it)",
        HelpName = "MODE",
        DefaultValueFactory = _ => "off",
        CompletionSources = { NbdTlsSettings.ModeNames.ToArray() },
        CustomParser = result => Checked(result, text => NbdTlsSettings.ParseMode(text)),
    };

    public static Option<string?> TlsCertificates { get; } = new("--tls-certificates")
    {
        Description = $"Where the TLS certificates are: {NbdTls.CaCertificateFile}, {NbdTls.ServerCertificateFile} and {NbdTls.ServerKeyFile} (as nbdkit and qemu keep them)",
        HelpName = "DIR",
    };

    public static Option<bool> TlsVerifyPeer { get; } = new("--tls-verify-peer")
    {
        Description = $"Admit only TLS clients whose certificate the CA ({NbdTls.CaCertificateFile}) signed",
    };

    public static Option<TimeSpan> ReattachTimeout { get; } = new("--reattach-timeout")
    {
        Description = "How long IO waits for a new daemon when this one dies (then it fails with EIO); a later load still takes the devices over",
        HelpName = "DURATION",
        DefaultValueFactory = _ => DaemonOptions.DefaultReattachTimeout,
        CustomParser = result =>
        {
            string text = result.Tokens[0].Value;
            if (DurationParser.TryParse(text) is not { } duration || duration < TimeSpan.FromSeconds(1))
            {
                result.AddError($"--reattach-timeout must be a duration of at least 1s (with ms, s, m or h), not '{text}'");
                return default;
            }

            return duration;
        },
    };

    public static Option<string?> Config { get; } = new("--config")
    {
        Description = $"Bring up the devices PATH declares, one per line: NAME BACKING [OPTIONS] (a bare load reads {DmpTab.DefaultPath} when it exists)",
        HelpName = "PATH",
    };

    public static Option<string?> MetricsTextfile { get; } = new("--metrics-textfile")
    {
        Description = "Keep the metrics in PATH for node_exporter's textfile collector (rewritten every few seconds)",
        HelpName = "PATH",
    };

    public static Option<NbdListenAddress[]> MetricsListen { get; } = new("--metrics-listen")
    {
        Description = $"Serve the metrics over HTTP at ADDR (GET /metrics, Prometheus' text format): tcp:HOST:PORT (port {Http.MetricsHttpServer.DefaultPort} if left out) or unix:PATH (repeatable)",
        HelpName = "ADDR",
        CustomParser = result => ParseEach(result, text => NbdListenAddress.Parse(text, Http.MetricsHttpServer.DefaultPort)),
    };

    /// <summary>Hidden: serve without counting, to measure what counting costs.</summary>
    public static Option<bool> NoStatistics { get; } = new("--no-statistics") { Hidden = true };

    /// <summary>An option's word as given, once <paramref name="check"/> took it; its FormatException is the parse error.</summary>
    private static string Checked(ArgumentResult result, Action<string> check)
    {
        string text = result.Tokens[0].Value;
        try
        {
            check(text);
        }
        catch (FormatException exception)
        {
            result.AddError(exception.Message);
        }

        return text;
    }

    // A string option, so that help shows the default as it is typed; the parser only checks it.
    private static Option<string> CacheOption(string defaultMode) => new("--cache")
    {
        Description = "How files and block devices are accessed: none (O_DIRECT: no page cache in dmp) or writeback (the page cache; flushes are fdatasync)",
        HelpName = "MODE",
        DefaultValueFactory = _ => defaultMode,
        CompletionSources = { CacheModes.None, CacheModes.Writeback },
        CustomParser = result => Checked(result, text => CacheModes.Parse(text)),
    };

    /// <summary>The command's --cache, whichever of the two options it has.</summary>
    public static CacheMode CacheOf(ParseResult result) =>
        CacheModes.Parse(result.GetValue(result.CommandResult.Command.Options.Contains(ServeCache) ? ServeCache : Cache)!);

    /// <summary>The command's --connections, or 1 for a command without it.</summary>
    public static int ConnectionsOf(ParseResult result) =>
        result.CommandResult.Command.Options.Contains(Connections) ? result.GetValue(Connections) : 1;

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
    /// <param name="defaultConfig">With no BACKING and no --config, take <see cref="DmpTab.DefaultPath"/> when it exists (a bare load).</param>
    public static DaemonOptions DaemonOptionsOf(ParseResult result, bool defaultConfig = false)
    {
        BackingSpec[] given = result.GetValue(Backings) ?? [];
        string? config = ConfigOf(result, given, defaultConfig);
        BackingSpec[] backings = given.Length > 0 ? given : config is null ? [BackingSpec.Memory] : [];
        long size = config is not null && result.GetValue(Size) is not null
            ? throw new CommandException("--size does not apply to a dmptab: give its lines size=SIZE")
            : SizeFor(result, backings);

        string? repeated = backings.Where(backing => backing.Kind == BackingKind.File)
            .GroupBy(backing => backing.Path).FirstOrDefault(group => group.Count() > 1)?.Key;
        if (repeated is not null)
        {
            throw new CommandException($"backing {repeated} is given more than once");
        }

        string? textfile = result.GetValue(MetricsTextfile);
        NbdTlsSettings tls;
        try
        {
            tls = result.CommandResult.Command.Options.Contains(Tls)
                ? NbdTlsSettings.Of(result.GetValue(Tls)!, result.GetValue(TlsCertificates), result.GetValue(TlsVerifyPeer))
                : NbdTlsSettings.Off;
        }
        catch (FormatException exception)
        {
            throw new CommandException(exception.Message);
        }

        return new DaemonOptions(
            backings, size, RunDirectoryOf(result), result.GetValue(Listen) ?? [],
            textfile is null ? null : Path.GetFullPath(textfile), !result.GetValue(NoStatistics), CacheOf(result), ConnectionsOf(result),
            result.CommandResult.Command.Options.Contains(ReattachTimeout) ? result.GetValue(ReattachTimeout) : default,
            result.GetValue(MetricsListen) ?? [], config, tls);
    }

    /// <summary>The dmptab a command line names, as an absolute path; null when it names none (or the command takes none).</summary>
    private static string? ConfigOf(ParseResult result, BackingSpec[] backings, bool defaultConfig)
    {
        if (!result.CommandResult.Command.Options.Contains(Config))
        {
            return null;
        }

        string? path = result.GetValue(Config);
        return path switch
        {
            null => defaultConfig && backings.Length == 0 && File.Exists(DmpTab.DefaultPath) ? DmpTab.DefaultPath : null,
            "" => throw new CommandException("--config needs a path"),
            _ when backings.Length > 0 => throw new CommandException("--config declares the devices: name no BACKING with it"),
            _ => Path.GetFullPath(path),
        };
    }
}
