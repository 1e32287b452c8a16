using System.Text;

namespace Dmp.Daemon;

/// <summary>
/// The wire form of the control socket. A request is one line of fields, each percent-encoded so that
/// paths may hold spaces; a reply is the output lines, then a status line that is <c>ok</c> or
/// <c>error MESSAGE</c>. The status line ends the reply, so a reader needs no end of stream.
/// </summary>
internal static class ControlProtocol
{
    private const string Ok = "ok";
    private const string ErrorPrefix = "error ";

    public static string EncodeRequest(IEnumerable<string> fields) => string.Join(' ', fields.Select(Uri.EscapeDataString));

    /// <summary>The fields of a request line; an empty field (two spaces in a row) stays a field.</summary>
    public static string[] DecodeRequest(string line) => line.Split(' ').Select(Uri.UnescapeDataString).ToArray();

    public static string EncodeReply(ControlReply reply)
    {
        var text = new StringBuilder();
        foreach (string line in reply.Output)
        {
            text.Append(line).Append('\n');
        }

        return text.Append(reply.Succeeded ? Ok : ErrorPrefix + reply.Error).Append('\n').ToString();
    }

    /// <summary>Reads a reply up to its status line.</summary>
    /// <returns>Null when the stream ends before the status line (the other side died).</returns>
    public static ControlReply? ReadReply(TextReader reader)
    {
        var output = new List<string>();
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            if (line == Ok)
            {
                return new ControlReply(output, null);
            }

            if (line.StartsWith(ErrorPrefix, StringComparison.Ordinal))
            {
                return new ControlReply(output, line[ErrorPrefix.Length..]);
            }

            output.Add(line);
        }

        return null;
    }
}
