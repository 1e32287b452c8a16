using System.CommandLine;
using Dmp.Daemon;

namespace Dmp.Cli;

/// <summary><c>dmp reset</c>: writes 1 to <c>stat/reset</c>.</summary>
internal static class ResetCommand
{
    public static Command Create()
    {
        var command = new Command("reset", "Zero the statistics (write 1 to stat/reset)");
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult result)
    {
        RunDirectory run = CommonOptions.RunDirectoryOf(result);
        LoadedModule.Require(run);
        File.WriteAllText(run.ResetFile, "1\n");
        return 0;
    }
}
