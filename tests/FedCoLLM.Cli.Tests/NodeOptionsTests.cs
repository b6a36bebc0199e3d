using System.Reflection;
using FedCoLLM.Cli.Federation;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli.Tests;

/// <summary>
/// A job's bytes are decided by its job file alone: every step builds its setup (threads, seed, data caps, LoRA,
/// learning rates…) from the job definition it names, never from the command line of the node that runs it. What is
/// left on the command lines of `fedcollm run` and `fedcollm node` only places the work: roles, ports, seed nodes,
/// where the client data and the run's files are, and the cluster's HOCON (actor and protocol settings).
/// </summary>
[Collection(ChildProcesses.Name)]
public class NodeOptionsTests
{
    /// <summary>Every option of the two commands that host steps, with why it cannot change a job's bytes. A new option
    /// fails this test until it is added here: if it could change what a step computes, it belongs in the job file
    /// (docs/jobs.md) instead.</summary>
    static readonly Dictionary<string, string> RunOptions = new()
    {
        ["JOB-FILE"] = "which jobs to submit: the job files themselves",
        ["--quick"] = "which job file to submit (jobs/wordnet-quick.conf)",
        ["--out"] = "where the journal, blobs and reports go",
        ["--data"] = "where a client's private file is (its content is the client's data)",
        ["--data-dir"] = "where the clients' private files are",
        ["--config"] = "actor-system and protocol HOCON (timers, ports, persistence)",
    };

    static readonly Dictionary<string, string> NodeOptions = new()
    {
        ["--role"] = "which steps this node hosts",
        ["--client-id"] = "which client silos this node hosts",
        ["--data"] = "where a hosted client's private file is",
        ["--data-dir"] = "where the hosted clients' private files are",
        ["--config"] = "actor-system and protocol HOCON (timers, ports, persistence)",
        ["--out"] = "this node's directory",
        ["--blobs"] = "where this node keeps blobs",
        ["--port"] = "the remoting port",
        ["--seed-node"] = "where the cluster is",
    };

    [Fact]
    public void Run_and_node_have_only_placement_options_roles_ports_seeds_data_locations_config_out_blobs()
    {
        Assert.Equal(RunOptions.Keys.Order(), OptionsOf(typeof(RunCommand.Settings)).Order());
        Assert.Equal(NodeOptions.Keys.Order(), OptionsOf(typeof(NodeCommand.Settings)).Order());
    }

    static IEnumerable<string> OptionsOf(Type settings) =>
        settings.GetProperties(BindingFlags.Public | BindingFlags.Instance).SelectMany(p =>
            p.GetCustomAttribute<CommandOptionAttribute>() is { } option ? option.LongNames.Select(n => "--" + n)
            : p.GetCustomAttribute<CommandArgumentAttribute>() is { } argument ? [argument.ValueName]
            : []);

    [Fact]
    public async Task The_same_job_run_with_other_out_data_locations_and_protocol_config_yields_identical_adapters()
    {
        using var jobs = new TempDir();
        var job = TestJobs.Write(jobs.Path, "placed", [.. TestJobs.Small, "job.id = placed", "job.seed = 5"]);
        using var first = new TempDir();
        var (code, output) = await Fedcollm.Run(["run", job, "--out", first.Path]);
        Assert.True(code == 0, output);

        // The clients' files copied elsewhere: one named by --data ID=FILE, the other found through --data-dir.
        using var data = new TempDir();
        var plant = Path.Combine(data.Path, "elsewhere", "noun.plant", "train.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(plant)!);
        File.Copy(Path.Combine(Repository.Root, "data", "wordnet", "clients", "noun.plant", "train.jsonl"), plant);
        var animal = Path.Combine(data.Path, "animal-private.jsonl");
        File.Copy(Path.Combine(Repository.Root, "data", "wordnet", "clients", "noun.animal", "train.jsonl"), animal);
        // The local cluster's HOCON plus a file changing every protocol timer and the retry policy.
        var timers = Path.Combine(data.Path, "timers.conf");
        File.WriteAllText(timers, """
            fedcollm.protocol {
              client-register = 300ms
              client-heartbeat = 2s
              client-resend = 1s
              directory-poll = 700ms
              aggregation-ack = 5s
              retry { max-attempts = 3, base-delay = 200ms, max-delay = 2s }
            }
            """);
        using var second = new TempDir();
        var nested = Path.Combine(second.Path, "a", "b");
        (code, output) = await Fedcollm.Run(["run", job, "--out", nested, "--data-dir", Path.Combine(data.Path, "elsewhere"), "--data", $"noun.animal={animal}",
            "--config", "local.conf", "--config", "sharding.conf", "--config", "serialization.conf", "--config", "persistence-sqlite.conf", "--config", timers]);
        Assert.True(code == 0, output);

        Assert.Equal(RunOutputs.FinalHashes(first.Path, "placed", 1), RunOutputs.FinalHashes(nested, "placed", 1));
    }
}
