using Dmp.Trace;

namespace Dmp.Tests.Trace;

public sealed class TraceSubscriptionTests
{
    [Fact]
    public void A_reader_takes_records_in_the_order_they_were_written()
    {
        var subscription = new TraceSubscription(device: null, capacity: 8);
        for (int i = 0; i < 5; i++)
        {
            subscription.Write(Record(i));
        }

        Assert.Equal([0, 1, 2, 3, 4], Drain(subscription).Select(record => (int)record.Offset));
        Assert.False(subscription.TryRead(out _));
    }

    [Fact]
    public void A_full_queue_drops_what_comes_and_counts_it_lost_until_the_reader_makes_room()
    {
        var subscription = new TraceSubscription(device: null, capacity: 4);
        for (int i = 0; i < 10; i++)
        {
            subscription.Write(Record(i));
        }

        Assert.Equal([0, 1, 2, 3], Drain(subscription).Select(record => (int)record.Offset));
        Assert.Equal(6, subscription.TakeLost());
        Assert.Equal(0, subscription.TakeLost());
        subscription.Write(Record(10));
        Assert.Equal([10], Drain(subscription).Select(record => (int)record.Offset));
    }

    [Fact]
    public async Task Writers_on_many_threads_lose_nothing_the_reader_keeps_up_with_and_count_what_it_does_not()
    {
        const int writers = 4;
        const int each = 200_000;
        var subscription = new TraceSubscription(device: null, capacity: 1024);
        var seen = new List<long>();
        using var done = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            while (!done.IsCancellationRequested || subscription.Count > 0)
            {
                while (subscription.TryRead(out TraceRecord record))
                {
                    seen.Add(record.Offset);
                }
            }
        });

        Parallel.For(0, writers, writer =>
        {
            for (int i = 0; i < each; i++)
            {
                subscription.Write(Record((writer * each) + i));
            }
        });
        await done.CancelAsync();
        await reader;

        Assert.Equal(writers * each, seen.Count + subscription.TakeLost());
        Assert.Equal(seen.Count, seen.Distinct().Count());
        foreach (IGrouping<long, long> writer in seen.GroupBy(offset => offset / each))
        {
            Assert.Equal(writer.Order(), writer); // each writer's records in the order it wrote them
        }
    }

    [Fact]
    public void A_hub_gives_each_record_to_the_readers_that_follow_its_device()
    {
        var hub = new TraceHub();
        Assert.False(hub.Active);
        TraceSubscription all = hub.Subscribe(device: null);
        TraceSubscription nbd1 = hub.Subscribe("nbd1");
        Assert.True(hub.Active);

        hub.Publish(Record(0, "nbd0"));
        hub.Publish(Record(1, "nbd1"));
        hub.Unsubscribe(all);
        hub.Publish(Record(2, "nbd1"));
        hub.Unsubscribe(nbd1);

        Assert.False(hub.Active);
        Assert.Equal([0, 1], Drain(all).Select(record => (int)record.Offset));
        Assert.Equal([1, 2], Drain(nbd1).Select(record => (int)record.Offset));
    }

    internal static TraceRecord Record(long offset, string device = "nbd0") => new() { Offset = offset, Device = device, Length = 512 };

    private static List<TraceRecord> Drain(TraceSubscription subscription)
    {
        var records = new List<TraceRecord>();
        while (subscription.TryRead(out TraceRecord record))
        {
            records.Add(record);
        }

        return records;
    }
}
