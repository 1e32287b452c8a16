using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dmp.Stats;

namespace Dmp.Faults;

/// <summary>
/// The fault rules of one device, in the order they were added. Each request is checked against them in
/// that order and the first that fires acts. The request path reads the list without a lock (it is replaced
/// whole on each change), and a device without rules costs it one check of an empty list.
/// </summary>
internal sealed class DeviceFaults
{
    /// <summary>What a write to the tree's <c>faults</c> file removes rules with: <c>clear</c>, or <c>clear ID</c>.</summary>
    public const string ClearWord = "clear";

    private readonly Lock _lock = new();
    private readonly string? _keptIn;
    private FaultRule[] _rules = [];
    private int _lastId;

    /// <param name="deviceSize">The device's size in bytes: a rule's range must lie within it.</param>
    /// <param name="keptIn">A file the rules are kept in, a line each, so that the next daemon has them (under
    /// <c>dmp load</c>, in the run directory); the rules it holds already are read first. Null keeps them in memory.</param>
    /// <param name="log">Told of a line of that file that is not a rule.</param>
    public DeviceFaults(long deviceSize, string? keptIn = null, Action<string>? log = null)
    {
        DeviceSize = deviceSize;
        _keptIn = keptIn;
        if (keptIn is not null && File.Exists(keptIn))
        {
            Restore(keptIn, log);
        }
    }

    public long DeviceSize { get; }

    /// <summary>True while the device has rules.</summary>
    public bool Active => Volatile.Read(ref _rules).Length != 0;

    /// <summary>The rules now, in order.</summary>
    public IReadOnlyList<FaultRule> Rules => Volatile.Read(ref _rules);

    /// <summary>Reads a rule and adds it after the others.</summary>
    /// <returns>The rule, or null with <paramref name="error"/> saying what is wrong (nothing is then added).</returns>
    public FaultRule? TryAdd(string text, out string error)
    {
        FaultRule? rule = FaultRule.TryParse(text, DeviceSize, out error);
        if (rule is not null)
        {
            lock (_lock)
            {
                rule.Join(++_lastId);
                Volatile.Write(ref _rules, [.. _rules, rule]);
                Keep();
            }
        }

        return rule;
    }

    /// <summary>Removes rule <paramref name="id"/>, or every rule for null.</summary>
    /// <returns>False when there is no rule <paramref name="id"/>.</returns>
    public bool Clear(int? id)
    {
        lock (_lock)
        {
            FaultRule[] kept = id is null ? [] : _rules.Where(rule => rule.Id != id).ToArray();
            if (kept.Length == _rules.Length && id is not null)
            {
                return false;
            }

            Volatile.Write(ref _rules, kept);
            Keep();
            return true;
        }
    }

    /// <summary>What the rules make of a request that passed the protocol's checks: the first that fires acts.</summary>
    /// <param name="length">Its length in bytes (0 for a FLUSH).</param>
    public FaultDecision Decide(IoOperation operation, long offset, long length)
    {
        FaultRule[] rules = Volatile.Read(ref _rules);
        if (rules.Length == 0)
        {
            return default;
        }

        long now = Stopwatch.GetTimestamp();
        foreach (FaultRule rule in rules)
        {
            if (rule.TryFire(operation, offset, length, now))
            {
                return rule.Decision();
            }
        }

        return default;
    }

    /// <summary>The tree's <c>faults</c> file: a rule per line, its id first and how often it fired last.</summary>
    public string Format()
    {
        var text = new StringBuilder();
        foreach (FaultRule rule in Rules)
        {
            text.Append(CultureInfo.InvariantCulture, $"{rule.Id} {rule} fired={rule.Fired}\n");
        }

        return text.ToString();
    }

    /// <summary>Writes the rules to the file they are kept in, whole or not at all; the caller holds <see cref="_lock"/>.</summary>
    private void Keep()
    {
        if (_keptIn is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_keptIn)!);
            File.WriteAllLines(_keptIn + ".new", _rules.Select(rule => string.Create(CultureInfo.InvariantCulture, $"{rule.Id} {rule}")));
            File.Move(_keptIn + ".new", _keptIn, overwrite: true);
        }
    }

    /// <summary>Reads the rules a daemon before kept, each with its id; a line that is not a rule is left out, and said so.</summary>
    private void Restore(string path, Action<string>? log)
    {
        var rules = new List<FaultRule>();
        foreach (string line in File.ReadAllLines(path))
        {
            string[] parts = line.Split(' ', 2);
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int id) &&
                FaultRule.TryParse(parts[1], DeviceSize, out _) is { } rule)
            {
                rule.Join(id);
                rules.Add(rule);
                _lastId = Math.Max(_lastId, id);
            }
            else
            {
                log?.Invoke($"{path}: not a fault rule, left out: '{line}'");
            }
        }

        _rules = [.. rules];
    }

    /// <summary>A line written to the tree's <c>faults</c> file, like a dm message: a rule adds it, <c>clear</c> removes
    /// every rule and <c>clear ID</c> one.</summary>
    /// <returns>Null, or what is wrong (nothing is then changed).</returns>
    public string? Apply(string line)
    {
        string[] words = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words is not [ClearWord, ..])
        {
            return TryAdd(line, out string error) is null ? error : null;
        }

        if (words.Length > 2 || (words.Length == 2 && !int.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out _)))
        {
            return "expected 'clear' or 'clear ID'";
        }

        int? id = words.Length == 2 ? int.Parse(words[1], CultureInfo.InvariantCulture) : null;
        return Clear(id) ? null : $"there is no rule {id}";
    }
}
