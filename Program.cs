return Dmp.Cli.DmpCommandLine.Run(args);
