using System.Text.Json;
using System.Text.RegularExpressions;
using Dmp.Tests.Cli;
using Dmp.Tests.Server;

namespace Dmp.Tests.Contrib;

/// <summary>
/// contrib/prometheus/dmp.rules.yml and contrib/grafana/dmp.json: the rules pass promtool (Debian's prometheus
/// package) and fire on their unit-test series; the dashboard imports with a datasource input and a device
/// variable; and every metric either names is one a running dmp really exposes.
/// </summary>
public sealed partial class MonitoringTests
{
    private static readonly string Root = Path.GetDirectoryName(DmpBinary.Path)!;
    private static readonly string Rules = Path.Combine(Root, "contrib/prometheus/dmp.rules.yml");
    private static readonly string RulesTest = Path.Combine(Root, "contrib/prometheus/dmp.rules.test.yml");
    private static readonly string Dashboard = Path.Combine(Root, "contrib/grafana/dmp.json");

    /// <summary>PromQL words that are not metric names: keywords and labels of by/without/on/ignoring lists, which are removed before.</summary>
    private static readonly HashSet<string> Keywords = ["and", "or", "unless", "bool", "offset", "group_left", "group_right", "inf", "nan"];

    [Fact]
    public void Promtool_accepts_the_rules()
    {
        ShellResult check = Shell.Run($"promtool check rules {Rules}");

        Assert.True(check.ExitCode == 0, check.Output + check.Errors);
        Assert.Contains("SUCCESS: 5 rules found", check.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_rule_fires_on_its_unit_test_series_and_none_on_healthy_ones()
    {
        ShellResult test = Shell.Run($"promtool test rules {RulesTest}");

        Assert.True(test.ExitCode == 0, test.Output + test.Errors);
        string[] alerts = [.. AlertNames().Order()];
        string[] tested = [.. AlertNamesFiringIn(File.ReadAllText(RulesTest)).Order()];
        Assert.Equal(alerts, tested);
    }

    [Fact]
    public void The_dashboard_takes_its_datasource_as_an_input_and_has_a_device_variable_from_a_label()
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Dashboard));
        JsonElement root = json.RootElement;

        JsonElement input = Assert.Single(root.GetProperty("__inputs").EnumerateArray());
        Assert.Equal(("DS_PROMETHEUS", "datasource", "prometheus"),
            (input.GetProperty("name").GetString(), input.GetProperty("type").GetString(), input.GetProperty("pluginId").GetString()));
        foreach (JsonElement panel in root.GetProperty("panels").EnumerateArray())
        {
            Assert.Equal("${DS_PROMETHEUS}", panel.GetProperty("datasource").GetProperty("uid").GetString());
        }

        JsonElement device = root.GetProperty("templating").GetProperty("list").EnumerateArray().Single(variable => variable.GetProperty("name").GetString() == "device");
        Assert.Matches(@"^label_values\(dmp_requests_total\{.*\}, device\)$", device.GetProperty("definition").GetString()!);
        Assert.Equal(
            ["Average request size", "Daemon heap allocations", "Errors", "IOPS", "In flight", "Latency heatmap", "Latency p50 / p99", "Throughput"],
            root.GetProperty("panels").EnumerateArray().Select(panel => panel.GetProperty("title").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_metric_the_dashboard_and_the_rules_name_is_in_a_live_scrape_with_the_labels_they_use()
    {
        int port = MetricsHttpTests.FreeTcpPort();
        using var server = new ServeProcess($"--metrics-listen tcp:127.0.0.1:{port} memory --size 64M");
        KnownWorkload.Run(server.Socket);
        string scraped = Path.Combine(server.Directory, "scraped");
        Assert.Equal(0, Shell.Run($"curl -sS -f -o {scraped} http://127.0.0.1:{port}/metrics").ExitCode);
        string[] samples = PrometheusText.Samples(scraped);
        HashSet<string> exposed = [.. samples.Select(sample => sample.Split(' ')[1])];

        string[] dashboardQueries = [.. DashboardQueries()];
        string[] ruleQueries = [.. RuleExpressions()];
        HashSet<string> named = [.. dashboardQueries.Concat(ruleQueries).SelectMany(MetricNames)];

        Assert.Equal(8 + 1 + 3, dashboardQueries.Length); // a query per panel, two for the percentiles, and the variables
        Assert.Equal(5, ruleQueries.Length);
        Assert.Contains("dmp_request_duration_seconds_bucket", named);
        Assert.Equal(["up"], named.Except(exposed).Order()); // up: the scrape's own health, which Prometheus adds
        Assert.Contains("counter dmp_requests_total export0 read - 5.0", samples); // the labels device and operation
    }

    /// <summary>The metric names a PromQL expression selects (or a dashboard's label_values asks about).</summary>
    internal static IEnumerable<string> MetricNames(string query)
    {
        string bare = LabelMatchers().Replace(query, " ");
        bare = Strings().Replace(bare, " ");
        bare = Ranges().Replace(bare, " ");
        bare = Grouping().Replace(bare, " ");
        bare = GrafanaVariables().Replace(bare, " ");
        return Identifiers().Matches(bare)
            .Where(match => !bare.AsSpan(match.Index + match.Length).TrimStart().StartsWith("(") && !Keywords.Contains(match.Value.ToLowerInvariant()))
            .Select(match => match.Value)
            .Where(name => !char.IsAsciiDigit(name[0]));
    }

    private static IEnumerable<string> DashboardQueries()
    {
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Dashboard));
        foreach (JsonElement panel in json.RootElement.GetProperty("panels").EnumerateArray())
        {
            foreach (JsonElement target in panel.GetProperty("targets").EnumerateArray())
            {
                yield return target.GetProperty("expr").GetString()!;
            }
        }

        // label_values(SELECTOR, LABEL): the selector is a query; the label is checked on its own.
        foreach (JsonElement variable in json.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            Match labelValues = LabelValues().Match(variable.GetProperty("definition").GetString()!);
            Assert.True(labelValues.Success, variable.GetProperty("definition").GetString());
            yield return labelValues.Groups["selector"].Value;
        }
    }

    /// <summary>Every <c>expr:</c> of the rules file, inline or as a <c>|</c> block (lines indented deeper than the key).</summary>
    private static IEnumerable<string> RuleExpressions()
    {
        string[] lines = File.ReadAllLines(Rules);
        for (int index = 0; index < lines.Length; index++)
        {
            Match expr = ExprKey().Match(lines[index]);
            if (!expr.Success)
            {
                continue;
            }

            string value = expr.Groups["value"].Value.Trim();
            if (value != "|")
            {
                yield return value;
                continue;
            }

            int indent = expr.Groups["indent"].Length;
            var block = new List<string>();
            while (index + 1 < lines.Length && (lines[index + 1].Length - lines[index + 1].TrimStart().Length > indent || lines[index + 1].Trim().Length == 0))
            {
                block.Add(lines[++index]);
            }

            yield return string.Join('\n', block);
        }
    }

    private static IEnumerable<string> AlertNames() =>
        File.ReadAllLines(Rules).Select(line => AlertKey().Match(line)).Where(match => match.Success).Select(match => match.Groups["name"].Value);

    /// <summary>The alerts a promtool unit-test file expects to fire (with at least one exp_labels), by name.</summary>
    private static IEnumerable<string> AlertNamesFiringIn(string test) =>
        FiringTest().Matches(test).Select(match => match.Groups["name"].Value).Distinct();

    [GeneratedRegex(@"^label_values\((?<selector>.*),\s*(?<label>\w+)\)$")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex("\"[^\"]*\"")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(by|without|on|ignoring)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\$\w+")]
    private static partial Regex GrafanaVariables();

    [GeneratedRegex(@"(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*")]
    private static partial Regex Identifiers();

    [GeneratedRegex(@"^(?<indent>\s*)(- )?expr:(?<value>.*)$")]
    private static partial Regex ExprKey();

    [GeneratedRegex(@"^\s*- alert:\s*(?<name>\S+)")]
    private static partial Regex AlertKey();

    [GeneratedRegex(@"alertname:\s*(?<name>\S+)\s*\n\s*exp_alerts:\s*\n\s*- exp_labels")]
    private static partial Regex FiringTest();
}
