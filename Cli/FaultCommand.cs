using System.CommandLine;
using Dmp.Daemon;
using Dmp.Faults;

namespace Dmp.Cli;

/// <summary>
/// <c>dmp fault add|list|clear</c>: a device's fault rules (see <see cref="FaultRule"/>), each command one
/// request to the daemon, which the control socket's permissions admit (root's for a loaded dmp).
/// </summary>
internal static class FaultCommand
{
    private static readonly Argument<string> Device = new("DEVICE")
    {
        Description = "nbdK, or a dm device on one (by name, as create made it)",
        HelpName = "DEVICE", // help would otherwise list the completions
        CompletionSources = { DeviceCompletions.AnyDevices },
    };

    public static Command Create()
    {
        var rule = new Argument<string[]>("RULE")
        {
            Description = "key=value words: op= offset= length= probability= after= count= up= down=, and one of error=ERRNO, delay=TIME[-TIME], drop, corrupt",
            Arity = ArgumentArity.OneOrMore,
        };
        var add = Request(
            new Command("add", "Add a fault rule to DEVICE, after its others (the first rule that fires acts)") { Device, rule },
            result => [FaultRequests.Add, result.GetValue(Device)!, string.Join(' ', result.GetValue(rule)!)]);

        var optionalDevice = new Argument<string?>("DEVICE")
        {
            Description = "One device's rules (all devices' when left out)",
            Arity = ArgumentArity.ZeroOrOne,
            HelpName = "DEVICE", // help would otherwise list the completions
            CompletionSources = { DeviceCompletions.AnyDevices },
        };
        var list = Request(
            new Command("list", "List fault rules: device, id, how often each fired, the rule") { optionalDevice },
            result => [FaultRequests.List, result.GetValue(optionalDevice) ?? ""]);

        var id = new Argument<int?>("ID") { Description = "The rule to remove (all of DEVICE's when left out)", Arity = ArgumentArity.ZeroOrOne };
        var clear = Request(
            new Command("clear", "Remove a fault rule of DEVICE, or all of them") { Device, id },
            result => [FaultRequests.Clear, result.GetValue(Device)!, result.GetValue(id)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""]);

        return new Command("fault", "Make a device misbehave on purpose: fail, delay, drop or corrupt the requests a rule matches") { add, list, clear };
    }

    private static Command Request(Command command, Func<ParseResult, string[]> request)
    {
        command.SetAction(result => DaemonClient.Run(CommonOptions.RunDirectoryOf(result), request(result)));
        return command;
    }
}
