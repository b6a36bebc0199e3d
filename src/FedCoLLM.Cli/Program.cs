using FedCoLLM.Cli;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(CommandLine.Configure);
return app.Run(args);
