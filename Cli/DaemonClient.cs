using Dmp.Daemon;

namespace Dmp.Cli;

/// <summary>The CLI's side of the control socket: one request, its output lines, or its error as a <see cref="CommandException"/>.</summary>
internal static class DaemonClient
{
    /// <summary>Long enough for a disconnect that waits for in-flight IO to drain.</summary>
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(60);

    public static IReadOnlyList<string> Request(RunDirectory run, params string[] request)
    {
        DaemonState state = LoadedModule.Require(run);
        ControlReply reply = ControlClient.Send(run.ControlSocket, request, ReplyTimeout)
            ?? throw new CommandException($"the daemon (pid {state.Pid}) does not answer; use 'dmp unload --force'");
        return reply.Succeeded ? reply.Output : throw new CommandException(reply.Error!);
    }

    /// <summary>Sends a request and prints its output lines.</summary>
    public static int Run(RunDirectory run, params string[] request)
    {
        foreach (string line in Request(run, request))
        {
            Console.WriteLine(line);
        }

        return 0;
    }
}
