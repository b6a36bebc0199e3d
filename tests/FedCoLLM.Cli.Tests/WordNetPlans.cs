using FedCoLLM.Cli.Experiment;

namespace FedCoLLM.Cli.Tests;

/// <summary>A small experiment plan on the committed WordNet benchmark, generated without running a job: the quick base
/// job, the first two client domains, one round, four questions per evaluation set.</summary>
static class WordNetPlans
{
    public static ExperimentPlan Create(string outDir, IReadOnlyList<Method> methods, int seeds)
    {
        string Abs(params string[] parts) => Path.Combine([Repository.Root, .. parts]).Replace('\\', '/');
        // Absolute paths: the plan parses every job file it writes, and relative ones resolve against the current directory.
        string[] overrides =
        [
            $"job.models.slm.path = \"{Abs("models", "wordnet-slm")}\"",
            $"job.models.llm.path = \"{Abs("models", "wordnet-llm")}\"",
            $"job.data.prompt.file = \"{Abs("data", "wordnet", "prompt.json")}\"",
            $"job.data.public-set = \"{Abs("data", "wordnet", "public", "train.jsonl")}\"",
            $"job.data.evaluation.sets = [ {{ name = \"noun.animal\", path = \"{Abs("data", "wordnet", "clients", "noun.animal", "test.jsonl")}\" }} ]",
        ];
        return ExperimentPlan.Create(TestJobs.QuickBase, Abs("data", "wordnet"), outDir, clients: 2, rounds: 1, seeds, methods,
            "validation", evalItems: 4, publicEvalItems: 4, overrides, new ExperimentOptions(), maxClientExamples: 8);
    }
}
