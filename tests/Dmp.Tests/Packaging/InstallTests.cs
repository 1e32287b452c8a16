using System.IO.Compression;
using Dmp.Tests.Cli;

namespace Dmp.Tests.Packaging;

/// <summary>
/// The Makefile's install, uninstall and deb, run for real into a temporary DESTDIR: every file in its FHS
/// place and nothing else, the page gzipped, the unit naming the installed binary, an admin's dmptab kept,
/// and a package that lintian passes and whose version is the binary's. (One class: the tests share build/.)
/// </summary>
public sealed class InstallTests : IDisposable
{
    private static readonly string Repository = Path.GetDirectoryName(DmpBinary.Path)!;
    private static readonly string Unit = Path.Combine(Repository, "contrib", "systemd", "dmp.service");
    private static readonly string Dmptab = Path.Combine(Repository, "contrib", "dmptab");

    private readonly string _destination = Directory.CreateTempSubdirectory("dmp-install-").FullName;

    public void Dispose() => Directory.Delete(_destination, recursive: true);

    [Theory]
    [InlineData("", "/usr/local")]
    [InlineData("PREFIX=/usr", "/usr")]
    public void Install_puts_each_file_in_its_place_and_nothing_else(string arguments, string prefix)
    {
        Make($"install DESTDIR={_destination} {arguments}");

        var expected = new List<string>
        {
            $"{prefix}/sbin/dmp",
            $"{prefix}/share/man/man8/dmp.8.gz",
            $"{prefix}/share/bash-completion/completions/dmp",
            $"{prefix}/share/zsh/vendor-completions/_dmp",
        };
        if (File.Exists(Unit))
        {
            expected.Add($"{prefix}/lib/systemd/system/dmp.service");
            Assert.Equal(File.ReadAllText(Unit).Replace("/usr/sbin/dmp", $"{prefix}/sbin/dmp", StringComparison.Ordinal), Installed($"{prefix}/lib/systemd/system/dmp.service"));
        }

        if (File.Exists(Dmptab))
        {
            expected.Add("/etc/dmp/dmptab");
            Assert.Equal(File.ReadAllText(Dmptab), Installed("/etc/dmp/dmptab"));
        }

        Assert.Equal(expected.Order(StringComparer.Ordinal), InstalledFiles());
        Assert.Equal(File.ReadAllBytes(DmpBinary.Path), File.ReadAllBytes(_destination + $"{prefix}/sbin/dmp"));
        Assert.True(File.GetUnixFileMode(_destination + $"{prefix}/sbin/dmp").HasFlag(UnixFileMode.OtherExecute));
        Assert.Equal(File.ReadAllText(Path.Combine(Repository, "contrib/completion/dmp.bash")), Installed($"{prefix}/share/bash-completion/completions/dmp"));
        Assert.Equal(File.ReadAllText(Path.Combine(Repository, "contrib/completion/_dmp")), Installed($"{prefix}/share/zsh/vendor-completions/_dmp"));

        using var page = new GZipStream(File.OpenRead(_destination + $"{prefix}/share/man/man8/dmp.8.gz"), CompressionMode.Decompress);
        Assert.Equal(File.ReadAllText(Path.Combine(Repository, "man/dmp.8")), new StreamReader(page).ReadToEnd());
    }

    [Fact]
    public void Uninstall_removes_what_install_put_but_the_admins_dmptab()
    {
        Make($"install DESTDIR={_destination}");
        if (File.Exists(Dmptab))
        {
            File.WriteAllText(_destination + "/etc/dmp/dmptab", "# mine\n");
            Make($"install DESTDIR={_destination}");
            Assert.Equal("# mine\n", Installed("/etc/dmp/dmptab")); // a second install keeps it too
        }

        Make($"uninstall DESTDIR={_destination}");

        Assert.Equal(File.Exists(Dmptab) ? ["/etc/dmp/dmptab"] : [], InstalledFiles());
    }

    [Fact]
    public void The_package_passes_lintian_and_carries_the_binarys_version()
    {
        string version = File.ReadAllText(Path.Combine(Repository, "VERSION")).Trim();
        string package = Path.Combine(Repository, "build", $"dmp_{version}_amd64.deb");

        Make("deb");

        Assert.Equal(version, DmpBinary.Run("--version").Output.Trim());
        Assert.Equal(version, Shell.Run($"dpkg-deb -f {package} Version").Output.Trim());
        ShellResult lintian = Shell.Run($"lintian --fail-on error,warning --pedantic {package}");
        Assert.True(lintian.ExitCode == 0, lintian.Output + lintian.Errors);
        Assert.DoesNotContain("E: ", lintian.Output);
        Assert.DoesNotContain("W: ", lintian.Output);
    }

    /// <summary>Runs make in the repository with ./dmp as it is (built before the tests: never rebuilt here).</summary>
    private static void Make(string arguments)
    {
        ShellResult result = Shell.Run($"make -s -C {Repository} -o dmp {arguments}");
        Assert.True(result.ExitCode == 0, $"make {arguments}: {result.Errors}");
    }

    private string Installed(string path) => File.ReadAllText(_destination + path);

    private string[] InstalledFiles() =>
        [.. Directory.EnumerateFiles(_destination, "*", SearchOption.AllDirectories).Select(path => path[_destination.Length..]).Order(StringComparer.Ordinal)];
}
