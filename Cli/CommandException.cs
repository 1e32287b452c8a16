namespace Dmp.Cli;

/// <summary>A failure the user can act on; its message is printed as the one line of output.</summary>
internal sealed class CommandException(string message) : Exception(message);
