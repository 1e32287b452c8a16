using System.Diagnostics;

namespace Dmp.Faults;

/// <summary>
/// Holds work items until their time has come, then queues them to the thread pool: a request a fault rule
/// delays waits here, holding no thread, while the requests behind it pass. One timer thread serves the
/// whole process, started with the first delay; only delayed requests ever take its lock.
/// </summary>
internal static class DelayTimer
{
    private static readonly Lock Lock = new();
    private static readonly PriorityQueue<IThreadPoolWorkItem, long> Waiting = new();
    private static readonly AutoResetEvent Wake = new(false);
    private static Thread? _thread;

    /// <summary>Queues <paramref name="item"/> to the thread pool once <paramref name="delay"/> has passed.</summary>
    public static void Schedule(IThreadPoolWorkItem item, TimeSpan delay)
    {
        long due = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        bool soonest;
        lock (Lock)
        {
            soonest = !Waiting.TryPeek(out _, out long next) || due < next;
            Waiting.Enqueue(item, due);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "fault delays" };
                _thread.Start();
            }
        }

        if (soonest)
        {
            Wake.Set();
        }
    }

    /// <summary>Lets the waiting items <paramref name="matches"/> picks go now: their connection is ending and
    /// must not wait out a delay to finish.</summary>
    public static void Expedite(Func<IThreadPoolWorkItem, bool> matches)
    {
        lock (Lock)
        {
            if (!Waiting.UnorderedItems.Any(waiting => matches(waiting.Element)))
            {
                return;
            }

            long now = Stopwatch.GetTimestamp();
            (IThreadPoolWorkItem Item, long Due)[] all = [.. Waiting.UnorderedItems.Select(waiting =>
                (waiting.Element, matches(waiting.Element) ? now : waiting.Priority))];
            Waiting.Clear();
            foreach ((IThreadPoolWorkItem item, long due) in all)
            {
                Waiting.Enqueue(item, due);
            }
        }

        Wake.Set();
    }

    private static void Run()
    {
        while (true)
        {
            TimeSpan wait = Timeout.InfiniteTimeSpan;
            lock (Lock)
            {
                long now = Stopwatch.GetTimestamp();
                while (Waiting.TryPeek(out IThreadPoolWorkItem? item, out long due))
                {
                    if (due > now)
                    {
                        // Rounded up: a wake a little late is fine, one early would only spin.
                        wait = TimeSpan.FromMilliseconds(Math.Ceiling((due - now) * 1000.0 / Stopwatch.Frequency));
                        break;
                    }

                    Waiting.Dequeue();
                    ThreadPool.UnsafeQueueUserWorkItem(item, preferLocal: false);
                }
            }

            Wake.WaitOne(wait);
        }
    }
}
