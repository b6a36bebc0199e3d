using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Jobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;

namespace FedCoLLM.Cli.Federation;

/// <summary>What an ended job leaves in its report directory: the final adapters as PEFT directories when this node's
/// store holds them, report.json and report.md; and the results table on the console.</summary>
public static class JobConclusion
{
    /// <summary>Writes the reports and prints the table; returns the exit code (0 only for a completed job).</summary>
    public static int Write(RoundState final, IBlobStore store, string reportDir, TimeSpan wall)
    {
        Directory.CreateDirectory(reportDir);
        if (final.History.Count > 0 && store.Contains(final.History[^1].Slm) && store.Contains(final.History[^1].Llm))
            ExportFinalAdapters(final, store, reportDir);
        RunReport.Write(reportDir, final, wall);
        ResultsTable.Print(final);
        Console.WriteLine($"Report: {Path.Combine(reportDir, "report.md")} and report.json (wall {wall.TotalMinutes:F1} min).");
        return final.Phase == RoundPhase.Completed ? 0 : 1;
    }

    /// <summary>The final adapters as PEFT directories (adapter_model.safetensors is the committed blob, byte for byte).
    /// fan_in_fan_out comes from the base model's family (config.json): true for GPT-2's Conv1D, false for LLaMA.</summary>
    static void ExportFinalAdapters(RoundState state, IBlobStore store, string reportDir)
    {
        var setup = JobSpecs.DefinitionOf(state.Job!).ToSetup();
        var last = state.History[^1];
        foreach (var (name, blob, kind) in new[] { ("slm", last.Slm, ModelKind.Slm), ("llm", last.Llm, ModelKind.Llm) })
        {
            var weights = AdapterWeights.FromBytes(store.Read(blob), blob.ToString());
            var baseModel = setup.DirectoryOf(kind);
            var config = new PeftAdapterConfig(setup.LoraOf(kind), PretrainedModels.ReadConfig(baseModel).FanInFanOut, baseModel);
            PeftAdapterFile.Save(Path.Combine(reportDir, "final", name), config, weights, kind == ModelKind.Slm ? setup.SlmWireDtype : AdapterWireDtype.Float32);
        }
    }
}
