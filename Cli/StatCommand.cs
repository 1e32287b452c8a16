using System.CommandLine;
using Dmp.Daemon;

namespace Dmp.Cli;

/// <summary><c>dmp stat</c>: prints <c>stat/volumes</c>, as <c>cat</c> would.</summary>
internal static class StatCommand
{
    public static Command Create()
    {
        var command = new Command("stat", "Print the statistics (the stat/volumes file)");
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult result)
    {
        RunDirectory run = CommonOptions.RunDirectoryOf(result);
        LoadedModule.Require(run);
        Console.Write(File.ReadAllText(run.VolumesFile));
        return 0;
    }
}
