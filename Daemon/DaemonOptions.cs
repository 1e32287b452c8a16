using System.Globalization;
using Dmp.Nbd;
using Dmp.Storage;

namespace Dmp.Daemon;

/// <summary>What a daemon serves: the load command's arguments, checked.</summary>
/// <param name="Listen">Where NBD clients may connect too (<c>--listen</c>); may be empty.</param>
/// <param name="MetricsTextfile">Where to keep the metrics for node_exporter's textfile collector, if anywhere.</param>
/// <param name="Statistics">False serves without counting (a hidden switch, to measure what counting costs).</param>
/// <param name="Cache">How files and block devices are accessed.</param>
/// <param name="Connections">Sockets per kernel nbd device (not used by serve, whose clients choose).</param>
/// <param name="ReattachTimeout">How long a kernel device's requests wait for a new daemon when this one dies (not used by serve).</param>
/// <param name="MetricsListen">Where to serve the metrics over HTTP (<c>--metrics-listen</c>); null or empty for nowhere.</param>
/// <param name="Config">The dmptab that declares the devices (then <paramref name="Backings"/> is empty), which reload reads again; null for none.</param>
/// <param name="Tls">TLS for the NBD clients of <paramref name="Listen"/>; null for none.</param>
internal sealed record DaemonOptions(
    IReadOnlyList<BackingSpec> Backings,
    long Size,
    RunDirectory RunDirectory,
    IReadOnlyList<NbdListenAddress> Listen,
    string? MetricsTextfile = null,
    bool Statistics = true,
    CacheMode Cache = CacheMode.None,
    int Connections = 1,
    TimeSpan ReattachTimeout = default,
    IReadOnlyList<NbdListenAddress>? MetricsListen = null,
    string? Config = null,
    NbdTlsSettings? Tls = null)
{
    /// <summary>The default of <c>--reattach-timeout</c>: long enough for a person or a service manager to start a new daemon.</summary>
    public static readonly TimeSpan DefaultReattachTimeout = TimeSpan.FromMinutes(5);

    /// <summary>The hidden <c>daemon</c> command line that reproduces these options.</summary>
    public IReadOnlyList<string> ToArguments() =>
        ["daemon", "--run-dir", RunDirectory.Path,
            .. Backings.Any(backing => backing.IsSized) ? ["--size", Size.ToString(CultureInfo.InvariantCulture)] : Array.Empty<string>(),
            .. Listen.SelectMany(address => new[] { "--listen", address.ToString() }),
            .. MetricsTextfile is null ? Array.Empty<string>() : ["--metrics-textfile", MetricsTextfile],
            .. (MetricsListen ?? []).SelectMany(address => new[] { "--metrics-listen", address.ToString() }),
            .. (Tls ?? NbdTlsSettings.Off).ToArguments(),
            .. Statistics ? Array.Empty<string>() : ["--no-statistics"],
            "--cache", Cache.Name(), "--connections", Connections.ToString(CultureInfo.InvariantCulture),
            "--reattach-timeout", Cli.DurationParser.Format(ReattachTimeout),
            .. Config is null ? Array.Empty<string>() : ["--config", Config],
            "--", .. Backings.Select(backing => backing.ToString())];

    /// <summary>The options as the stat tree's <c>parameters/</c> shows them: name and value.</summary>
    public IReadOnlyList<(string Name, string Value)> Parameters =>
    [
        ("backing", string.Join('\n', Backings.Select(backing => backing.ToString()))),
        ("size", Size.ToString(CultureInfo.InvariantCulture)),
        ("cache", Cache.Name()),
        ("connections", Connections.ToString(CultureInfo.InvariantCulture)),
        ("reattach_timeout", Cli.DurationParser.Format(ReattachTimeout)),
        ("listen", string.Join('\n', Listen.Select(address => address.ToString()))),
        ("metrics_textfile", MetricsTextfile ?? ""),
        ("metrics_listen", string.Join('\n', (MetricsListen ?? []).Select(address => address.ToString()))),
        ("tls", (Tls ?? NbdTlsSettings.Off).ModeName),
        ("run_dir", RunDirectory.Path),
    ];
}
