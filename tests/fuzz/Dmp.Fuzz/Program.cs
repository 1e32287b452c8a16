using System.Diagnostics;
using SharpFuzz;

namespace Dmp.Fuzz;

/// <summary>
/// <c>Dmp.Fuzz TARGET</c>: the fuzzing loop under afl-fuzz (SharpFuzz's fork server; dmp.dll instrumented), the inputs
/// run in a child process, so that one that kills the process outright is saved as a crash rather than ending the run.
/// <c>Dmp.Fuzz --replay TARGET FILE|DIR...</c>: every input once, as <c>make test</c> replays the corpora; an
/// exception, or an input that takes longer than <see cref="ReplayTimeout"/>, fails the replay.
/// </summary>
internal static class Program
{
    private static readonly TimeSpan ReplayTimeout = TimeSpan.FromSeconds(10);

    private static int Main(string[] args)
    {
        switch (args)
        {
            case [string name] when FuzzTargets.All.TryGetValue(name, out FuzzTarget? target):
                Fuzzer.OutOfProcess.Run(stream => target(ReadAll(stream)));
                return 0;
            case ["--replay", string name, .. string[] paths] when FuzzTargets.All.TryGetValue(name, out FuzzTarget? target) && paths.Length > 0:
                return Replay(name, target, paths);
            default:
                Console.Error.WriteLine($"usage: Dmp.Fuzz [--replay] TARGET [FILE|DIR...]; targets: {string.Join(", ", FuzzTargets.All.Keys)}");
                return 2;
        }
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static int Replay(string name, FuzzTarget target, string[] paths)
    {
        string[] files = [.. paths.SelectMany<string, string>(path => Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : [path])];
        int failed = 0;
        foreach (string file in files)
        {
            byte[] input = File.ReadAllBytes(file);
            var watch = Stopwatch.StartNew();
            var run = Task.Run(() => target(input));
            try
            {
                if (!run.Wait(ReplayTimeout))
                {
                    Console.Error.WriteLine($"{name}: {file}: still running after {ReplayTimeout.TotalSeconds} s (a hang)");
                    return 1; // the hung run cannot be stopped: nothing after it would be meaningful
                }
            }
            catch (AggregateException exception)
            {
                Console.Error.WriteLine($"{name}: {file}: {exception.InnerException}");
                failed++;
            }
        }

        Console.WriteLine($"{name}: {files.Length - failed} of {files.Length} inputs replayed without a finding");
        return failed == 0 && files.Length > 0 ? 0 : 1;
    }
}
