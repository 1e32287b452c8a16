using System.CommandLine;
using Dmp.Daemon;

namespace Dmp.Cli;

/// <summary><c>dmp stat</c> and <c>dmp reset</c>: shorthands for the stat tree's files, as <c>cat</c> and <c>echo</c> use them.</summary>
internal static class StatCommands
{
    public static Command CreateStat() =>
        Create("stat", "Print the statistics (the stat/volumes file)", run => Console.Write(File.ReadAllText(run.VolumesFile)));

    public static Command CreateReset() =>
        Create("reset", "Zero the statistics (write 1 to stat/reset)", run => File.WriteAllText(run.ResetFile, "1\n"));

    private static Command Create(string name, string description, Action<RunDirectory> act)
    {
        var command = new Command(name, description);
        command.SetAction(result =>
        {
            RunDirectory run = CommonOptions.RunDirectoryOf(result);
            LoadedModule.Require(run);
            act(run);
        });
        return command;
    }
}
