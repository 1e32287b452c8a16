[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

return Dmp.Cli.DmpCommandLine.Run(args);
