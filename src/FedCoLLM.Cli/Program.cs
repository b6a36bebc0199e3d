using FedCoLLM.Cli;
using Spectre.Console.Cli;

ConsoleOutput.Install();
var app = new CommandApp();
app.Configure(CommandLine.Configure);
return app.Run(args);
