using System.Diagnostics;
using Dmp.Nbd;
using Dmp.Tests.Cli;
using static Dmp.Tests.Server.NbdRequests;

namespace Dmp.Tests.Server;

/// <summary>What a rule matches: operations, ranges, probability, after and count, flakey periods, and which of several rules acts.</summary>
public sealed partial class FaultTests
{
    [Theory]
    [InlineData("op=read error=EIO", "read")]
    [InlineData("op=write error=EIO", "write")]
    [InlineData("op=flush error=EIO", "flush")]
    [InlineData("op=discard error=EIO", "discard")]
    [InlineData("op=write_zeroes error=EIO", "write_zeroes")]
    [InlineData("op=cache error=EIO", "cache")]
    [InlineData("op=any error=EIO", "read write flush discard write_zeroes cache")]
    [InlineData("error=EIO", "read write flush discard write_zeroes cache")]
    public void An_operation_matches_its_own_requests_only(string rule, string failing)
    {
        AddRule(rule);

        foreach ((string name, NbdCommand command) in Commands)
        {
            uint expected = failing.Split(' ').Contains(name) ? Eio : 0;
            Assert.True(expected == _client.Request(command, 8192), $"{name} under '{rule}'");
        }
    }

    [Theory]
    [InlineData("offset=2048s length=8s error=EIO")]
    [InlineData("offset=1M length=4K error=EIO")]
    [InlineData("offset=1048576 length=4096 error=EIO")]
    public void A_range_matches_requests_that_overlap_it_and_never_a_flush(string rule)
    {
        Assert.Equal("export0: rule 1: op=any offset=1048576 length=4096 error=EIO\n", Fault($"add export0 {rule}").Output);

        Assert.Equal(0u, _client.Write(Mebibyte - 512, new byte[512])); // ends where the range starts
        Assert.Equal(Eio, _client.Write(Mebibyte - 512, new byte[513])); // its first byte
        Assert.Equal(Eio, _client.Write(Mebibyte + 1024, new byte[512])); // inside
        Assert.Equal(Eio, _client.Write(Mebibyte + 4095, new byte[1])); // its last byte
        Assert.Equal(0u, _client.Write(Mebibyte + 4096, new byte[512])); // starts where it ends
        Assert.Equal(Eio, _client.Write(0, new byte[2 << 20])); // all of it and more
        Assert.Equal(Eio, _client.Read(Mebibyte, 4096).Error);
        Assert.Equal(0u, _client.Read(2 * Mebibyte, 4096).Error);
        Assert.Equal(Eio, _client.Send(NbdCommand.Trim, Mebibyte - 4096, 8192));
        Assert.Equal(0u, _client.Send(NbdCommand.Flush));
        Assert.Equal(6, Rules().Single().Fired);
    }

    [Fact]
    public void A_range_with_an_offset_alone_runs_to_the_end_and_a_length_alone_starts_at_0()
    {
        Assert.Equal("export0: rule 1: op=write offset=66060288 length=1048576 error=ENOSPC\n", Fault("add export0 op=write offset=63M error=ENOSPC").Output);
        Assert.Equal("export0: rule 2: op=read offset=0 length=8192 error=EIO\n", Fault("add export0 op=read length=16s error=EIO").Output);

        Assert.Equal(0u, _client.Write((63 * Mebibyte) - 512, new byte[512]));
        Assert.Equal(Enospc, _client.Write((ulong)Size - 512, new byte[512]));
        Assert.Equal(Eio, _client.Read(0, 512).Error);
        Assert.Equal(Eio, _client.Read(8191, 1).Error);
        Assert.Equal(0u, _client.Read(8192, 512).Error);
    }

    [Theory]
    [InlineData("0", 0, 0)]
    [InlineData("0%", 0, 0)]
    [InlineData("1", 400, 400)]
    [InlineData("100%", 400, 400)]
    [InlineData("0.5", 140, 260)] // 400 tries at 1/2: 200 ± 6 standard deviations
    [InlineData("50%", 140, 260)]
    public void A_probability_fires_on_that_share_of_matching_requests(string probability, int least, int most)
    {
        AddRule($"op=read probability={probability} error=EIO");

        int failed = Enumerable.Range(0, 400).Count(i => _client.Read((ulong)i * 512, 512).Error == Eio);

        Assert.InRange(failed, least, most);
        Assert.Equal(failed, Rules().Single().Fired);
        Assert.Equal(0u, _client.Write(0, new byte[512])); // another operation is never tried
    }

    [Theory]
    [InlineData("op=write after=3 error=EIO", "...EE", 2)]
    [InlineData("op=write count=2 error=EIO", "EE...", 2)]
    [InlineData("op=write after=1 count=2 error=EIO", ".EE..", 2)]
    [InlineData("op=write after=0 error=EIO", "EEEEE", 5)]
    public void After_lets_matching_requests_through_first_and_count_limits_how_often_it_acts(string rule, string outcomes, int fired)
    {
        AddRule(rule);

        var seen = new System.Text.StringBuilder();
        for (int i = 0; i < outcomes.Length; i++)
        {
            Assert.Equal(0u, _client.Read(0, 512).Error); // no match: neither let through nor acted on
            seen.Append(_client.Write((ulong)i * 512, new byte[512]) switch { 0 => '.', Eio => 'E', uint other => throw new InvalidOperationException($"error {other}") });
        }

        Assert.Equal(outcomes, seen.ToString());
        Assert.Equal(fired, Rules().Single().Fired);
    }

    [Fact]
    public void A_flakey_rule_acts_only_in_the_down_part_of_each_up_then_down_cycle()
    {
        const double PeriodMilliseconds = 200;
        AddRule("op=read up=200ms down=200ms error=EIO");
        var clock = Stopwatch.StartNew();

        var samples = new List<(double At, bool Failed)>();
        while (clock.Elapsed < TimeSpan.FromMilliseconds(1500))
        {
            double at = clock.Elapsed.TotalMilliseconds;
            samples.Add((at, _client.Read(0, 512).Error == Eio));
            Thread.Sleep(2);
        }

        // Runs of passes and failures, and where they changed: halfway between the samples either side, give or
        // take half the gap between them (a busy machine may stall a round trip).
        var changes = new List<(double At, double Uncertainty)>();
        for (int i = 1; i < samples.Count; i++)
        {
            if (samples[i].Failed != samples[i - 1].Failed)
            {
                changes.Add(((samples[i].At + samples[i - 1].At) / 2, (samples[i].At - samples[i - 1].At) / 2));
            }
        }

        Assert.False(samples[0].Failed, "the rule starts up: a request right after it was added passes");
        Assert.True(changes.Count >= 5, $"{changes.Count} changes in 1.5 s of 200 ms up and 200 ms down");
        for (int i = 1; i < changes.Count; i++)
        {
            double slack = 60 + changes[i].Uncertainty + changes[i - 1].Uncertainty;
            Assert.InRange(changes[i].At - changes[i - 1].At, PeriodMilliseconds - slack, PeriodMilliseconds + slack);
        }

        Assert.Equal(samples.Count(sample => sample.Failed), Rules().Single().Fired);
    }

    [Theory]
    [InlineData("up=3000000h down=1s")] // 342 years up: more nanoseconds than a long holds
    [InlineData("up=2s down=3000000h")]
    [InlineData("up=1600000h down=1600000h")] // each fits, the cycle does not
    public void A_flakey_rule_with_a_cycle_of_centuries_starts_up_all_the_same(string periods)
    {
        AddRule($"op=read {periods} error=EIO");

        Assert.Equal(0u, _client.Read(0, 512).Error);
        Assert.Equal(0, Rules().Single().Fired);
    }

    [Fact]
    public void The_first_rule_that_fires_acts_and_one_spent_lets_the_next_act()
    {
        AddRule("op=write length=4K count=1 error=ENOSPC");
        AddRule("op=write error=EIO");
        AddRule("error=EPERM");

        Assert.Equal(Enospc, _client.Write(0, new byte[512]));
        Assert.Equal(Eio, _client.Write(0, new byte[512])); // rule 1 is spent
        Assert.Equal(Eio, _client.Write(8192, new byte[512]));
        Assert.Equal(Eperm, _client.Read(0, 512).Error);
        Assert.Equal(Eperm, _client.Send(NbdCommand.Flush));

        Assert.Equal([(1, 1L), (2, 2L), (3, 2L)], Rules().Select(rule => (rule.Id, rule.Fired)));
    }
}
