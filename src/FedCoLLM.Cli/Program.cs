using FedCoLLM.Cli.Data;
using Spectre.Console.Cli;

var app = new CommandApp();
app.Configure(config =>
{
    config.SetApplicationName("fedcollm");
    config.AddBranch("data", data =>
    {
        data.SetDescription("Build benchmark data sets.");
        data.AddCommand<WordNetCommand>("wordnet").WithDescription("Federated WordNet 3.0 benchmark, pre-training corpus and tokenizer.");
    });
});
return app.Run(args);
