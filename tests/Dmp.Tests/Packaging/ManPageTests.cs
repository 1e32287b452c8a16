using System.Text.RegularExpressions;
using Dmp.Tests.Cli;

namespace Dmp.Tests.Packaging;

/// <summary>
/// man/dmp.8 against the real binary's help: every command has its section, and each section's options (its .TP
/// items) are exactly those <c>dmp COMMAND --help</c> lists; the page names no option the binary lacks; and the
/// page renders without a warning.
/// </summary>
public sealed partial class ManPageTests
{
    private static readonly string Repository = Path.GetDirectoryName(DmpBinary.Path)!;
    private static readonly string PagePath = Path.Combine(Repository, "man", "dmp.8");

    /// <summary>Options every command takes; the page lists them once, under GLOBAL OPTIONS.</summary>
    private static readonly string[] Inherited = ["--run-dir", "-?", "-h", "--help"];

    public static TheoryData<string> Commands => [.. CommandsOf("")];

    [Theory]
    [MemberData(nameof(Commands))]
    public void Each_command_has_a_section_with_exactly_the_options_its_help_lists(string command)
    {
        Dictionary<string, string[]> sections = PageSections();

        Assert.True(sections.TryGetValue(command, out string[]? documented), $"man/dmp.8 has no section .SS \"dmp {command} ...\"");
        Assert.Equal(HelpOptions(command).Except(Inherited).Order(), documented.Order());
    }

    [Fact]
    public void The_global_options_are_the_root_commands()
    {
        Assert.Equal(HelpOptions("").Order(), PageSections()["GLOBAL OPTIONS"].Order());
        Assert.Subset(HelpOptions("load").ToHashSet(), Inherited.ToHashSet());
    }

    [Fact]
    public void The_page_names_no_command_or_option_the_binary_lacks()
    {
        string[] commands = [.. CommandsOf("")];
        HashSet<string> options = [.. commands.Prepend("").SelectMany(HelpOptions)];
        string text = File.ReadAllText(PagePath).Replace("\\-", "-", StringComparison.Ordinal);

        Assert.Equal([], PageSections().Keys.Where(section => section != "GLOBAL OPTIONS").Except(commands));
        string[] named = [.. OptionWord().Matches(text).Select(match => match.Value).Distinct()];
        Assert.Equal([], named.Except(options));
        Assert.Contains("--reattach-timeout", named);
        Assert.Contains("--force", options); // the check sees the subcommands' options too
    }

    [Fact]
    public void The_page_renders_without_a_warning()
    {
        ShellResult mandoc = Shell.Run($"mandoc -T lint -W warning {PagePath}");
        Assert.True(mandoc.ExitCode == 0 && mandoc.Output.Length == 0, mandoc.Output + mandoc.Errors);

        ShellResult groff = Shell.Run($"groff -man -Tutf8 -ww -z {PagePath}");
        Assert.True(groff.ExitCode == 0 && groff.Errors.Length == 0, groff.Errors);

        ShellResult man = Shell.Run($"MANWIDTH=80 man -l {PagePath}");
        Assert.True(man.ExitCode == 0 && man.Errors.Length == 0, man.Errors);
        Assert.Contains("dmp fault add DEVICE RULE...", man.Output);
        Assert.Contains("EXIT STATUS", man.Output);
    }

    /// <summary>The command paths under <paramref name="parent"/> that do something: "load", "fault add", ... (not "fault").</summary>
    private static IEnumerable<string> CommandsOf(string parent)
    {
        foreach (string name in HelpSection(parent, "Commands:").Select(line => line.Split(' ')[0]))
        {
            string command = (parent + " " + name).Trim();
            string[] children = [.. CommandsOf(command)];
            foreach (string path in children.Length > 0 ? children : [command])
            {
                yield return path;
            }
        }
    }

    /// <summary>Every spelling of every option <c>dmp COMMAND --help</c> lists ("-d", "--device", ...).</summary>
    private static string[] HelpOptions(string command) =>
        [.. HelpSection(command, "Options:").SelectMany(line => line.Split("  ")[0].Split(", ")).Select(option => option.Split(' ')[0])];

    /// <summary>The lines of one section of the real binary's help (two-column rows, trimmed).</summary>
    private static IEnumerable<string> HelpSection(string command, string heading)
    {
        ShellResult help = DmpBinary.Run($"{command} --help");
        Assert.Equal(0, help.ExitCode);
        return help.Output.Split('\n').SkipWhile(line => line != heading).Skip(1).TakeWhile(line => line.Length > 0).Select(line => line.Trim());
    }

    /// <summary>
    /// The page's command sections (.SS "dmp COMMAND ...", by command path) and GLOBAL OPTIONS, each with the
    /// options of its .TP items.
    /// </summary>
    private static Dictionary<string, string[]> PageSections()
    {
        var sections = new Dictionary<string, List<string>>();
        List<string>? current = null;
        string[] lines = File.ReadAllLines(PagePath);
        for (int index = 0; index < lines.Length; index++)
        {
            string line = lines[index];
            if (line.StartsWith(".SH ", StringComparison.Ordinal) || line.StartsWith(".SS ", StringComparison.Ordinal))
            {
                string title = line[4..].Trim('"');
                string? key = title == "GLOBAL OPTIONS" ? title
                    : title.StartsWith("dmp ", StringComparison.Ordinal) ? string.Join(' ', title.Split(' ').Skip(1).TakeWhile(word => Regex.IsMatch(word, "^[a-z]+$")))
                    : null;
                current = key is null ? null : sections[key] = [];
            }
            else if (line == ".TP" && current is not null && index + 1 < lines.Length)
            {
                current.AddRange(lines[index + 1].Replace("\\-", "-", StringComparison.Ordinal).Split(' ', '"', ',')
                    .Where(word => word.StartsWith('-')));
            }
        }

        return sections.ToDictionary(section => section.Key, section => section.Value.ToArray());
    }

    [GeneratedRegex(@"(?<![\w-])--[a-z][a-z-]*[a-z]")]
    private static partial Regex OptionWord();
}
