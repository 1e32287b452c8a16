using System.CommandLine;
using System.Text;
using System.Text.Json;
using Dmp.Daemon;
using Dmp.Stats;
using Dmp.Sysfs;
using Dmp.Trace;

namespace Dmp.Cli;

/// <summary>
/// <c>dmp trace</c>: prints the requests as they complete, from the stat tree's <c>trace</c> (a device's, or all
/// of dmp's), until Ctrl-C or <c>--count</c> lines: the lines as the file has them (<see cref="TraceLine"/>), or
/// one JSON object each. Root only, like the file.
/// </summary>
internal static class TraceCommand
{
    private const int ReadSize = 128 * 1024;

    private static readonly Option<string?> Device = new("--device", "-d")
    {
        Description = "Only this device's requests: nbdK (exportN under serve), or a dm device on dmp devices",
        HelpName = "NAME",
        CompletionSources = { DeviceCompletions.AnyDevices },
    };

    private static readonly Option<bool> Json = new("--json") { Description = "Print one JSON object per line" };

    private static readonly Option<string[]> Operations = new("--op")
    {
        Description = "Only this operation: read, write, write_zeroes, discard, flush or cache (repeatable)",
        HelpName = "OP",
        CompletionSources = { _ => IoOperations.All.Select(operation => new System.CommandLine.Completions.CompletionItem(IoOperations.NameOf(operation))) },
        CustomParser = result => CommonOptions.ParseEach(result, name => IoOperations.All.Any(operation => IoOperations.NameOf(operation) == name)
            ? name
            : throw new FormatException($"--op: unknown operation '{name}': expected read, write, write_zeroes, discard, flush or cache")),
    };

    private static readonly Option<long> MinimumLatency = new("--min-latency")
    {
        Description = "Only requests that took at least US microseconds",
        HelpName = "US",
        CustomParser = result => WholeNumber(result, "--min-latency", minimum: 0),
    };

    private static readonly Option<long?> Count = new("--count", "-n")
    {
        Description = "Stop after N lines",
        HelpName = "N",
        CustomParser = result => WholeNumber(result, "--count", minimum: 1),
    };

    public static Command Create()
    {
        var command = new Command("trace", "Print each request as it completes (the stat tree's trace), until Ctrl-C")
        {
            Device, Json, Operations, MinimumLatency, Count,
        };
        command.SetAction(Execute);
        return command;
    }

    private static int Execute(ParseResult result)
    {
        LoadedModule.RequireRoot("trace");
        RunDirectory run = CommonOptions.RunDirectoryOf(result);
        LoadedModule.Require(run);
        (string path, HashSet<string>? devices) = Source(run, result.GetValue(Device));
        var filter = new TraceFilter(devices, result.GetValue(Operations) ?? [], result.GetValue(MinimumLatency));
        long remaining = result.GetValue(Count) ?? long.MaxValue;
        bool json = result.GetValue(Json);

        using var trace = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
        using var output = new BufferedStream(Console.OpenStandardOutput(), ReadSize);
        using var jsonWriter = new Utf8JsonWriter(output);
        byte[] buffer = new byte[ReadSize];
        int carried = 0;
        while (remaining > 0)
        {
            int read = trace.Read(buffer, carried, buffer.Length - carried);
            if (read == 0)
            {
                return 0; // the stat tree went away: dmp was unloaded
            }

            // Each read brings whole lines but the last may be cut: the rest comes with the next read.
            int end = carried + read;
            int start = 0;
            for (int length; remaining > 0 && (length = buffer.AsSpan(start, end - start).IndexOf((byte)'\n')) >= 0; start += length + 1)
            {
                ReadOnlySpan<byte> line = buffer.AsSpan(start, length);
                if (filter.Passes(line))
                {
                    remaining--;
                    if (json)
                    {
                        WriteJson(jsonWriter, output, Encoding.UTF8.GetString(line));
                    }
                    else
                    {
                        output.Write(buffer, start, length + 1);
                    }
                }
            }

            carried = end - start;
            buffer.AsSpan(start, carried).CopyTo(buffer);
            output.Flush();
        }

        return 0;
    }

    /// <summary>The trace file to read, and the devices to keep from it (null for every line).</summary>
    private static (string Path, HashSet<string>? Devices) Source(RunDirectory run, string? device)
    {
        string module = Path.Combine(run.StatDirectory(), ModuleTree.TraceFile);
        if (device is null)
        {
            return File.Exists(module) ? (module, null) : throw new CommandException("the stat tree is not mounted");
        }

        string[] below = ServedDevices.Resolve(device, ServedDevices.List(run));
        return below.Length == 1 ? (Path.Combine(run.DevicesDirectory(below[0]), ModuleTree.TraceFile), null) : (module, [.. below]);
    }

    private static void WriteJson(Utf8JsonWriter writer, Stream output, string line)
    {
        writer.Reset(output);
        if (TraceLine.ParseLost(line) is long lost)
        {
            writer.WriteStartObject();
            writer.WriteNumber("lost", lost);
            writer.WriteEndObject();
        }
        else
        {
            TraceEntry entry = TraceLine.Parse(line)!;
            writer.WriteStartObject();
            writer.WriteNumber("time", entry.Time);
            writer.WriteString("device", entry.Device);
            writer.WriteNumber("connection", entry.Connection);
            writer.WriteString("op", entry.Operation);
            writer.WriteNumber("offset", entry.Offset);
            writer.WriteNumber("length", entry.Length);
            writer.WriteStartArray("flags");
            foreach (string flag in entry.Flags)
            {
                writer.WriteStringValue(flag);
            }

            writer.WriteEndArray();
            writer.WriteNumber("latency_us", entry.LatencyMicroseconds);
            writer.WriteString("result", entry.Result);
            if (entry.Rule is int rule)
            {
                writer.WriteNumber("rule", rule);
            }
            else
            {
                writer.WriteNull("rule");
            }

            writer.WriteEndObject();
        }

        writer.Flush();
        output.WriteByte((byte)'\n');
    }

    /// <summary>A whole number of at least <paramref name="minimum"/>; anything else is a parse error that says so.</summary>
    private static long WholeNumber(System.CommandLine.Parsing.ArgumentResult result, string name, long minimum)
    {
        string text = result.Tokens[0].Value;
        if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) ||
            value < minimum)
        {
            result.AddError($"{name} must be a whole number of {minimum} or more, not '{text}'");
        }

        return value;
    }
}
