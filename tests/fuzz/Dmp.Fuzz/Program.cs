using SharpFuzz;

namespace Dmp.Fuzz;

/// <summary>
/// <c>Dmp.Fuzz TARGET</c>: the fuzzing loop under afl-fuzz (SharpFuzz's fork server; dmp.dll instrumented), the inputs
/// run in a child process, so that one that kills the process outright is saved as a crash rather than ending the run.
/// <c>Dmp.Fuzz --replay TARGET FILE|DIR...</c>: every input, as <c>make test</c> replays the corpora; an exception, an
/// input that takes longer than <see cref="ReplayTimeout"/>, or a leak (heap or descriptors growing over
/// <see cref="LeakRounds"/> more rounds) fails the replay.
/// </summary>
internal static class Program
{
    private static readonly TimeSpan ReplayTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How often a replay runs its inputs again to look for leaks, and the heap growth it lets pass.</summary>
    private const int LeakRounds = 20;
    private const long HeapGrowthLimit = 1 << 20;

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
        byte[][] inputs = [.. files.Select(File.ReadAllBytes)];
        int failed = RunAll(name, target, files, inputs);
        if (failed != 0 || files.Length == 0)
        {
            return 1;
        }

        // Leaks: the same inputs again and again must leave the managed heap and the open descriptors as they were
        // after the first round (which warms up what is made once).
        (long heap, int descriptors) = InUse();
        for (int round = 0; round < LeakRounds; round++)
        {
            if (RunAll(name, target, files, inputs) != 0)
            {
                return 1;
            }
        }

        (long heapAfter, int descriptorsAfter) = InUse();
        string growth = $"heap {(heapAfter - heap) / 1024:+#;-#;0} KiB, descriptors {descriptorsAfter - descriptors:+#;-#;0} after {LeakRounds} more rounds";
        if (heapAfter - heap > HeapGrowthLimit || descriptorsAfter > descriptors)
        {
            Console.Error.WriteLine($"{name}: a leak: {growth}");
            return 1;
        }

        Console.WriteLine($"{name}: {files.Length} of {files.Length} inputs replayed without a finding; no leak ({growth})");
        return 0;
    }

    /// <summary>Runs every input once; returns how many failed, or -1 on a hang (after which nothing can be trusted).</summary>
    private static int RunAll(string name, FuzzTarget target, string[] files, byte[][] inputs)
    {
        int failed = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            byte[] input = inputs[i];
            var run = Task.Run(() => target(input));
            try
            {
                if (!run.Wait(ReplayTimeout))
                {
                    Console.Error.WriteLine($"{name}: {files[i]}: still running after {ReplayTimeout.TotalSeconds} s (a hang)");
                    return -1; // the hung run cannot be stopped
                }
            }
            catch (AggregateException exception)
            {
                Console.Error.WriteLine($"{name}: {files[i]}: {exception.InnerException}");
                failed++;
            }
        }

        return failed;
    }

    /// <summary>The managed heap after a full collection, and the process's open descriptors.</summary>
    private static (long Heap, int Descriptors) InUse()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return (GC.GetTotalMemory(forceFullCollection: true), Directory.GetFiles("/proc/self/fd").Length);
    }
}
