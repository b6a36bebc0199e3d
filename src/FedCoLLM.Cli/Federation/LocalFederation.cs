using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using FedCoLLM.Actors.Hosting;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Serialization;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Learning;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Cli.Federation;

/// <summary>What `fedcollm run` federates: the built-in benchmark and models, sized by the command line.</summary>
public sealed record RunPlan(JobSpec Spec, FederationSetup Setup, ServerData Server, IReadOnlyList<LocalClient> Clients)
{
    public const string JobId = "wordnet";

    /// <summary>The federation `fedcollm run` and `fedcollm node` run when --clients / --rounds are not given.</summary>
    public static int DefaultClients(bool quick) => quick ? 2 : 4;
    public static int DefaultRounds(bool quick) => quick ? 1 : 4;

    public static RunPlan Create(string dataDir, string modelsDir, int clients, int rounds, long seed, bool quick, int threads)
    {
        var clientsDir = Path.Combine(dataDir, "clients");
        if (!Directory.Exists(clientsDir))
            throw new DirectoryNotFoundException($"--data {dataDir}: no clients/ folder; run from the repository root or pass the benchmark folder (fedcollm data wordnet writes one).");
        // The benchmark's default four clients, in the order its README lists them (unequal sizes on purpose).
        string[] preferred = ["noun.animal", "noun.plant", "noun.food", "noun.body"];
        var domains = preferred.Where(d => Directory.Exists(Path.Combine(clientsDir, d)))
            .Concat(Directory.GetDirectories(clientsDir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).Where(d => !preferred.Contains(d)))
            .ToList();
        if (clients < 1 || clients > domains.Count)
            throw new ArgumentException($"--clients {clients}: the benchmark has {domains.Count} client domains ({string.Join(", ", domains)}); choose 1–{domains.Count}.");
        var chosen = domains.Take(clients).ToList();
        var local = chosen.Select(d => new LocalClient(d, Path.Combine(clientsDir, d, "train.jsonl"))).ToArray();
        var server = new ServerData(Path.Combine(dataDir, "public", "train.jsonl"),
            chosen.Select(d => new EvaluationSet(d, Path.Combine(clientsDir, d, "test.jsonl"))).ToArray(),
            quick ? 40 : null);

        var setup = FederationSetup.Default(Path.Combine(modelsDir, "wordnet-slm"), Path.Combine(modelsDir, "wordnet-llm"),
            QaPromptFormat.Load(Path.Combine(dataDir, "prompt.json")));
        setup = setup with { Compute = new ComputeOptions("cpu", threads, seed) };
        if (quick)
            setup = setup with
            {
                MaxClientExamples = 48,
                MaxPublicExamples = 48,
                ClientTraining = setup.ClientTraining with { Epochs = 1 },
                SlmDistillation = setup.SlmDistillation with { Epochs = 1 },
                LlmDistillation = setup.LlmDistillation with { Epochs = 1 },
            };
        setup.Validate();

        var spec = new JobSpec
        {
            JobId = JobId,
            ClientIds = chosen,
            Rounds = rounds,
            Seed = seed,
            MinUpdates = Math.Max(1, (clients + 1) / 2),
            // All clients share this machine's cores (one TorchSharp job at a time), so the deadline is generous.
            ClientTimeout = TimeSpan.FromMinutes(quick ? 10 : 30),
            SettingsDigest = Digest(setup, server, local),
        }.Validate();
        return new RunPlan(spec, setup, server, local);
    }

    /// <summary>Fingerprint of everything that shapes the numbers, so a resume with other settings is refused. Models and
    /// data enter by content (<see cref="ContentFingerprint"/>), never by path.</summary>
    internal static string Digest(FederationSetup setup, ServerData server, IReadOnlyList<LocalClient> clients, string extra = "")
    {
        var byContent = setup with
        {
            SlmDirectory = ContentFingerprint.OfDirectory(setup.SlmDirectory),
            LlmDirectory = ContentFingerprint.OfDirectory(setup.LlmDirectory),
        };
        var text = new StringBuilder(extra)
            .AppendLine(byContent.ToString())
            .AppendLine(ContentFingerprint.OfFile(server.PublicSetPath)).AppendLine(server.MaxEvaluationItems?.ToString())
            .AppendJoin('\n', server.EvaluationSets.Select(e => e.Name + "=" + ContentFingerprint.OfFile(e.Path))).AppendLine()
            .AppendJoin('\n', clients.Select(c => c.ClientId + "=" + ContentFingerprint.OfFile(c.DataPath)));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }
}

/// <summary>The single-process cluster behind `fedcollm run` and `fedcollm status`.</summary>
public static class LocalCluster
{
    public static readonly string[] DefaultConfigFiles = ["local.conf", "sharding.conf", "serialization.conf", "persistence-sqlite.conf"];

    public static string JournalPath(string outDir) => Path.Combine(Path.GetFullPath(outDir), "journal.db");

    public static Config LoadConfig(string outDir, IReadOnlyList<string>? files)
    {
        var journal = JournalPath(outDir);
        Directory.CreateDirectory(Path.GetDirectoryName(journal)!);
        SqliteJournalFile.EnableWriteAheadLog(journal);
        var preamble = $"fedcollm.sqlite-file = \"{journal.Replace("\\", "/")}\"";
        return FederationConfig.Load(files is { Count: > 0 } ? files : DefaultConfigFiles, preamble);
    }

    public static ActorSystem CreateSystem(Config config) =>
        ActorSystem.Create("fedcollm", BootstrapSetup.Create().WithConfig(config).And(WireTypes.Setup()));
}
