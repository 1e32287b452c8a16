using System.CommandLine;
using System.CommandLine.Parsing;
using Dmp.Native;

namespace Dmp.Cli;

/// <summary>The command tree, and the one place that turns failures into a line on stderr and an exit code.</summary>
internal static class DmpCommandLine
{
    public const int Failure = 1;
    public const int UsageError = 2;

    public static RootCommand Create()
    {
        var root = new RootCommand("dmp: count block IO through a device-mapper proxy served from userspace")
        {
            CommonOptions.RunDirectory,
            LoadCommand.Create(),
            UnloadCommand.Create(),
            RestartCommand.Create(),
            DeviceCommands.CreateReload(),
            StatCommand.Create(),
            StatCommand.CreateReset(),
            DeviceCommands.CreateCreate(),
            DeviceCommands.CreateRemove(),
            CheckCommand.Create(),
            DeviceCommands.CreateStatus(),
            DeviceCommands.CreateAttach(),
            DeviceCommands.CreateDetach(),
            TraceCommand.Create(),
            FaultCommand.Create(),
            ServeCommand.Create(),
            DaemonCommand.Create(),
        };
        return root;
    }

    public static int Run(string[] args)
    {
        ParseResult result = Create().Parse(args);
        if (result.Errors.Count > 0)
        {
            // "No command" is implied by an unknown one; name the unknown one instead.
            ParseError error = result.Errors.FirstOrDefault(e => result.UnmatchedTokens.Any(e.Message.Contains)) ?? result.Errors[0];
            Console.Error.WriteLine($"{Daemon.DaemonLog.ErrorPrefix}dmp: {error.Message} (see 'dmp --help')");
            return UsageError;
        }

        try
        {
            return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception exception) when (exception is CommandException or NativeException or InvalidOperationException
            or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"{Daemon.DaemonLog.ErrorPrefix}dmp: {exception.Message}");
            return Failure;
        }
    }
}
