using System.ComponentModel;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using Spectre.Console;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary><c>fedcollm cancel JOB</c>: journals the cancellation; running steps stop and the job never resumes.</summary>
public sealed class CancelCommand : AsyncCommand<CancelCommand.Settings>
{
    public sealed class Settings : ClusterAccessSettings
    {
        [CommandArgument(0, "<JOB>")] [Description("The job id.")]
        public string JobId { get; init; } = "";
        [CommandOption("--reason <TEXT>")] [Description("Recorded in the journal with the cancellation.")] [DefaultValue("cancelled by fedcollm cancel")]
        public string Reason { get; init; } = "cancelled by fedcollm cancel";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings s, CancellationToken cancellation)
    {
        await using var cluster = await ClusterAccess.ConnectAsync(s, cancellation);
        if (!await JobLookup.Exists(cluster, s.JobId, cancellation)) return 2;
        var answer = await cluster.Cancel(s.JobId, s.Reason, cancellation);
        switch (answer.Outcome)
        {
            case Outcome.Accepted:
                Console.WriteLine($"Cancelled job {s.JobId}.");
                return 0;
            case Outcome.Duplicate:
                Console.WriteLine($"Job {s.JobId} had already ended: {answer.Detail}.");
                return 0;
            default:
                AnsiConsole.MarkupLine($"[red]Refused:[/] {Markup.Escape(answer.Detail ?? "")}");
                return 2;
        }
    }
}
