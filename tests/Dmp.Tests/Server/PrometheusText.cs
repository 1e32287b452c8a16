namespace Dmp.Tests.Server;

/// <summary>Metrics in Prometheus' text format, read by Debian's Prometheus client library (python3-prometheus-client).</summary>
internal static class PrometheusText
{
    private const string Script =
        "import sys\n" +
        "from prometheus_client.parser import text_string_to_metric_families\n" +
        "for family in text_string_to_metric_families(open(sys.argv[1]).read()):\n" +
        "    for s in family.samples:\n" +
        "        print(family.type, s.name, s.labels.get('device'), s.labels.get('operation'), s.labels.get('le', '-'), s.value)\n";

    /// <summary>
    /// Every sample of the metrics in <paramref name="file"/>, one line each: <c>TYPE NAME DEVICE OPERATION LE VALUE</c>
    /// (None for a missing label, - for a missing le). A parse error fails the test with the parser's message.
    /// </summary>
    public static string[] Samples(string file)
    {
        string script = Path.Combine(Path.GetTempPath(), $"dmp-parse-metrics-{Environment.ProcessId}.py");
        File.WriteAllText(script, Script);
        ShellResult parsed = Shell.Run($"/usr/bin/python3 {script} {file}");

        Assert.Equal("", parsed.Errors);
        Assert.Equal(0, parsed.ExitCode);
        return parsed.Output.TrimEnd().Split('\n');
    }
}
