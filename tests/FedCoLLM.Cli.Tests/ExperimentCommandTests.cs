using System.Text.Json.Nodes;

namespace FedCoLLM.Cli.Tests;

/// <summary>`fedcollm experiment --quick`: every method runs as a federation job and the report has the paper's shape
/// (rows model × method, a column per client domain plus the average) with a finite number in every cell.</summary>
[Collection(ChildProcesses.Name)]
public class ExperimentCommandTests
{
    [Fact]
    public async Task Quick_experiment_reports_finite_accuracy_for_every_method_plots_and_communication_and_a_rerun_trains_nothing()
    {
        using var dir = new TempDir();
        var (code, output) = await Fedcollm.Run(["experiment", "--quick", "--out", dir.Path]);
        Assert.True(code == 0, output);

        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "results.json")))!;
        var clients = results["clients"]!.AsArray().Select(c => c!.GetValue<string>()).ToArray();
        Assert.Equal(2, clients.Length);
        var rows = results["table"]!.AsArray().Select(r => (Model: r!["model"]!.GetValue<string>(), Method: r["method"]!.GetValue<string>(), Columns: r["columns"]!)).ToArray();
        Assert.Equal(
            ["slm/fedcollm", "slm/fedavg", "slm/standalone", "slm/centralized", "slm/zeroshot", "llm/fedcollm", "llm/centralized", "llm/zeroshot"],
            rows.Select(r => $"{r.Model}/{r.Method}"));
        foreach (var (model, method, columns) in rows)
            foreach (var column in clients.Append("average"))
            {
                var mean = columns[column]?["mean"];
                Assert.True(mean is not null && double.IsFinite(mean.GetValue<double>()) && mean.GetValue<double>() is >= 0 and <= 1,
                    $"{model} {method} {column}: {mean?.ToJsonString() ?? "missing"}");
            }
        foreach (var (model, method, columns) in rows.Where(r => r.Method is "fedcollm" or "centralized"))
            Assert.True(columns["public"]?["mean"] is { } p && double.IsFinite(p.GetValue<double>()), $"{model} {method}: no public-set accuracy");

        var comm = results["communication"]!;
        Assert.InRange(comm["adapter_fraction_of_llm_fp32"]!.GetValue<double>(), 1e-6, comm["adapter_fraction_of_slm_fp32"]!.GetValue<double>());
        // Measured by the transfer layer: each FedCoLLM client sent one adapter-sized update per round and took the final adapter home.
        var fedcollm = comm["methods"]!.AsArray().Single(m => m!["method"]!.GetValue<string>() == "fedcollm")!;
        Assert.Equal(comm["adapter_bytes_derived"]!.GetValue<long>(), fedcollm["up_bytes_per_client_round"]!.GetValue<long>());
        Assert.Equal(comm["adapter_bytes_derived"]!.GetValue<long>(), fedcollm["final_download_bytes_per_client"]!.GetValue<long>());
        Assert.Equal(fedcollm["client_jobs"]!.GetValue<int>(), fedcollm["final_downloads_reported"]!.GetValue<int>());
        // FedCoLLM runs first, so its job found no blob of an earlier job in the stores: its counters are its own.
        Assert.Equal(fedcollm["jobs"]!.GetValue<int>(), fedcollm["jobs_measured_alone"]!.GetValue<int>());
        Assert.Contains(results["losses_per_round"]!.AsArray(), s => s!["series"]!.GetValue<string>().Contains("LLM→SLM"));
        foreach (var png in new[] { "accuracy-slm.png", "accuracy-llm.png", "distillation-loss.png" })
            Assert.True(new FileInfo(Path.Combine(dir.Path, png)).Length > 1000, png);
        var md = File.ReadAllText(Path.Combine(dir.Path, "results.md"));
        Assert.Contains($"| model | method | {string.Join(" | ", clients)} | average | public |", md);

        Assert.Contains("| model | method | round 0 | round 1 |", md);

        // A job file per method and seed, each a job file `fedcollm run` or `submit` takes as it is.
        Assert.Contains("centralized-s1.conf", Directory.GetFiles(Path.Combine(dir.Path, "jobs")).Select(Path.GetFileName));

        // Resumable like `run`: every job is already complete, so the rerun only reports.
        var target = dir.Path;
        (code, output) = await Fedcollm.Run(["experiment", "--quick", "--out", target]);
        Assert.True(code == 0, output);
        Assert.DoesNotContain("ClientsTraining", output);
        Assert.DoesNotContain("Refused", output);
        Assert.Equal(rows.Length, JsonNode.Parse(File.ReadAllText(Path.Combine(target, "results.json")))!["table"]!.AsArray().Count);

        // Resumable from the records alone (what a later session keeps when the journal and blobs are gone): no job is
        // submitted, and every number of the report, communication included, is the same.
        // The records are kept elsewhere (as a committed folder would be) and named with --records.
        var kept = Path.Combine(dir.Path, "kept-records");
        Directory.Move(Path.Combine(target, "records"), kept);
        var records = Directory.GetFiles(kept, "*.json");
        Assert.Equal(Directory.GetFiles(Path.Combine(target, "jobs"), "*.conf").Length, records.Length);
        foreach (var journal in Directory.GetFiles(target, "journal.db*")) File.Delete(journal);
        Directory.Delete(Path.Combine(target, "blobs"), recursive: true);
        (code, output) = await Fedcollm.Run(["experiment", "--quick", "--out", target, "--records", kept]);
        Assert.True(code == 0, output);
        Assert.Contains("from its record", output);
        Assert.DoesNotContain("started", output);
        var fromRecords = JsonNode.Parse(File.ReadAllText(Path.Combine(target, "results.json")))!;
        Assert.Equal(results["table"]!.ToJsonString(), fromRecords["table"]!.ToJsonString());
        Assert.Equal(results["communication"]!.ToJsonString(), fromRecords["communication"]!.ToJsonString());

        // A damaged record is refused by name, not read as a result.
        File.WriteAllText(records[0], "{\"format\": \"fedcollm-experiment-record/v1\", \"job_id\": 3}");
        (code, output) = await Fedcollm.Run(["experiment", "--quick", "--out", target, "--records", kept]);
        Assert.Equal(2, code);
        Assert.Contains(Path.GetFileName(records[0]), output);
        Assert.Contains("definition_sha256 is missing", output);
    }
}
