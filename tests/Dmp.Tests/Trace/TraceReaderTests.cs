using System.Text;
using Dmp.Trace;

namespace Dmp.Tests.Trace;

public sealed class TraceReaderTests
{
    private readonly TraceHub _hub = new();

    [Fact]
    public void Reads_of_any_size_give_whole_lines_in_order_and_finish_a_cut_line_next_time()
    {
        using var reader = new TraceReader(_hub, device: null);
        for (int i = 0; i < 50; i++)
        {
            _hub.Publish(TraceSubscriptionTests.Record(i));
        }

        var text = new StringBuilder();
        byte[] buffer = new byte[37];
        for (int read = reader.Read(buffer); read > 0; read = reader.Read(buffer))
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, read));
        }

        string[] lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), lines.Select(line => TraceLine.Parse(line)!.Offset));
    }

    [Fact]
    public void A_reader_that_fell_behind_is_told_how_many_lines_it_lost_and_then_gets_the_rest()
    {
        using var reader = new TraceReader(_hub, device: null);
        for (int i = 0; i < TraceHub.ReaderCapacity + 100; i++)
        {
            _hub.Publish(TraceSubscriptionTests.Record(i));
        }

        byte[] buffer = new byte[TraceLine.MaxLength];
        string first = Encoding.UTF8.GetString(buffer, 0, reader.Read(buffer.AsSpan(0, 100)));

        Assert.StartsWith("# lost 100 lines\n", first, StringComparison.Ordinal);
        Assert.True(reader.CanFill(64 * 1024), "a full queue fills a large read");
    }

    [Fact]
    public void A_reader_sees_only_what_was_published_after_it_opened_and_stops_seeing_once_closed()
    {
        _hub.Publish(TraceSubscriptionTests.Record(1));
        var reader = new TraceReader(_hub, device: "nbd0");
        _hub.Publish(TraceSubscriptionTests.Record(2));
        _hub.Publish(TraceSubscriptionTests.Record(3, device: "nbd1"));
        byte[] buffer = new byte[4096];

        string text = Encoding.UTF8.GetString(buffer, 0, reader.Read(buffer));
        reader.Dispose();

        Assert.Equal([2L], text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => TraceLine.Parse(line)!.Offset));
        Assert.False(_hub.Active);
        Assert.False(reader.CanFill(1));
    }
}
