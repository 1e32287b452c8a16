using Dmp.Faults;
using Dmp.Stats;

namespace Dmp.Tests.Faults;

public sealed class DeviceFaultsTests
{
    private readonly DeviceFaults _faults = new(1 << 20);

    [Fact]
    public void A_device_without_rules_decides_nothing()
    {
        Assert.False(_faults.Active);
        Assert.Equal(default, _faults.Decide(IoOperation.Read, 0, 4096));
    }

    [Fact]
    public void Rules_are_tried_in_order_and_the_first_that_fires_acts()
    {
        Add("op=read count=1 error=ENOSPC");
        Add("op=read offset=0 length=4K delay=5ms");
        Add("error=EIO");

        Assert.Equal(new FaultDecision(FaultAction.Fail, 1, Error: 28), _faults.Decide(IoOperation.Read, 0, 512));
        Assert.Equal(new FaultDecision(FaultAction.Delay, 2, Delay: TimeSpan.FromMilliseconds(5)), _faults.Decide(IoOperation.Read, 0, 512));
        Assert.Equal(new FaultDecision(FaultAction.Fail, 3, Error: 5), _faults.Decide(IoOperation.Read, 8192, 512));
        Assert.Equal(new FaultDecision(FaultAction.Fail, 3, Error: 5), _faults.Decide(IoOperation.Write, 0, 512));
    }

    [Fact]
    public void The_faults_file_lists_each_rule_with_its_id_and_how_often_it_fired()
    {
        Add("op=write error=EIO");
        Add("corrupt");
        _ = _faults.Decide(IoOperation.Write, 0, 512);
        _ = _faults.Decide(IoOperation.Write, 0, 512);

        Assert.Equal("1 op=write error=EIO fired=2\n2 op=read corrupt fired=0\n", _faults.Format());
    }

    [Fact]
    public void Lines_written_to_the_faults_file_add_rules_and_clear_them_like_dm_messages()
    {
        Assert.Null(_faults.Apply("op=read error=EIO"));
        Assert.Null(_faults.Apply("drop"));
        Assert.Null(_faults.Apply("delay=1ms"));
        Assert.Null(_faults.Apply("clear 2"));
        Assert.Equal([1, 3], _faults.Rules.Select(rule => rule.Id));
        Assert.Null(_faults.Apply("op=flush error=EIO"));
        Assert.Equal([1, 3, 4], _faults.Rules.Select(rule => rule.Id)); // ids are never reused

        Assert.Null(_faults.Apply("clear"));

        Assert.Empty(_faults.Rules);
        Assert.False(_faults.Active);
    }

    [Theory]
    [InlineData("clear 7", "there is no rule 7")]
    [InlineData("clear one", "expected 'clear' or 'clear ID'")]
    [InlineData("clear 1 2", "expected 'clear' or 'clear ID'")]
    [InlineData("op=read error=ENOPE", "error=ENOPE is not an errno name")]
    [InlineData("offset=2M error=EIO", "lies past the end of the device")]
    public void A_bad_line_changes_nothing_and_says_why(string line, string reason)
    {
        Add("error=EIO");
        string before = _faults.Format();

        Assert.Contains(reason, _faults.Apply(line), StringComparison.Ordinal);
        Assert.Equal(before, _faults.Format());
    }

    [Fact]
    public void Rules_kept_in_a_file_are_there_for_the_next_daemon_with_their_ids()
    {
        string file = Path.Combine(Directory.CreateTempSubdirectory("dmp-faults-").FullName, "nbd0");
        var before = new DeviceFaults(1 << 20, file);
        Assert.NotNull(before.TryAdd("op=read error=EIO", out _));
        Assert.NotNull(before.TryAdd("op=write offset=4K length=4K delay=5ms", out _));
        Assert.NotNull(before.TryAdd("drop", out _));
        Assert.True(before.Clear(2));
        File.AppendAllText(file, "a line that is not a rule\n");
        var log = new List<string>();

        var after = new DeviceFaults(1 << 20, file, log.Add);

        Assert.Equal(["1 op=read error=EIO", "3 op=write drop"], after.Rules.Select(rule => $"{rule.Id} {rule}"));
        Assert.Equal([$"{file}: not a fault rule, left out: 'a line that is not a rule'"], log);
        Assert.Equal(4, after.TryAdd("corrupt", out _)!.Id);
        Assert.Equal(["1 op=read error=EIO", "3 op=write drop", "4 op=read corrupt"], File.ReadAllLines(file));
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
    }

    private void Add(string text) => Assert.NotNull(_faults.TryAdd(text, out _));
}
