using System.Diagnostics;
using Dmp.Nbd;
using Dmp.Tests.Cli;
using static Dmp.Tests.Server.NbdRequests;

namespace Dmp.Tests.Server;

/// <summary>Setting, listing and clearing rules through dmp fault and the faults file, and the refusal of bad ones.</summary>
public sealed partial class FaultTests
{
    [Fact]
    public void Clear_removes_one_rule_by_its_id_or_every_rule()
    {
        AddRule("op=read error=EIO");
        AddRule("op=write error=ENOSPC");
        AddRule("op=flush error=EPERM");

        ShellResult one = Fault("clear export0 2");

        Assert.Equal((0, "", ""), (one.ExitCode, one.Output, one.Errors));
        Assert.Equal([1, 3], Rules().Select(rule => rule.Id));
        Assert.Equal((Eio, 0u, Eperm), (_client.Read(0, 512).Error, _client.Write(0, new byte[512]), _client.Send(NbdCommand.Flush)));

        ShellResult all = Fault("clear export0");

        Assert.Equal((0, "", ""), (all.ExitCode, all.Output, all.Errors));
        Assert.Equal(NoRules, Fault("list").Output);
        Assert.Equal((0u, 0u, 0u), (_client.Read(0, 512).Error, _client.Write(0, new byte[512]), _client.Send(NbdCommand.Flush)));
    }

    [Fact]
    public void List_shows_every_rule_with_how_often_it_fired()
    {
        Assert.Equal(NoRules, Fault("list").Output);
        AddRule("op=read offset=0 length=1K probability=25% after=2 count=9 up=1s down=2s error=EROFS");
        AddRule("delay=10ms-80ms");
        AddRule("drop");
        AddRule("corrupt");
        AddRule("op=write_zeroes drop");
        _client.Write(0, new byte[512]);
        _client.Write(512, new byte[512]);

        ShellResult list = Fault("list");
        ShellResult one = Fault("list export0");

        Assert.Equal(
            "DEVICE  ID FIRED  RULE\n" +
            "export0  1     0  op=read offset=0 length=1024 probability=0.25 after=2 count=9 up=1s down=2s error=EROFS\n" +
            "export0  2     2  op=any delay=10ms-80ms\n" +
            "export0  3     0  op=write drop\n" +
            "export0  4     0  op=read corrupt\n" +
            "export0  5     0  op=write_zeroes drop\n",
            list.Output);
        Assert.Equal((0, list.Output), (one.ExitCode, one.Output));
    }

    [Fact]
    public void The_faults_file_lists_the_rules_and_takes_rule_lines_clear_and_clear_id()
    {
        Assert.Equal("", File.ReadAllText(FaultsFile));

        Assert.Equal(0, Shell.Run($"echo 'op=read error=EIO' > {FaultsFile} && echo 'op=write   count=1 error=ENOSPC' > {FaultsFile} && echo 'op=flush error=EPERM' > {FaultsFile}").ExitCode);
        Assert.Equal(Eio, _client.Read(0, 512).Error);

        Assert.Equal(
            "1 op=read error=EIO fired=1\n2 op=write count=1 error=ENOSPC fired=0\n3 op=flush error=EPERM fired=0\n",
            File.ReadAllText(FaultsFile));
        Assert.Equal([1, 2, 3], Rules().Select(rule => rule.Id));

        Assert.Equal(0, Shell.Run($"echo 'clear 2' > {FaultsFile}").ExitCode);
        Assert.Equal("1 op=read error=EIO fired=1\n3 op=flush error=EPERM fired=0\n", File.ReadAllText(FaultsFile));
        Assert.Equal(0u, _client.Write(0, new byte[512]));

        Assert.Equal(0, Shell.Run($"echo clear > {FaultsFile}").ExitCode);
        Assert.Equal("", File.ReadAllText(FaultsFile));
        Assert.Equal(0u, _client.Read(0, 512).Error);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("op=read")]
    [InlineData("op=read error=EIO drop")]
    [InlineData("error=EBOGUS")]
    [InlineData("offset=64M error=EIO")]
    [InlineData("clear x")]
    [InlineData("clear 1 2")]
    [InlineData("clear 9")]
    public void A_bad_line_in_the_faults_file_fails_with_einval_and_changes_nothing(string line)
    {
        AddRule("op=read error=EIO");
        string before = File.ReadAllText(FaultsFile);

        ShellResult refused = Shell.Run($"echo '{line}' > {FaultsFile}");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Invalid argument", refused.Errors);
        Assert.Equal(before, File.ReadAllText(FaultsFile));
        Assert.Equal(Eio, _client.Read(0, 512).Error);
        Assert.Contains(_server.Log, logged => logged.Contains($"export0/faults: '{line}' refused: ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("add export0 bogus=1 error=EIO", "unknown key 'bogus'")]
    [InlineData("add export0 op=bogus error=EIO", "unknown operation 'bogus'")]
    [InlineData("add export0 op=trim error=EIO", "unknown operation 'trim'")]
    [InlineData("add export0 error=EBOGUS", "error=EBOGUS is not an errno name")]
    [InlineData("add export0 offset=64M error=EIO", "offset=67108864 lies past the end of the device (67108864 bytes)")]
    [InlineData("add export0 offset=63M length=2M error=EIO", "is not a range within the device")]
    [InlineData("add export0 length=65M error=EIO", "is not a range within the device")]
    [InlineData("add export0 length=0 error=EIO", "is not a range within the device")]
    [InlineData("add export0 offset=1x error=EIO", "offset=1x is not a number of bytes")]
    [InlineData("add export0 probability=1.5 error=EIO", "probability=1.5 is not a probability from 0 to 1")]
    [InlineData("add export0 probability=101% error=EIO", "probability=101% is not a probability")]
    [InlineData("add export0 probability=-0.1 error=EIO", "probability=-0.1 is not a probability")]
    [InlineData("add export0 count=0 error=EIO", "count=0 is not a whole number of 1 or more")]
    [InlineData("add export0 after=-1 error=EIO", "after=-1 is not a whole number of 0 or more")]
    [InlineData("add export0 op=read", "a rule needs an action")]
    [InlineData("add export0 error=EIO drop", "a rule takes exactly one action")]
    [InlineData("add export0 delay=10ms corrupt", "a rule takes exactly one action")]
    [InlineData("add export0 op=read drop", "drop acts on writes only")]
    [InlineData("add export0 op=write corrupt", "corrupt acts on reads only")]
    [InlineData("add export0 drop=1", "'drop' takes no value")]
    [InlineData("add export0 up=200ms error=EIO", "a flakey period needs both up= and down=")]
    [InlineData("add export0 down=200ms error=EIO", "a flakey period needs both up= and down=")]
    [InlineData("add export0 up=0 down=1s error=EIO", "up=0 must be longer than 0")]
    [InlineData("add export0 delay=61s", "last at most 60s")]
    [InlineData("add export0 delay=2m", "last at most 60s")]
    [InlineData("add export0 delay=80ms-50ms", "must run from shorter to longer")]
    [InlineData("add export0 delay=soon", "delay=soon is not a duration")]
    [InlineData("add export0 op=read op=write error=EIO", "'op' is given twice")]
    [InlineData("add export0 error=EIO error=EIO", "'error' is given twice")]
    [InlineData("add nbd9 error=EIO", "nbd9 is not a device dmp serves")]
    [InlineData("add export7 error=EIO", "export7 is not a device dmp serves")]
    [InlineData("list nbd9", "nbd9 is not a device dmp serves")]
    [InlineData("clear nbd9", "nbd9 is not a device dmp serves")]
    [InlineData("clear export0 9", "export0 has no rule 9")]
    public void A_bad_rule_or_device_is_refused_in_one_line_and_changes_nothing(string arguments, string expected)
    {
        AddRule("op=read error=EIO");
        string before = Fault("list").Output;

        ShellResult refused = Fault(arguments);

        Assert.Equal((1, ""), (refused.ExitCode, refused.Output));
        Assert.StartsWith("dmp: ", refused.Errors);
        Assert.Single(refused.Errors.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, refused.Errors);
        Assert.Equal(before, Fault("list").Output);
        Assert.Equal((Eio, 0u), (_client.Read(0, 512).Error, _client.Write(0, new byte[512])));
    }
}
