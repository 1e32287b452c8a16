using Dmp.Faults;
using Dmp.Stats;

namespace Dmp.Tests.Faults;

public sealed class FaultRuleTests
{
    private const long DeviceSize = 64 << 20;

    [Theory]
    [InlineData("error=EIO", "op=any error=EIO")]
    [InlineData("op=read error=eio", "op=read error=EIO")]
    [InlineData("op=write_zeroes offset=1M length=4K error=ENOSPC", "op=write_zeroes offset=1048576 length=4096 error=ENOSPC")]
    [InlineData("offset=2048s length=8s error=EPERM", "op=any offset=1048576 length=4096 error=EPERM")]
    [InlineData("offset=63M error=EIO", "op=any offset=66060288 length=1048576 error=EIO")]
    [InlineData("length=512 error=EIO", "op=any offset=0 length=512 error=EIO")]
    [InlineData("probability=1% after=10 count=3 error=EROFS", "op=any probability=0.01 after=10 count=3 error=EROFS")]
    [InlineData("probability=0.25 error=ENOTSUP", "op=any probability=0.25 error=EOPNOTSUPP")]
    [InlineData("op=flush up=1.5s down=500ms error=EIO", "op=flush up=1500ms down=500ms error=EIO")]
    [InlineData("delay=50ms", "op=any delay=50ms")]
    [InlineData("op=read delay=250us-2", "op=read delay=250us-2s")]
    [InlineData("drop", "op=write drop")]
    [InlineData("op=discard drop", "op=discard drop")]
    [InlineData("corrupt", "op=read corrupt")]
    public void A_rule_reads_its_words_and_writes_them_back_in_one_canonical_order(string text, string canonical)
    {
        FaultRule rule = Parse(text);

        Assert.Equal(canonical, rule.ToString());
        Assert.Equal(canonical, Parse(canonical).ToString());
    }

    [Theory]
    [InlineData("", "a rule needs an action")]
    [InlineData("op=read", "a rule needs an action")]
    [InlineData("op=sideways error=EIO", "unknown operation 'sideways'")]
    [InlineData("error=EWHATEVER", "error=EWHATEVER is not an errno name")]
    [InlineData("error=EIO drop", "exactly one action")]
    [InlineData("delay=1s error=EIO", "exactly one action")]
    [InlineData("error=EIO error=ENOSPC", "'error' is given twice")]
    [InlineData("colour=red error=EIO", "unknown key 'colour'")]
    [InlineData("read error=EIO", "'read' is not a key=value word")]
    [InlineData("drop=yes", "'drop' takes no value")]
    [InlineData("op=read drop", "drop acts on writes only")]
    [InlineData("op=write corrupt", "corrupt acts on reads only")]
    [InlineData("probability=1.5 error=EIO", "probability=1.5 is not a probability from 0 to 1")]
    [InlineData("probability=-0.5 error=EIO", "is not a probability")]
    [InlineData("probability=200% error=EIO", "is not a probability")]
    [InlineData("offset=64M error=EIO", "offset=67108864 lies past the end of the device (67108864 bytes)")]
    [InlineData("offset=63M length=2M error=EIO", "is not a range within the device")]
    [InlineData("length=0 error=EIO", "is not a range within the device")]
    [InlineData("offset=lots error=EIO", "offset=lots is not a number of bytes")]
    [InlineData("count=0 error=EIO", "count=0 is not a whole number of 1 or more")]
    [InlineData("after=-1 error=EIO", "after=-1 is not a whole number of 0 or more")]
    [InlineData("up=1s error=EIO", "a flakey period needs both up= and down=")]
    [InlineData("up=0 down=1s error=EIO", "up=0 must be longer than 0")]
    [InlineData("delay=2m", "must run from shorter to longer and last at most 60s")]
    [InlineData("delay=50ms-10ms", "must run from shorter to longer")]
    [InlineData("delay=soon", "delay=soon is not a duration")]
    public void A_bad_rule_is_refused_with_one_line_saying_why(string text, string reason)
    {
        Assert.Null(FaultRule.TryParse(text, DeviceSize, out string error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void A_rule_matches_its_operation_and_any_request_overlapping_its_range()
    {
        FaultRule rule = Parse("op=read offset=4096 length=4096 error=EIO");

        Assert.False(rule.TryFire(IoOperation.Write, 4096, 4096, 0));
        Assert.False(rule.TryFire(IoOperation.Read, 0, 4096, 0));
        Assert.False(rule.TryFire(IoOperation.Read, 8192, 512, 0));
        Assert.True(rule.TryFire(IoOperation.Read, 4095, 2, 0));
        Assert.True(rule.TryFire(IoOperation.Read, 8191, 1, 0));
        Assert.True(rule.TryFire(IoOperation.Read, 0, 1 << 20, 0));
        Assert.False(Parse("offset=0 error=EIO").TryFire(IoOperation.Flush, 0, 0, 0)); // a flush has no range
        Assert.True(Parse("error=EIO").TryFire(IoOperation.Flush, 0, 0, 0));
        Assert.Equal(3, rule.Fired);
    }

    [Fact]
    public void After_lets_matching_requests_through_first_and_count_stops_the_rule()
    {
        FaultRule rule = Parse("op=write after=2 count=3 error=EIO");

        bool[] fired = [.. Enumerable.Range(0, 8).Select(_ => rule.TryFire(IoOperation.Write, 0, 512, 0))];
        _ = rule.TryFire(IoOperation.Read, 0, 512, 0); // not matched: neither counted nor let through

        Assert.Equal([false, false, true, true, true, false, false, false], fired);
        Assert.Equal(3, rule.Fired);
    }

    [Fact]
    public void Probability_fires_about_that_share_of_the_matching_requests()
    {
        FaultRule never = Parse("probability=0 error=EIO");
        FaultRule sometimes = Parse("probability=20% error=EIO");

        int fired = Enumerable.Range(0, 10_000).Count(_ => sometimes.TryFire(IoOperation.Read, 0, 512, 0));

        Assert.DoesNotContain(true, Enumerable.Range(0, 1000).Select(_ => never.TryFire(IoOperation.Read, 0, 512, 0)));
        Assert.InRange(fired, 1700, 2300);
    }

    [Fact]
    public void A_flakey_rule_acts_only_in_the_down_part_of_each_period_from_when_it_joined()
    {
        FaultRule rule = Parse("up=1s down=2s error=EIO");
        rule.Join(1);
        long second = System.Diagnostics.Stopwatch.Frequency;
        long start = rule.AddedAt;

        bool[] fired = [.. new[] { 0.0, 0.9, 1.1, 2.9, 3.0, 3.5, 4.5 }.Select(at => rule.TryFire(IoOperation.Read, 0, 512, start + (long)(at * second)))];

        Assert.Equal([false, false, true, true, false, false, true], fired);
    }

    [Fact]
    public void A_delay_range_draws_each_delay_within_it()
    {
        FaultRule rule = Parse("delay=10ms-20ms");

        TimeSpan[] delays = [.. Enumerable.Range(0, 200).Select(_ => rule.Decision().Delay)];

        Assert.All(delays, delay => Assert.InRange(delay, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20)));
        Assert.True(delays.Distinct().Count() > 10, "the delays vary");
    }

    private static FaultRule Parse(string text) =>
        FaultRule.TryParse(text, DeviceSize, out string error) ?? throw new InvalidOperationException(error);
}
