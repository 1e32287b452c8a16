using Dmp.Daemon;
using Dmp.Storage;

namespace Dmp.Tests.Cli;

/// <summary>
/// contrib/completion's scripts, sourced in real bash and zsh and asked for completions of lines as a user types
/// them: the commands and options the binary has, and the device names of a daemon's device table.
/// </summary>
public sealed class CompletionTests : IDisposable
{
    private static readonly string Repository = Path.GetDirectoryName(DmpBinary.Path)!;

    private readonly string _runDirectory = Directory.CreateTempSubdirectory("dmp-completion-").FullName;

    public CompletionTests()
    {
        // Two devices as a daemon's table lists them: one load made, one create made for the dm device dmp1.
        DeviceTable.Write(new RunDirectory(_runDirectory).DeviceTable,
        [
            new DeviceRecord(0, 1L << 30, "memory", null, CacheMode.None, 2),
            new DeviceRecord(3, 524288, "/dev/mapper/zero1", "dmp1", CacheMode.Writeback, 1),
        ]);
    }

    public void Dispose() => Directory.Delete(_runDirectory, recursive: true);

    public static TheoryData<string> Shells => ["bash", "zsh"];

    [Theory]
    [MemberData(nameof(Shells))]
    public void The_first_word_completes_to_every_command_of_the_binary(string shell)
    {
        string[] commands = DmpBinary.Run("--help").Output.Split('\n')
            .SkipWhile(line => line != "Commands:").Skip(1).Where(line => line.Length > 0)
            .Select(line => line.Trim().Split(' ')[0]).ToArray();

        string[] offered = Complete(shell, "dmp ");

        Assert.Contains("fault", commands);
        Assert.Equal(commands.Order(), offered.Where(word => !word.StartsWith('-')).Order());
        Assert.Contains("--run-dir", offered);
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void A_word_begun_completes_to_what_it_begins(string shell)
    {
        Assert.Equal(["stat", "status"], Complete(shell, "dmp st"));
        Assert.Equal(["--cache", "--connections"], Complete(shell, "dmp attach memory --c"));
        Assert.Equal(["add", "clear", "list"], Devices(Complete(shell, "dmp fault ")));
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void Option_values_complete_to_what_the_option_takes(string shell)
    {
        Assert.Equal(["none", "writeback"], Complete(shell, "dmp load --cache "));
        Assert.Equal(["write", "write_zeroes"], Complete(shell, "dmp trace --op wr"));
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void Commands_that_take_an_nbd_device_complete_to_the_daemons_devices(string shell)
    {
        Assert.Equal(["nbd0", "nbd3"], Devices(Complete(shell, $"dmp --run-dir {_runDirectory} detach ")));
        Assert.Equal(["nbd0", "nbd3"], Devices(Complete(shell, $"dmp stat --run-dir {_runDirectory} --device ")));
        Assert.Equal(["nbd3"], Complete(shell, $"dmp --run-dir {_runDirectory} detach nbd3"));
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void Commands_that_take_a_dm_device_complete_to_the_dm_devices_on_the_daemons_devices(string shell)
    {
        Assert.Equal(["dmp1"], Devices(Complete(shell, $"dmp --run-dir {_runDirectory} remove ")));
        Assert.Equal(["dmp1", "nbd0", "nbd3"], Devices(Complete(shell, $"dmp --run-dir {_runDirectory} fault add ")));
        Assert.Equal(["dmp1", "nbd0", "nbd3"], Devices(Complete(shell, $"dmp --run-dir {_runDirectory} trace --device ")));
        Assert.Equal(["dmp1", "nbd0", "nbd3"], Devices(Complete(shell, $"dmp --run-dir {_runDirectory} check nbd0 ")));
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void Without_a_daemon_no_device_is_offered(string shell)
    {
        string empty = Directory.CreateTempSubdirectory("dmp-completion-none-").FullName;
        try
        {
            Assert.Empty(Devices(Complete(shell, $"dmp --run-dir {empty} fault add ")));
            Assert.Equal(["--help", "--run-dir"], Complete(shell, $"dmp detach --"));
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Theory]
    [MemberData(nameof(Shells))]
    public void A_backing_path_completes_to_file_names(string shell)
    {
        File.WriteAllText(Path.Combine(_runDirectory, "disk.img"), "");

        string[] offered = Complete(shell, $"dmp load {_runDirectory}/dis");

        Assert.True(offered.Any(word => word.EndsWith("disk.img", StringComparison.Ordinal)), $"offered: [{string.Join(", ", offered)}]");
    }

    /// <summary>What <paramref name="shell"/> offers for <paramref name="line"/> with the cursor at its end, sorted.</summary>
    private static string[] Complete(string shell, string line)
    {
        ShellResult result = shell == "bash"
            ? Shell.Run(
                $$"""
                PATH={{Repository}}:$PATH
                source {{Repository}}/contrib/completion/dmp.bash
                COMP_LINE='{{line}}'; COMP_POINT=${#COMP_LINE}
                read -ra COMP_WORDS <<<"$COMP_LINE"
                [[ $COMP_LINE != *' ' ]] || COMP_WORDS+=('')
                COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
                _dmp
                printf '%s\n' "${COMPREPLY[@]}"
                """)
            : Shell.Run($"PATH={Repository}:$PATH timeout 30 zsh {Repository}/tests/Dmp.Tests/Cli/complete.zsh {Repository}/contrib/completion '{line}'");
        Assert.True(result.ExitCode == 0, $"{shell}: {result.Errors}");
        return [.. result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(word => word != "-h").Order(StringComparer.Ordinal)];
    }

    private static string[] Devices(string[] offered) => [.. offered.Where(word => !word.StartsWith('-'))];
}
