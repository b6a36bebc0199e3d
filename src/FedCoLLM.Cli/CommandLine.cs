using FedCoLLM.Cli.Bench;
using FedCoLLM.Cli.Data;
using FedCoLLM.Cli.Federation;
using FedCoLLM.Cli.Models;
using Spectre.Console.Cli;

namespace FedCoLLM.Cli;

/// <summary>The `fedcollm` verbs, in one place so tests drive the same command line users do.</summary>
public static class CommandLine
{
    public static void Configure(IConfigurator config)
    {
        config.SetApplicationName("fedcollm");
        config.AddBranch("data", data =>
        {
            data.SetDescription("Build benchmark data sets.");
            data.AddCommand<WordNetCommand>("wordnet").WithDescription("Federated WordNet 3.0 benchmark, pre-training corpus and tokenizer.");
            data.AddCommand<SkillsCommand>("skills").WithDescription("Federated skills benchmark (arithmetic, comparison, letters, word problems): generated splits, pre-training corpus and tokenizer.");
        });
        config.AddCommand<RunCommand>("run").WithDescription("Run job files (default jobs/wordnet.conf) on the local single-process cluster and follow them (resumes from --out).");
        config.AddCommand<SubmitCommand>("submit").WithDescription("Validate a job file and journal its spec in a running cluster (the same spec again is a no-op); --watch follows it.");
        config.AddCommand<JobsCommand>("jobs").WithDescription("List the cluster's jobs with their state.");
        config.AddCommand<WatchCommand>("watch").WithDescription("Follow a job's live progress until it ends.");
        config.AddCommand<CancelCommand>("cancel").WithDescription("Cancel a job: journaled, running steps stop, it never resumes.");
        config.AddBranch("keys", keys =>
        {
            keys.SetDescription("Client identity keys.");
            keys.AddCommand<Identity.KeysNewCommand>("new").WithDescription("Write a client silo's Ed25519 key pair (ID.key, mode 0600, and ID.pub) and print the job-file line that enrols it.");
        });
        config.AddCommand<Identity.AuditCommand>("audit").WithDescription("Re-verify a job's journal offline: update signatures, aggregates recomputed from the blobs, the chain of adapter hashes; names the first broken link.");
        config.AddCommand<NodeCommand>("node").WithDescription("Run one node of a multi-process cluster (hocon/cluster.conf, PostgreSQL journal).");
        config.AddBranch("certs", certs =>
        {
            certs.SetDescription("Certificates for mutual TLS between cluster nodes (docs/deploy.md, \"Certificates\").");
            certs.AddCommand<Security.CertsInitCommand>("init").WithDescription("Create the cluster's private CA (ca.crt, ca.key 0600).");
            certs.AddCommand<Security.CertsIssueCommand>("issue").WithDescription("Issue a node certificate signed by the CA, naming the node's hosts (tls.crt, tls.key 0600, ca.crt).");
        });
        config.AddCommand<Lab.LabCommand>("lab").WithDescription("The multi-host lab: every node in its own network namespace (same port, own address and hostname, as pods), PostgreSQL on the bridge; a job, same-address restarts and partitions, each checked for identical adapters and exactly-once updates. Needs root.");
        config.AddCommand<Chaos.ChaosCommand>("chaos").WithDescription("Fault injection: run a small federation on a multi-process cluster, SIGKILL a random node at a random moment, restart it; check completion, identical adapters and exactly-once updates.");
        config.AddCommand<Fuzz.FuzzCommand>("fuzz").WithDescription("Hostile input: seeded random and mutated frames at a node's remoting port, or garbage requests at its HTTP port (a node and a peer on loopback); exits non-zero unless the node survives and the cluster is unchanged.");
        config.AddCommand<Experiment.ExperimentCommand>("experiment").WithDescription("Every method (FedCoLLM, FedAvg, Standalone, Centralized, Zero-shot) for every seed, as federation jobs on the local cluster (resumable); results.md, results.json, plots.");
        config.AddCommand<StatusCommand>("status").WithDescription("A job's state, progress, results and adapter hashes (from the running cluster, else from the run's journal).");
        config.AddCommand<PretrainCommand>("pretrain").WithDescription("Pre-train the built-in LLM or SLM on the WordNet corpus (resumable).");
        config.AddCommand<ModelCardCommand>("model-card").WithDescription("Evaluate a pre-trained built-in model on every client domain and write its model card.");
        config.AddCommand<ConvertCommand>("convert").WithDescription("Re-save a checkpoint's weights as float16, bfloat16 or float32.");
        config.AddCommand<EvalCommand>("eval").WithDescription("Zero-shot multiple-choice accuracy (acc, acc_norm) of a model, optionally with a LoRA adapter.");
        config.AddBranch<CommandSettings>("bench", bench =>
        {
            bench.SetDescription("Micro-benchmarks of the learning kernels.");
            bench.AddCommand<KdBenchCommand>("kd")
                 .WithDescription("Sparse top-k KD loss (forward+backward) vs a dense [N,V] teacher reconstruction (FATE's approach).");
            bench.AddCommand<TrainStepBenchCommand>("train-step")
                 .WithDescription("LoRA SFT step on a GPT-2-shaped model: TorchSharp vs PyTorch, tokens/s.");
            bench.AddCommand<SecAggBenchCommand>("secagg")
                 .WithDescription("Secure aggregation vs plain FedAvg: extra bytes per client and time per round at K = 4, 16, 64.");
            bench.AddCommand<TransferBenchCommand>("transfer")
                 .WithDescription("Adapter blob transfer between two nodes (BlobServerActor/BlobFetcher over remoting, TLS on and off) vs a raw socket copy.");
            bench.AddCommand<ScaleBenchCommand>("scale")
                 .WithDescription("Round time, idle memory per client, journal growth and recovery time at 10 … 10,000 simulated clients.");
            bench.AddCommand<RoundBenchCommand>("round")
                 .WithDescription("One FedCoLLM round (2 clients) on real-size random GPT-2 shapes: wall time, peak RSS and fraction of the fp32 matmul peak per phase.");
            bench.AddCommand<FailoverBenchCommand>("failover")
                 .WithDescription("Job-host SIGKILLs on a node cluster (fedcollm chaos --kind job-host): kill → next persisted phase transition, with its breakdown.");
        });
    }
}
