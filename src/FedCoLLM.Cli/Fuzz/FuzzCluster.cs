using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster;
using Akka.Configuration;
using Akka.Event;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Cli.Federation;
using FedCoLLM.Web;
using Microsoft.AspNetCore.Builder;

namespace FedCoLLM.Cli.Fuzz;

/// <summary>
/// The fuzz target: a full local node (every role, SQLite journal, HTTP port on loopback) and a second cluster member
/// that watches it. "Unaffected" is checked from both sides after the fuzzing: the two members still see each other Up
/// and reachable, a message from the peer still reaches the target, and (HTTP) the health endpoint still answers.
/// The target's warnings and errors are counted: hostile input should be logged, not swallowed.
/// </summary>
public sealed class FuzzCluster : IAsyncDisposable
{
    public FederationHost Target { get; }
    public ActorSystem Peer { get; }
    public WebApplication? Web { get; }
    public Config VisitorConfig { get; }
    public int RemotingPort => Cluster.Get(Target.System).SelfAddress.Port!.Value;
    public int HttpPort { get; }
    public LogTally Logs { get; }

    FuzzCluster(FederationHost target, ActorSystem peer, WebApplication? web, Config visitor, int httpPort, LogTally logs) =>
        (Target, Peer, Web, VisitorConfig, HttpPort, Logs) = (target, peer, web, visitor, httpPort, logs);

    public static async Task<FuzzCluster> StartAsync(string outDir, bool http, TimeSpan timeout)
    {
        int httpPort = http ? FreePort() : 0;
        var config = ConfigurationFactory.ParseString($"fedcollm.http.port = {httpPort}").WithFallback(LocalCluster.LoadConfig(outDir, null));
        var target = FederationHost.Start(config, Path.Combine(outDir, "blobs"), []);
        var logs = new LogTally();
        target.System.ActorOf(Props.Create(() => new LogListener(logs)), "fuzz-log-tally");
        await Up(target.System, timeout, "the target node");
        var seed = Cluster.Get(target.System).SelfAddress;
        var visitor = FederationConfig.Load(LocalCluster.VisitorConfigFiles);
        var peer = FederationHost.CreateSystem(ConfigurationFactory.ParseString($"""
            akka.cluster.roles = []
            akka.remote.dot-netty.tcp.port = 0
            fedcollm.self-join = off
            akka.cluster.seed-nodes = ["{seed}"]
            """).WithFallback(visitor));
        await Up(peer, timeout, "the peer member");
        var web = http ? await NodeWebServer.StartAsync(new NodeWebContext(target.System, target.Node), host: "127.0.0.1") : null;
        return new FuzzCluster(target, peer, web, visitor, httpPort, logs);
    }

    /// <summary>Null when the target and the cluster are as they were; else what is wrong.</summary>
    public async Task<string?> ProblemAsync(TimeSpan timeout)
    {
        if (Target.System.WhenTerminated.IsCompleted) return "the target's actor system terminated";
        var targetView = Cluster.Get(Target.System).State;
        var peerView = Cluster.Get(Peer).State;
        foreach (var (who, view) in new[] { ("target", targetView), ("peer", peerView) })
        {
            if (view.Members.Count != 2 || view.Members.Any(m => m.Status != MemberStatus.Up))
                return $"the {who} sees members [{string.Join(", ", view.Members.Select(m => $"{m.Address} {m.Status}"))}], not the two Up members it had";
            if (view.Unreachable.Count > 0)
                return $"the {who} sees {string.Join(", ", view.Unreachable.Select(m => m.Address))} as unreachable";
        }
        try
        {
            var identity = await Peer.ActorSelection($"{Cluster.Get(Target.System).SelfAddress}/system").Ask<ActorIdentity>(new Identify("fuzz"), timeout);
            if (identity.Subject is null) return "the peer's message reached the target but /system did not answer";
        }
        catch (AskTimeoutException) { return $"a message from the peer got no answer from the target within {timeout.TotalSeconds:F0} s"; }
        if (Web is not null)
        {
            using var client = new HttpClient { Timeout = timeout };
            foreach (var path in new[] { "/healthz/live", "/api/jobs" })
            {
                try
                {
                    var response = await client.GetAsync($"http://127.0.0.1:{HttpPort}{path}");
                    if (response.StatusCode != HttpStatusCode.OK) return $"GET {path} answered {(int)response.StatusCode}";
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return $"GET {path} failed: {e.Message}"; }
            }
        }
        return null;
    }

    /// <summary>Waits until <see cref="ProblemAsync"/> finds nothing (the members converge a moment after both are Up).</summary>
    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string? problem;
        while ((problem = await ProblemAsync(TimeSpan.FromSeconds(5))) is not null)
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException($"The fuzz target was not healthy before fuzzing: {problem}");
            await Task.Delay(200);
        }
    }

    static async Task Up(ActorSystem system, TimeSpan timeout, string what)
    {
        var up = new TaskCompletionSource();
        Cluster.Get(system).RegisterOnMemberUp(() => up.TrySetResult());
        if (await Task.WhenAny(up.Task, Task.Delay(timeout)) != up.Task)
            throw new TimeoutException($"{what} did not become an Up cluster member within {timeout.TotalSeconds:F0} s.");
    }

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try { return ((IPEndPoint)listener.LocalEndpoint).Port; }
        finally { listener.Stop(); }
    }

    public async ValueTask DisposeAsync()
    {
        if (Web is not null) await Web.DisposeAsync();
        await Peer.Terminate();
        await Target.DisposeAsync();
    }

    /// <summary>Counts the target's warnings and errors and keeps the first few.</summary>
    public sealed class LogTally
    {
        int warnings, errors;
        readonly List<string> samples = [];
        public int Warnings => Volatile.Read(ref warnings);
        public int Errors => Volatile.Read(ref errors);
        public IReadOnlyList<string> Samples { get { lock (samples) return [.. samples]; } }

        /// <summary>Starts counting afresh (after the set-up, whose own logs are not the fuzzing's).</summary>
        public void Reset()
        {
            Interlocked.Exchange(ref warnings, 0);
            Interlocked.Exchange(ref errors, 0);
            lock (samples) samples.Clear();
        }

        internal void Add(LogEvent e)
        {
            if (e is Error) Interlocked.Increment(ref errors); else Interlocked.Increment(ref warnings);
            lock (samples)
                if (samples.Count < 5) samples.Add($"[{e.LogLevel()}] {e.LogSource}: {e.Message}".ReplaceLineEndings(" "));
        }
    }

    sealed class LogListener : ReceiveActor
    {
        public LogListener(LogTally tally)
        {
            Receive<Warning>(tally.Add);
            Receive<Error>(tally.Add);
        }

        protected override void PreStart()
        {
            Context.System.EventStream.Subscribe(Self, typeof(Warning));
            Context.System.EventStream.Subscribe(Self, typeof(Error));
        }
    }
}
