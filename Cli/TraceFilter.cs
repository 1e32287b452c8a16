using System.Buffers.Text;
using System.Text;
using Dmp.Trace;

namespace Dmp.Cli;

/// <summary>
/// Which trace lines <c>dmp trace</c> prints: by device, operation and service time, read straight from the
/// line's bytes (a reader at full speed sees a hundred thousand lines a second). Lost-lines notices always pass.
/// </summary>
internal sealed class TraceFilter
{
    private readonly byte[][]? _devices;
    private readonly byte[][] _operations;
    private readonly long _minimumLatency;

    /// <param name="devices">The devices to keep, or null for all.</param>
    /// <param name="operations">The operations to keep, or none for all.</param>
    public TraceFilter(IEnumerable<string>? devices, IEnumerable<string> operations, long minimumLatency)
    {
        _devices = devices?.Select(Encoding.UTF8.GetBytes).ToArray();
        _operations = [.. operations.Select(Encoding.UTF8.GetBytes)];
        _minimumLatency = minimumLatency;
    }

    public bool Passes(ReadOnlySpan<byte> line)
    {
        if ((_devices is null && _operations.Length == 0 && _minimumLatency == 0) || line.StartsWith("#"u8))
        {
            return true;
        }

        return (_devices is null || IsOneOf(TraceLine.Field(line, TraceLine.DeviceField), _devices)) &&
            (_operations.Length == 0 || IsOneOf(TraceLine.Field(line, TraceLine.OperationField), _operations)) &&
            (_minimumLatency == 0 ||
                (Utf8Parser.TryParse(TraceLine.Field(line, TraceLine.LatencyField), out long latency, out _) && latency >= _minimumLatency));
    }

    private static bool IsOneOf(ReadOnlySpan<byte> field, byte[][] values)
    {
        foreach (byte[] value in values)
        {
            if (field.SequenceEqual(value))
            {
                return true;
            }
        }

        return false;
    }
}
