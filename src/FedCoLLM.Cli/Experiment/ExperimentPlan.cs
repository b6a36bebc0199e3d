using System.Text;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;

namespace FedCoLLM.Cli.Experiment;

/// <summary>The methods the experiment compares (fedcollm.md §4); each is a strategy (<c>Strategies/</c>) plus the data its
/// job gets. Zero-shot is also measured by the first job of each seed (its round 0). The last four are issue 16's
/// ablations: FedCoLLM with λ = 0 (CE only), with the public CE off (KD only), with T² scaling of the KD term, and the
/// LLM fine-tuned on the public set alone (strategy llm-public).</summary>
public enum Method { FedCoLLM, FedAvg, Standalone, Centralized, ZeroShot, FedCoLLMCeOnly, FedCoLLMKdOnly, FedCoLLMT2, LlmPublic }

/// <summary>One generated job of the experiment: its method, seed, the domain of a Standalone job, the job file written for
/// it and its spec, and the client silos that hold its data.</summary>
public sealed record ExperimentJob(Method Method, int Seed, string? Domain, string JobFile, JobSpec Spec, IReadOnlyList<LocalClient> Clients)
{
    public string JobId => Spec.JobId;
}

/// <summary>
/// `fedcollm experiment` as a generator of job files: one per method and seed, each the base job (jobs/wordnet.conf, or
/// jobs/wordnet-quick.conf) plus the lines that make it that method, written to OUT/jobs/ so any of them can be rerun or
/// submitted by hand. The Centralized reference's pooled data and capped client files are written to OUT/data/.
/// </summary>
public sealed record ExperimentPlan(JobDefinition Base, IReadOnlyList<string> Domains, IReadOnlyList<Method> Methods,
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
        "fedcollm-ce-only" => Method.FedCoLLMCeOnly,
        "fedcollm-kd-only" => Method.FedCoLLMKdOnly,
        "fedcollm-t2" => Method.FedCoLLMT2,
        "llm-public" => Method.LlmPublic,
        _ => throw new ArgumentException($"--methods: unknown method \"{name}\"; choose from fedcollm, fedavg, standalone, centralized, zeroshot, "
            + "fedcollm-ce-only, fedcollm-kd-only, fedcollm-t2, llm-public."),
    };

    /// <summary>The method's name on the command line, in job ids and in results.json.</summary>
    public static string Slug(Method m) => m switch
    {
        Method.FedCoLLMCeOnly => "fedcollm-ce-only",
        Method.FedCoLLMKdOnly => "fedcollm-kd-only",
        Method.FedCoLLMT2 => "fedcollm-t2",
        Method.LlmPublic => "llm-public",
        _ => m.ToString().ToLowerInvariant(),
    };

    /// <summary>The job-file lines that turn FedCoLLM into one of its ablations (empty for the others). The base job's
    /// λ stays for KD only and T²; CE only sets λ = 0, which skips the KD term (the teacher passes still run: they give the
    /// teacher-mass metric, and the plan stays FedCoLLM's).</summary>
    public static IReadOnlyList<string> AblationLines(Method m) => m switch
    {
        Method.FedCoLLMCeOnly => ["job.distillation.lambda = 0"],
        Method.FedCoLLMKdOnly => ["job.distillation.public-ce = false"],
        Method.FedCoLLMT2 => ["job.distillation.scale-kd-by-t-squared = true"],
        _ => [],
    };

    /// <summary>The benchmark's own job file, named after its data folder (data/skills → jobs/skills.conf, or
    /// jobs/skills-quick.conf with --quick), so switching benchmarks is one option.</summary>
    public static string DefaultBaseJob(string dataDir, bool quick)
    {
        var name = Path.GetFileName(Path.TrimEndingDirectorySeparator(dataDir));
        var file = Path.Combine("jobs", quick ? $"{name}-quick.conf" : $"{name}.conf");
        return File.Exists(file) ? file
            : throw new ArgumentException($"--data {dataDir}: no job file {file} for this benchmark; name one with --base-job FILE.");
    }

    /// <param name="baseJobFile">The job every generated file starts from (its models, data, training settings).</param>
    /// <param name="overrides">Job-file lines applied to every job (the experiment's hyper-parameter options).</param>
    /// <param name="variant">Job-id prefix, job-file folder and per-method lines (tuning, tuned settings); none by default.</param>
    public static ExperimentPlan Create(string baseJobFile, string dataDir, string outDir, int clients, int rounds, int seeds,
        IReadOnlyList<Method> methods, string evalSplit, int? evalItems, int? publicEvalItems, IReadOnlyList<string> overrides, ExperimentOptions options, int? maxClientExamples,
        PlanVariant? variant = null)
    {
        variant ??= PlanVariant.None;
        if (seeds < 1) throw new ArgumentException($"--seeds {seeds}: run at least one seed.");
        if (evalSplit is not ("test" or "validation"))
            throw new ArgumentException($"--eval-split {evalSplit}: choose test (the reported numbers) or validation (for tuning).");
        if (methods.Count == 0 || methods.All(m => m == Method.ZeroShot))
            throw new ArgumentException("--methods: add at least one training method; Zero-shot is measured by the first job of each seed.");
        var baseText = File.ReadAllText(baseJobFile) + "\n" + string.Join("\n", overrides) + "\n";
        // Every generated job replaces the base's evaluation sets with the chosen split's, so the base is parsed without
        // them: parsing opens and hashes each named file, and a tuning run must not open the test split at all.
        var baseJob = JobFile.Parse(baseText + "job.data.evaluation.sets = []\n", baseJobFile, StrategyCatalog.Names);
        var clientsDir = Path.Combine(dataDir, "clients");
        // The benchmark's clients in the order its README lists them (unequal sizes on purpose), then any others.
        string[] preferred = ["noun.animal", "noun.plant", "noun.food", "noun.body"];
        var domains = preferred.Where(d => Directory.Exists(Path.Combine(clientsDir, d)))
            .Concat(Directory.GetDirectories(clientsDir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).Where(d => !preferred.Contains(d)))
            .ToList();
        if (clients < 1 || clients > domains.Count)
            throw new ArgumentException($"--clients {clients}: the benchmark has {domains.Count} client domains ({string.Join(", ", domains)}); choose 1–{domains.Count}.");
        domains = domains.Take(clients).ToList();
        // A cap on the client data is applied by writing the capped files here (not through the job's max-examples), so the
        // Centralized reference pools exactly the examples the clients train on.
        var silos = domains.Select(d =>
        {
            var file = Path.Combine(clientsDir, d, "train.jsonl");
            return new LocalClient(d, maxClientExamples is int n ? WriteIfChanged(Path.Combine(outDir, "data", d, "train.jsonl"), Lines(file).Take(n)) : Path.GetFullPath(file));
        }).ToArray();
        var pooled = new LocalClient(PooledClientId, WritePooledTrainingSet(outDir, silos));
        string Path_(string p) => p.Replace('\\', '/');
        string EvalSets(IEnumerable<string> ds) => "[" + string.Join(", ", ds.Select(d =>
            $"{{ name = \"{d}\", path = \"{Path_(Path.Combine(clientsDir, d, $"{evalSplit}.jsonl"))}\" }}")) + "]";
        string List(IEnumerable<string> ids) => "[" + string.Join(", ", ids.Select(i => $"\"{i}\"")) + "]";

        var ordered = methods.Distinct().Order().ToArray();
        var jobs = new List<ExperimentJob>();
        var seedList = Enumerable.Range(1, seeds).ToArray();
        foreach (int seed in seedList)
        {
            bool first = true;
            void Add(Method m, string name, string strategy, IReadOnlyList<LocalClient> local, IEnumerable<string> evalDomains, bool publicEval, bool evaluateLlm,
                string? serverTrainingSet = null, string? domain = null)
            {
                var id = variant.JobPrefix + name;
                var lines = new StringBuilder(baseText);
                foreach (var line in AblationLines(m)) lines.AppendLine(line);
                lines
                    .AppendLine($"job.id = \"{id}\"").AppendLine($"job.strategy = {strategy}").AppendLine($"job.seed = {seed}").AppendLine($"job.rounds = {rounds}")
                    .AppendLine($"job.clients.enrolled = {List(local.Select(c => c.ClientId))}")
                    // One process trains every client in turn: wait for all of them.
                    // (At least 1: a strategy without a client phase enrols none, and a quorum is never 0.)
                    .AppendLine($"job.clients.quorum = {Math.Max(1, local.Count)}")
                    .AppendLine($"job.data.evaluation.sets = {EvalSets(evalDomains)}")
                    .AppendLine($"job.data.evaluation.max-items = {(evalItems?.ToString() ?? "null")}")
                    .AppendLine($"job.data.evaluation.public-items = {(publicEval && publicEvalItems is int p ? p.ToString() : "null")}")
                    .AppendLine($"job.data.evaluation.evaluate-llm = {(evaluateLlm ? "true" : "false")}")
                    // The first job of a seed also scores the pre-trained models: the Zero-shot row.
                    .AppendLine($"job.data.evaluation.score-baseline = {(first && ordered.Contains(Method.ZeroShot) ? "true" : "false")}");
                if (serverTrainingSet is not null)
                {
                    lines.AppendLine($"job.data.server-training-set = \"{Path_(serverTrainingSet)}\"");
                    foreach (var line in options.CentralizedJobLines(baseJob.Training.LlmDistillation.LearningRate)) lines.AppendLine(line);
                }
                foreach (var line in variant.MethodLines(m)) lines.AppendLine(line);
                first = false;
                var file = Path.Combine(variant.JobsDirectory ?? Path.Combine(outDir, "jobs"), id + ".conf");
                WriteIfChanged(file, [lines.ToString()]);
                jobs.Add(new ExperimentJob(m, seed, domain, file, JobSpecs.From(JobFile.Load(file, StrategyCatalog.Names)), local));
            }
            foreach (var m in ordered)
                switch (m)
                {
                    case Method.FedCoLLM:
                        Add(m, $"fedcollm-s{seed}", "fedcollm", silos, domains, publicEval: true, evaluateLlm: true);
                        break;
                    case Method.FedAvg:
                        Add(m, $"fedavg-s{seed}", "fedavg", silos, domains, publicEval: true, evaluateLlm: false);
                        break;
                    case Method.Standalone:
                        foreach (var client in silos)
                            Add(m, $"standalone-{client.ClientId}-s{seed}", "standalone", [client], [client.ClientId], publicEval: false, evaluateLlm: false, domain: client.ClientId);
                        break;
                    case Method.Centralized:
                        Add(m, $"centralized-s{seed}", "centralized", [pooled], domains, publicEval: true, evaluateLlm: true, serverTrainingSet: pooled.DataPath);
                        break;
                    case Method.FedCoLLMCeOnly or Method.FedCoLLMKdOnly or Method.FedCoLLMT2:
                        Add(m, $"{Slug(m)}-s{seed}", "fedcollm", silos, domains, publicEval: true, evaluateLlm: true);
                        break;
                    case Method.LlmPublic:
                        // No client: the server trains the LLM on the public set; the SLM stays pre-trained and is scored too.
                        Add(m, $"llm-public-s{seed}", "llm-public", [], domains, publicEval: true, evaluateLlm: true);
                        break;
                }
        }
        return new ExperimentPlan(baseJob, domains, ordered, seedList, rounds, evalSplit, jobs);
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
