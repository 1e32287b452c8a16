namespace Dmp.Tests.Cli;

/// <summary>The built <c>./dmp</c> at the repository root (make builds it before the tests run).</summary>
internal static class DmpBinary
{
    /// <summary>The repository's root, where Dmp.csproj is.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Path { get; } = Find();

    /// <summary>Runs <c>dmp ARGS</c> through the shell, as a user would type it.</summary>
    public static ShellResult Run(string arguments, string? uid = null) => Shell.Run($"{Path} {arguments}", uid);

    private static string Find()
    {
        string binary = System.IO.Path.Combine(RepositoryRoot, "dmp");
        return File.Exists(binary) ? binary : throw new FileNotFoundException("build ./dmp first (make)", binary);
    }

    private static string FindRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Dmp.csproj")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("the repository root (with Dmp.csproj) is not above the test binaries");
    }
}
