using Dmp.Config;
using Dmp.Storage;

namespace Dmp.Tests.Config;

public sealed class DmpTabTests
{
    private const string Path = "/etc/dmp/dmptab";

    [Fact]
    public void A_file_with_every_option_comments_and_blank_lines_declares_its_devices_in_order()
    {
        const string text = """
            # NAME    BACKING                          OPTIONS

            disk0     memory                           size=64M
              data    /srv/disk.img                    cache=writeback,connections=3   # a comment after the fields
            archive   /dev/disk/by-id/ata-DISK_SERIAL  ro,cache=none
            scratch   zero                             nodm,size=1G,ro
            odd#name  /srv/a#b.img
            """;

        IReadOnlyList<DmpTabEntry> entries = DmpTab.Parse(Path, text, CacheMode.None, 2);

        Assert.Equal(
            [
                new DmpTabEntry("disk0", BackingSpec.Memory, 64L << 20, CacheMode.None, 2, ReadOnly: false, Mapped: true, Line: 3),
                new DmpTabEntry("data", BackingSpec.Parse("/srv/disk.img"), 1L << 30, CacheMode.Writeback, 3, ReadOnly: false, Mapped: true, Line: 4),
                new DmpTabEntry("archive", BackingSpec.Parse("/dev/disk/by-id/ata-DISK_SERIAL"), 1L << 30, CacheMode.None, 2, ReadOnly: true, Mapped: true, Line: 5),
                new DmpTabEntry("scratch", BackingSpec.Parse("zero"), 1L << 30, CacheMode.None, 2, ReadOnly: true, Mapped: false, Line: 6),
                new DmpTabEntry("odd#name", BackingSpec.Parse("/srv/a#b.img"), 1L << 30, CacheMode.None, 2, ReadOnly: false, Mapped: true, Line: 7),
            ],
            entries);
    }

    [Fact]
    public void The_path_of_a_block_device_is_kept_as_written()
    {
        DmpTabEntry entry = Assert.Single(DmpTab.Parse(Path, "disk /dev/disk/by-id/wwn-0x5000c500a1b2c3d4\n", CacheMode.None, 1));

        Assert.Equal("/dev/disk/by-id/wwn-0x5000c500a1b2c3d4", entry.Backing.ToString());
    }

    [Fact]
    public void Listen_takes_an_address_as_load_s_listen_does_and_lines_without_it_listen_nowhere()
    {
        IReadOnlyList<DmpTabEntry> entries = DmpTab.Parse(
            Path, "a memory listen=unix:/run/a.sock\nb zero ro,listen=tcp:0.0.0.0\nc memory listen=tcp:[::1]:10900\nd memory\n", CacheMode.None, 1);

        Assert.Equal(
            ["unix:/run/a.sock", "tcp:0.0.0.0:10809", "tcp:[::1]:10900", null],
            entries.Select(entry => entry.Listen?.ToString()));
    }

    [Fact]
    public void Lines_without_cache_or_connections_take_the_load_s()
    {
        DmpTabEntry entry = Assert.Single(DmpTab.Parse(Path, "disk /srv/a.img\n", CacheMode.Writeback, 4));

        Assert.Equal((CacheMode.Writeback, 4), (entry.Cache, entry.Connections));
    }

    [Theory]
    [InlineData("")]
    [InlineData("# nothing but comments\n\n   \n\t# and blanks\n")]
    public void A_file_without_lines_declares_nothing(string text)
    {
        Assert.Empty(DmpTab.Parse(Path, text, CacheMode.None, 1));
    }

    [Theory]
    [InlineData("disk0", 1, "expected NAME BACKING [OPTIONS], found only a name")]
    [InlineData("disk0 memory size=1G, ro", 1, "expected NAME BACKING [OPTIONS], found 4 fields (OPTIONS is one list, comma-separated, without spaces)")]
    [InlineData("# ok\n\ndisk0 memory\ndisk1 disk.img", 4, "the backing must be memory, zero or an absolute path, not 'disk.img'")]
    [InlineData("disk0 memory\ndisk0 zero", 2, "the name disk0 is declared already on line 1")]
    [InlineData("a /srv/x.img\nb memory\nc /srv/x.img", 3, "the backing /srv/x.img is declared already on line 1")]
    [InlineData("dm/0 memory", 1, "the name 'dm/0' holds a '/'")]
    [InlineData(".. memory", 1, "the name cannot be '..'")]
    [InlineData("disk0 memory bogus", 1, "unknown option 'bogus' (known: size=SIZE, cache=none|writeback, connections=N, listen=ADDR, ro, nodm)")]
    [InlineData("disk0 memory listen=nowhere", 1, "invalid listen address 'nowhere': use unix:PATH or tcp:HOST:PORT")]
    [InlineData("disk0 memory listen=", 1, "the option listen needs a value (listen=...)")]
    [InlineData("a memory listen=tcp::10811\nb zero listen=tcp:127.0.0.1:10811", 2, "the address tcp:127.0.0.1:10811 is declared already on line 1")]
    [InlineData("a memory listen=unix:/run/a.sock\nb zero listen=unix:/run/../run/a.sock", 2, "the address unix:/run/a.sock is declared already on line 1")]
    [InlineData("disk0 memory ro,,nodm", 1, "an empty option (two commas in a row?)")]
    [InlineData("disk0 memory =1G", 1, "an option without a name: '=1G'")]
    [InlineData("disk0 memory ro,ro", 1, "the option ro is given twice")]
    [InlineData("disk0 memory size", 1, "the option size needs a value (size=...)")]
    [InlineData("disk0 memory size=", 1, "the option size needs a value (size=...)")]
    [InlineData("disk0 memory size=1000", 1, "invalid size '1000': must be a multiple of 512 bytes")]
    [InlineData("disk0 memory size=lots", 1, "invalid size 'lots'")]
    [InlineData("disk0 /srv/a.img size=1G", 1, "size= applies only to memory and zero backings (a file or device has its own size)")]
    [InlineData("disk0 zero cache=writeback", 1, "cache= applies only to files and block devices")]
    [InlineData("disk0 /srv/a.img cache=unsafe", 1, "unknown cache mode 'unsafe' (none or writeback)")]
    [InlineData("disk0 memory connections=0", 1, "connections= must be a number from 1 to 16, not '0'")]
    [InlineData("disk0 memory connections=17", 1, "connections= must be a number from 1 to 16, not '17'")]
    [InlineData("disk0 memory connections=+2", 1, "connections= must be a number from 1 to 16, not '+2'")]
    [InlineData("disk0 memory ro=yes", 1, "the option ro takes no value")]
    [InlineData("disk0 memory nodm=1", 1, "the option nodm takes no value")]
    [InlineData("disk0 /srv/a\0.img", 1, "a backing's path cannot hold a NUL byte")]
    public void A_bad_line_is_refused_with_its_line_number_and_what_is_wrong(string text, int line, string reason)
    {
        var exception = Assert.Throws<FormatException>(() => DmpTab.Parse(Path, text, CacheMode.None, 1));

        Assert.StartsWith($"{Path}:{line}: {reason}", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_longer_than_device_mapper_allows_is_refused()
    {
        string longest = new('n', DmpTab.MaxNameLength);

        Assert.Single(DmpTab.Parse(Path, $"{longest} memory", CacheMode.None, 1));
        var exception = Assert.Throws<FormatException>(() => DmpTab.Parse(Path, $"{longest}n memory", CacheMode.None, 1));
        Assert.Equal($"{Path}:1: the name is longer than 127 characters", exception.Message);
    }

    [Fact]
    public void The_first_bad_line_is_the_one_reported()
    {
        var exception = Assert.Throws<FormatException>(() => DmpTab.Parse(Path, "a memory\nb memory bogus\nc\n", CacheMode.None, 1));

        Assert.StartsWith($"{Path}:2: ", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_example_declares_nothing_and_its_commented_examples_show_every_option()
    {
        string path = System.IO.Path.Combine(Tests.Cli.DmpBinary.RepositoryRoot, "contrib", "dmptab");
        string[] lines = File.ReadAllLines(path);

        Assert.Empty(DmpTab.Read(path, CacheMode.None, 1));
        string examples = string.Join('\n', lines.Select(line => System.Text.RegularExpressions.Regex.Replace(line, @"^#(?=\S)", "")));
        IReadOnlyList<DmpTabEntry> entries = DmpTab.Parse(path, examples, CacheMode.None, 1);
        Assert.Contains(entries, entry => entry.Backing == BackingSpec.Memory && entry.Size == 4L << 30);
        Assert.Contains(entries, entry => entry.Cache == CacheMode.Writeback && entry.Connections == 2);
        Assert.Contains(entries, entry => entry.ReadOnly && entry.Backing.ToString().StartsWith("/dev/disk/by-id/", StringComparison.Ordinal));
        Assert.Contains(entries, entry => !entry.Mapped && entry.Backing.Kind == BackingKind.Zero);
        Assert.Contains(entries, entry => entry.Listen is not null);
        foreach (string option in new[] { "size=", "cache=", "connections=", "listen=", " ro ", " nodm " })
        {
            Assert.Contains(option, File.ReadAllText(path), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_file_that_is_not_there_is_said_so()
    {
        string missing = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"dmptab-{Guid.NewGuid():N}");

        var exception = Assert.Throws<FormatException>(() => DmpTab.Read(missing, CacheMode.None, 1));

        Assert.Equal($"{missing}: No such file or directory", exception.Message);
    }

    [Fact]
    public void A_file_is_read_from_disk()
    {
        string path = System.IO.Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "disk0 zero size=1M,nodm\n");

            Assert.Equal([new DmpTabEntry("disk0", BackingSpec.Parse("zero"), 1L << 20, CacheMode.None, 1, false, false, 1)], DmpTab.Read(path, CacheMode.None, 1));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("d memory size=1M", "memory", 1L << 20, "none", 2, false, "d", true)]
    [InlineData("d memory size=1M", "memory", 2L << 20, "none", 2, false, "d", false)]
    [InlineData("d memory size=1M,connections=1", "memory", 1L << 20, "none", 2, false, "d", false)]
    [InlineData("d memory size=1M,ro", "memory", 1L << 20, "none", 2, false, "d", false)]
    [InlineData("d memory size=1M,nodm", "memory", 1L << 20, "none", 2, false, "d", false)]
    [InlineData("d memory size=1M,nodm", "memory", 1L << 20, "none", 2, false, null, true)]
    [InlineData("d zero size=1M", "memory", 1L << 20, "none", 2, false, "d", false)]
    [InlineData("d /srv/a.img", "/srv/a.img", 4096, "none", 2, false, "d", true)]
    [InlineData("d /srv/a.img cache=writeback", "/srv/a.img", 4096, "none", 2, false, "d", false)]
    [InlineData("d /srv/a.img", "/srv/b.img", 4096, "none", 2, false, "d", false)]
    public void A_line_declares_a_served_device_only_when_everything_it_says_is_so(
        string line, string backing, long size, string cache, int connections, bool readOnly, string? mappedAs, bool declares)
    {
        DmpTabEntry entry = Assert.Single(DmpTab.Parse(Path, line, CacheMode.None, 2));

        Assert.Equal(declares, entry.Declares(backing, size, CacheModes.Parse(cache), connections, readOnly, mappedAs));
    }
}
