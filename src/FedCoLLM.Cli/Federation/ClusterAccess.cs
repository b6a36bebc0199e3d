using System.ComponentModel;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Protocol;
using FedCoLLM.Actors.Rounds;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Federation;

/// <summary>Where the job verbs find the cluster: the local cluster a <c>fedcollm run --out DIR</c> is running, or a
/// multi-process cluster by its seed nodes.</summary>
public class ClusterAccessSettings : CommandSettings
{
    [CommandOption("--out <DIR>")] [Description("The directory of a running `fedcollm run` (its cluster.address).")] [DefaultValue("runs/fedcollm")]
    public string Out { get; init; } = "runs/fedcollm";
    [CommandOption("--seed-node <ADDR>")] [Description("A seed node of a multi-process cluster (akka.ssl.tcp://fedcollm@HOST:PORT under cluster.conf); repeatable. Replaces --out.")]
    public string[] SeedNodes { get; init; } = [];
    [CommandOption("--config <FILE>")] [Description("HOCON files for joining (default: those of `fedcollm node` with --seed-node, else the local cluster's).")]
    public string[] Config { get; init; } = [];
    [CommandOption("--port <P>")] [Description("This visiting node's remoting port (default: any free one).")] [DefaultValue(0)]
    public int Port { get; init; }
    [CommandOption("--timeout <SECONDS>")] [Description("How long to wait for the cluster to answer.")] [DefaultValue(30)]
    public int TimeoutSeconds { get; init; } = 30;
}

/// <summary>
/// A role-less node that joins a running cluster to talk to its jobs (through the job and directory regions' proxies),
/// then leaves. All job verbs use it; it holds no state and runs no step.
/// </summary>
public sealed class ClusterAccess : IAsyncDisposable
{
    public ActorSystem System { get; }
    public IActorRef Servers { get; }
    public IActorRef Directory { get; }
    public TimeSpan Timeout { get; }

    readonly CancellationTokenSource lost = new();

    ClusterAccess(ActorSystem system, IActorRef servers, IActorRef directory, TimeSpan timeout)
    {
        // A visitor is a member too: the split-brain resolver may down it (a quorum lost while servers restart), and
        // then every Ask would time out for ever; waiting ends at once instead (see Ended).
        system.WhenTerminated.ContinueWith(_ => lost.Cancel(), TaskScheduler.Default);
        System = system;
        Servers = servers;
        Directory = directory;
        Timeout = timeout;
    }

    public static async Task<ClusterAccess> ConnectAsync(ClusterAccessSettings s, CancellationToken cancellation)
    {
        string[] seeds;
        IReadOnlyList<string> files;
        if (s.SeedNodes.Length > 0)
        {
            seeds = s.SeedNodes;
            files = s.Config.Length > 0 ? s.Config : NodeCommand.DefaultConfigFiles;
        }
        else
        {
            var file = LocalCluster.AddressFile(s.Out);
            if (!File.Exists(file))
                throw new InvalidOperationException($"--out {s.Out}: no cluster is running there (no cluster.address); start one with `fedcollm run --out {s.Out}`, or pass --seed-node for a multi-process cluster.");
            seeds = [File.ReadAllText(file).Trim()];
            files = s.Config.Length > 0 ? s.Config : LocalCluster.VisitorConfigFiles;
        }
        var overrides = ConfigurationFactory.ParseString(string.Join("\n",
            "akka.cluster.roles = []",
            $"akka.remote.dot-netty.tcp.port = {s.Port}",
            "fedcollm.self-join = off",
            $"akka.cluster.seed-nodes = [{string.Join(", ", seeds.Select(a => $"\"{a}\""))}]",
            StandardErrorLogger.Config));
        var system = FederationHost.CreateSystem(overrides.WithFallback(FederationConfig.Load(files)));
        var timeout = TimeSpan.FromSeconds(s.TimeoutSeconds);
        var up = new TaskCompletionSource();
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        if (await Task.WhenAny(up.Task, Task.Delay(timeout, cancellation)) != up.Task)
        {
            await system.Terminate();
            cancellation.ThrowIfCancellationRequested();
            throw new TimeoutException($"No cluster answered at {string.Join(", ", seeds)} within {timeout.TotalSeconds:F0} s" +
                (s.SeedNodes.Length > 0 ? "." : $"; the `fedcollm run` that wrote {LocalCluster.AddressFile(s.Out)} is probably no longer running."));
        }
        var (servers, directory) = FederationNode.StartProxies(system);
        return new ClusterAccess(system, servers, directory, timeout);
    }

    /// <summary>Cancelled when this visitor's actor system has ended (downed, or no seed answered).</summary>
    public CancellationToken Lost => lost.Token;

    /// <summary>The exit code when this visitor's actor system has ended, saying why and that the jobs go on; else null.</summary>
    public int? Ended()
    {
        if (!System.WhenTerminated.IsCompleted) return null;
        return ExitCodes.ForShutdown(CoordinatedShutdown.Get(System).ShutdownReason, Console.Error.WriteLine,
            "(the jobs go on in the cluster: `fedcollm watch JOB` follows one again)");
    }

    public Task<JobAccepted> Submit(JobSpec spec, CancellationToken cancellation) =>
        Servers.Ask<JobAccepted>(new StartFederation(spec.JobId, spec), Timeout, cancellation);

    public Task<JobAccepted> Cancel(string jobId, string reason, CancellationToken cancellation) =>
        Servers.Ask<JobAccepted>(new CancelFederation(jobId, reason), Timeout, cancellation);

    public Task<JobStatus> Status(string jobId, CancellationToken cancellation) =>
        Servers.Ask<JobStatus>(new GetJobStatus(jobId), Timeout, cancellation);

    public async Task<IReadOnlyList<JobEntry>> List(CancellationToken cancellation) =>
        (await Directory.Ask<JobList>(ListJobs.Instance, Timeout, cancellation)).Jobs;

    /// <summary>Leaves the cluster. Remoting can log while it shuts down, after the loggers have stopped (Akka then falls
    /// back to stdout, whatever stdout-loglevel says), and such a line must not land in a verb's output (after
    /// <c>jobs --json</c>'s JSON); so stdout is stderr while the node leaves, and is given back afterwards for the verbs
    /// that print once they have left (<c>status</c>).</summary>
    public async ValueTask DisposeAsync()
    {
        var stdout = Console.Out;
        stdout.Flush();
        Console.SetOut(Console.Error);
        try { await CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClrExitReason.Instance); }
        finally { Console.SetOut(stdout); }
    }
}
