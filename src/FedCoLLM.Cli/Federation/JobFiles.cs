using Akka.Actor;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using Spectre.Console;

namespace FedCoLLM.Cli.Federation;

/// <summary>Reading a job file into the spec the cluster journals, and submitting it.</summary>
public static class JobFiles
{
    /// <summary>The spec of <paramref name="path"/>, or null after printing why the file was refused.</summary>
    public static JobSpec? TryLoad(string path)
    {
        try
        {
            return JobSpecs.From(JobFile.Load(path, StrategyCatalog.Names));
        }
        catch (Exception e) when (e is JobFileException or ArgumentException or IOException)
        {
            AnsiConsole.MarkupLine($"[red]Refused {Markup.Escape(path)}:[/] {Markup.Escape(e.Message)}");
            return null;
        }
    }

    /// <summary>Submits the spec through the job region (a proxy on role-less nodes), retrying while the cluster forms;
    /// null when cancelled.</summary>
    public static async Task<JobAccepted?> Submit(IActorRef servers, JobSpec spec, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                return await servers.Ask<JobAccepted>(new StartFederation(spec.JobId, spec), TimeSpan.FromSeconds(20), cancellation);
            }
            catch (AskTimeoutException)
            {
                Console.WriteLine($"[{DateTime.Now:HH:mm:ss}] waiting for the cluster to host job {spec.JobId}…");
            }
            catch (OperationCanceledException) { }
        }
        return null;
    }
}
