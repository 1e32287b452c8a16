using Dmp.Stats;

namespace Dmp.Tests.Stats;

public class BlockStatTests
{
    [Fact]
    public void A_kernel_stat_line_gives_its_request_and_sector_fields()
    {
        const string line = "     132        3     1056       40        7        0       56      198        0      196      198        2        0       16        0        5        1\n";

        Assert.Equal(new BlockStat(132, 1056, 7, 56, 2, 16, 5), BlockStat.Parse(line));
    }

    [Fact]
    public void An_older_kernels_11_field_line_has_no_discards_or_flushes()
    {
        Assert.Equal(new BlockStat(1, 8, 2, 16, 0, 0, 0), BlockStat.Parse("1 0 8 0 2 0 16 0 0 0 0"));
    }

    [Fact]
    public void Something_else_is_not_a_stat_line()
    {
        Assert.Throws<FormatException>(() => BlockStat.Parse("read:\n reqs: 1\n"));
    }

    [Fact]
    public void Counters_are_laid_out_as_the_kernel_accounts_an_nbd_device()
    {
        IoCounters counters = default;
        counters[IoOperation.Read] = new OperationCounters(10, 40960, 0);
        counters[IoOperation.Write] = new OperationCounters(3, 1536, 0);
        counters[IoOperation.WriteZeroes] = new OperationCounters(1, 4096, 0);
        counters[IoOperation.Discard] = new OperationCounters(2, 1 << 20, 0);
        counters[IoOperation.Flush] = new OperationCounters(4, 0, 0);

        BlockStat stat = BlockStat.FromCounters(counters);

        Assert.Equal(new BlockStat(10, 80, 4, 11, 2, 2048, 4), stat);
        Assert.Equal(stat, BlockStat.Parse(stat.Format()));
        Assert.Equal(17, stat.Format().Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Identical_counts_are_correct()
    {
        var stat = new BlockStat(10, 80, 5, 40, 1, 8, 0);
        Assert.Empty(ConsistencyCheck.Compare(stat, stat));
    }

    [Fact]
    public void A_flush_the_kernel_also_counts_as_an_empty_write_is_not_a_mismatch()
    {
        var dmp = new BlockStat(0, 0, 1, 8, 0, 0, 1);
        var kernel = new BlockStat(0, 0, 2, 8, 0, 0, 1);
        Assert.Empty(ConsistencyCheck.Compare(dmp, kernel));
    }

    [Fact]
    public void Flushes_the_block_layer_merged_are_reported_as_such()
    {
        // fio with --fsync=1 --numjobs=4 on a 6.1 kernel: 8190 empty flush requests, merged into 5806 flushes.
        var dmp = new BlockStat(0, 0, 8189, 65520, 0, 0, 5806);
        var kernel = new BlockStat(0, 0, 16379, 65520, 0, 0, 5806);

        Assert.Equal(
            ["writes: dmp 8189, kernel 10573 (2384 more empty flush requests than flushes sent: the block layer merged concurrent flushes)"],
            ConsistencyCheck.Compare(dmp, kernel));
    }

    [Fact]
    public void Each_disagreeing_field_gets_its_own_line()
    {
        var dmp = new BlockStat(10, 80, 5, 40, 0, 0, 0);
        var kernel = new BlockStat(11, 88, 5, 40, 0, 0, 0);
        Assert.Equal(["reads: dmp 10, kernel 11", "read sectors: dmp 80, kernel 88"], ConsistencyCheck.Compare(dmp, kernel));
    }

    [Fact]
    public void Requests_counted_twice_across_a_takeover_are_explained_by_those_in_flight_then()
    {
        var kernel = new BlockStat(100, 800, 53, 400, 0, 0, 3); // the kernel counts each flush as an empty write too
        var dmp = new BlockStat(102, 816, 51, 408, 0, 0, 3);

        Assert.Equal(
            ["reads: dmp 102, kernel 100", "read sectors: dmp 816, kernel 800", "writes: dmp 51, kernel 50", "write sectors: dmp 408, kernel 400",
                "5 requests were in flight when a socket was replaced (a new daemon took over, or the kernel gave one up): those counted but not answered on the old socket were sent again, and counted twice"],
            ConsistencyCheck.Compare(dmp, kernel, inFlightAtTakeovers: 5));
    }

    [Theory]
    [InlineData(2)] // more counted twice than were in flight
    [InlineData(0)] // no takeover
    public void A_surplus_that_requests_in_flight_at_a_takeover_cannot_explain_is_not_explained(long inFlight)
    {
        var kernel = new BlockStat(100, 800, 53, 400, 0, 0, 3); // the kernel counts each flush as an empty write too
        var dmp = new BlockStat(102, 816, 51, 408, 0, 0, 3);

        Assert.Equal(4, ConsistencyCheck.Compare(dmp, kernel, inFlight).Count);
    }

    [Fact]
    public void Fewer_requests_than_the_kernel_are_never_put_down_to_a_takeover()
    {
        var kernel = new BlockStat(100, 800, 53, 400, 0, 0, 3); // the kernel counts each flush as an empty write too
        var dmp = new BlockStat(99, 792, 50, 400, 0, 0, 3);

        Assert.Equal(2, ConsistencyCheck.Compare(dmp, kernel, inFlightAtTakeovers: 5).Count);
    }
}
