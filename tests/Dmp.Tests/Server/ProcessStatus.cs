namespace Dmp.Tests.Server;

/// <summary>What the kernel says of a running process: its resident memory, and its threads by name.</summary>
internal sealed record ProcessStatus(long ResidentKiB, int Threads)
{
    public static ProcessStatus Of(int pid)
    {
        string[] lines = File.ReadAllLines($"/proc/{pid}/status");
        return new ProcessStatus(Field(lines, "VmRSS:"), (int)Field(lines, "Threads:"));
    }

    public long ResidentMiB => ResidentKiB / 1024;

    /// <summary>The threads of <paramref name="pid"/> whose name (as the kernel keeps it, 15 characters) starts with <paramref name="prefix"/>.</summary>
    public static int ThreadsNamed(int pid, string prefix) =>
        Directory.EnumerateDirectories($"/proc/{pid}/task").Count(task =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(task, "comm")).StartsWith(prefix, StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false; // the thread ended meanwhile
            }
        });

    private static long Field(string[] lines, string name) =>
        long.Parse(lines.Single(line => line.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim().Split(' ')[0]);
}
