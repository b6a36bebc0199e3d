using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Cli.Federation;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Cli.Experiment;

/// <summary>The server strategies the experiment compares (fedcollm.md §4). Each is a round plan plus the data its
/// job gets; Zero-shot is the round-0 baseline every job measures at initialisation.</summary>
public enum Method { FedCoLLM, FedAvg, Standalone, Centralized, ZeroShot }

/// <summary>One federation job of the experiment: a method, a seed and (Standalone) the one client it trains.</summary>
public sealed record ExperimentJob(Method Method, int Seed, string? Domain, JobSpec Spec, ServerData Server, IReadOnlyList<LocalClient> Clients)
{
    public string JobId => Spec.JobId;
}

/// <summary>Every job of `fedcollm experiment`, in run order (seed by seed, method by method), all on one setup.</summary>
public sealed record ExperimentPlan(FederationSetup Setup, IReadOnlyList<string> Domains, IReadOnlyList<Method> Methods,
    IReadOnlyList<int> Seeds, int Rounds, string EvalSplit, IReadOnlyList<ExperimentJob> Jobs)
{
    public const string PooledClientId = "pooled";

    public static Method ParseMethod(string name) => name.Trim().ToLowerInvariant() switch
    {
        "fedcollm" => Method.FedCoLLM,
        "fedavg" => Method.FedAvg,
        "standalone" => Method.Standalone,
        "centralized" or "centralised" => Method.Centralized,
        "zeroshot" or "zero-shot" => Method.ZeroShot,
        _ => throw new ArgumentException($"--methods: unknown method \"{name}\"; choose from fedcollm, fedavg, standalone, centralized, zeroshot."),
    };

    public static string Slug(Method m) => m.ToString().ToLowerInvariant();

    public static ExperimentPlan Create(string dataDir, string modelsDir, string outDir, int clients, int rounds, int seeds,
        IReadOnlyList<Method> methods, string evalSplit, int? publicEvalItems, bool quick, int threads, FederationOptions options,
        int? maxClientExamples = null, int? maxPublicExamples = null)
    {
        if (seeds < 1) throw new ArgumentException($"--seeds {seeds}: run at least one seed.");
        if (evalSplit is not ("test" or "validation"))
            throw new ArgumentException($"--eval-split {evalSplit}: choose test (the reported numbers) or validation (for tuning).");
        if (methods.Count == 0 || methods.All(m => m == Method.ZeroShot))
            throw new ArgumentException("--methods: add at least one training method; Zero-shot is measured by the first job of each seed.");
        // RunPlan picks the domains, the public set and the quick-mode sizes exactly as `fedcollm run` does.
        var run = RunPlan.Create(dataDir, modelsDir, clients, rounds, seed: 1, quick, threads);
        // A cap on the client data is applied by writing the capped files into the experiment directory (not through
        // FederationSetup.MaxClientExamples), so the Centralized reference pools exactly the examples the clients train on.
        int? cap = maxClientExamples ?? run.Setup.MaxClientExamples;
        var setup = options.ApplyTo(run.Setup with
        {
            MaxClientExamples = null,
            MaxPublicExamples = maxPublicExamples ?? run.Setup.MaxPublicExamples,
        }).Validate();
        var domains = run.Spec.ClientIds;
        var testSets = domains.Select(d => new EvaluationSet(d, Path.Combine(dataDir, "clients", d, $"{evalSplit}.jsonl"))).ToArray();
        var clientData = cap is int n ? run.Clients.Select(c => c with { DataPath = WriteIfChanged(Path.Combine(outDir, "data", c.ClientId, "train.jsonl"), Lines(c.DataPath).Take(n)) }).ToArray() : run.Clients;
        var pooled = WritePooledTrainingSet(outDir, clientData);
        run = run with { Clients = clientData };
        var ordered = methods.Distinct().Order().ToArray();

        var jobs = new List<ExperimentJob>();
        var seedList = Enumerable.Range(1, seeds).ToArray();
        foreach (int seed in seedList)
        {
            bool first = true;
            ExperimentJob Job(Method m, string id, IReadOnlyList<RoundPhase> plan, IReadOnlyList<LocalClient> local, ServerData server, string? domain = null)
            {
                // The first job of a seed also scores the pre-trained models: the Zero-shot row.
                server = server with { ScoreBaseline = first && ordered.Contains(Method.ZeroShot) };
                first = false;
                var spec = new JobSpec
                {
                    JobId = id,
                    ClientIds = local.Select(c => c.ClientId).ToArray(),
                    Rounds = rounds,
                    Seed = seed,
                    Phases = plan,
                    MinUpdates = local.Count, // one process trains every client in turn: wait for all of them
                    ClientTimeout = TimeSpan.FromMinutes(quick ? 10 : 60),
                    SettingsDigest = RunPlan.Digest(setup, server, local,
                        $"{FederationOptions.Describe(setup)} public-eval {server.PublicEvaluationItems} llm-data {ContentFingerprint.OfFile(server.LlmTrainingSetPath)} baseline {server.ScoreBaseline} eval-llm {server.EvaluateLlm}"),
                }.Validate();
                return new ExperimentJob(m, seed, domain, spec, server, local);
            }
            var all = new ServerData(run.Server.PublicSetPath, testSets, run.Server.MaxEvaluationItems) { PublicEvaluationItems = publicEvalItems };
            foreach (var m in ordered)
                switch (m)
                {
                    case Method.FedCoLLM:
                        jobs.Add(Job(m, $"fedcollm-s{seed}", RoundPlans.FedCoLLM, run.Clients, all));
                        break;
                    case Method.FedAvg:
                        jobs.Add(Job(m, $"fedavg-s{seed}", RoundPlans.FedAvg, run.Clients, all with { EvaluateLlm = false }));
                        break;
                    case Method.Standalone:
                        // FedAvg of a single update is that update: a one-client FedAvg job is the client training alone.
                        // Each client's own test set, by name (the test sets are in ordinal order, the clients in the benchmark's).
                        foreach (var client in run.Clients)
                            jobs.Add(Job(m, $"standalone-{client.ClientId}-s{seed}", RoundPlans.FedAvg, [client],
                                all with { EvaluationSets = [testSets.Single(t => t.Name == client.ClientId)], PublicEvaluationItems = null, EvaluateLlm = false },
                                client.ClientId));
                        break;
                    case Method.Centralized:
                        jobs.Add(Job(m, $"centralized-s{seed}", RoundPlans.Centralized, [new LocalClient(PooledClientId, pooled)],
                            all with { LlmTrainingSetPath = pooled }));
                        break;
                }
        }
        return new ExperimentPlan(setup, domains, ordered, seedList, rounds, evalSplit, jobs);
    }

    /// <summary>The Centralized reference's training set: every client's training file, interleaved round-robin in
    /// client order (deterministic, and a prefix — the quick mode's — mixes the domains).</summary>
    static string WritePooledTrainingSet(string outDir, IReadOnlyList<LocalClient> clients)
    {
        var lines = clients.Select(c => Lines(c.DataPath).ToArray()).ToArray();
        var pooled = new List<string>();
        for (int i = 0; i < lines.Max(l => l.Length); i++)
            foreach (var file in lines)
                if (i < file.Length) pooled.Add(file[i]);
        return WriteIfChanged(Path.Combine(outDir, "data", "pooled-train.jsonl"), pooled);
    }

    static IEnumerable<string> Lines(string path) => File.ReadLines(path).Where(l => l.Length > 0);

    /// <summary>Writes the lines unless the file already holds exactly them (a resumed experiment keeps its files).</summary>
    static string WriteIfChanged(string path, IEnumerable<string> lines)
    {
        path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var text = string.Join("\n", lines) + "\n";
        if (!File.Exists(path) || File.ReadAllText(path) != text) File.WriteAllText(path, text);
        return path;
    }
}
