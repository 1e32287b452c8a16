using Dmp.Cli;

namespace Dmp.Tests.Cli;

public class DmpTableTests
{
    [Fact]
    public void The_originals_table_names_a_length_and_a_device()
    {
        Assert.Equal(new DmpTable(1024, "/dev/mapper/zero1"), DmpTable.Parse("0 1024 dmp /dev/mapper/zero1"));
        Assert.Equal(new DmpTable(8, "/dev/loop0"), DmpTable.Parse("  0\t8   dmp /dev/loop0 "));
    }

    [Fact]
    public void A_relative_device_path_is_made_absolute()
    {
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "disk.img"), DmpTable.Parse("0 8 dmp disk.img").Device);
    }

    [Theory]
    [InlineData("0 1024 linear /dev/sda 0", "unknown target type 'linear'")]
    [InlineData("0 1024 dmp", "invalid number of arguments")]
    [InlineData("0 1024 dmp /dev/a /dev/b", "invalid number of arguments")]
    [InlineData("8 1024 dmp /dev/a", "must start at sector 0, not 8")]
    [InlineData("0 0 dmp /dev/a", "LENGTH is 0")]
    [InlineData("0 -5 dmp /dev/a", "START and LENGTH are numbers")]
    [InlineData("zero 1024 dmp /dev/a", "START and LENGTH are numbers")]
    [InlineData("0 1024", "expected \"START LENGTH dmp DEVICE\"")]
    [InlineData("", "expected \"START LENGTH dmp DEVICE\"")]
    [InlineData("0 8 dmp /dev/a\n8 8 dmp /dev/b", "exactly one target")]
    [InlineData("0 8 dmp /dev/a\0b", "the device's path holds a NUL byte")]
    public void Tables_the_original_would_refuse_are_refused_with_a_reason(string table, string reason)
    {
        var error = Assert.Throws<CommandException>(() => DmpTable.Parse(table));
        Assert.Contains(reason, error.Message);
    }
}
