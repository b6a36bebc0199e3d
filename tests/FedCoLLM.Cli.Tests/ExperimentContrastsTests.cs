using System.Collections.Immutable;
using System.Text;
using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Cli.Experiment;

namespace FedCoLLM.Cli.Tests;

/// <summary>The report's ablation rows: per seed, A's final accuracy minus B's (the domain average and the public slice),
/// paired by seed, only for questions whose two methods ran; the zero-shot side comes from the jobs' baselines.</summary>
public class ExperimentContrastsTests
{
    [Fact]
    public void Each_question_is_the_per_seed_difference_of_its_two_methods()
    {
        using var dir = new TempDir();
        var plan = WordNetPlans.Create(dir.Path, [Method.FedCoLLM, Method.FedCoLLMCeOnly, Method.ZeroShot], seeds: 2);

        // FedCoLLM's LLM: 0.40 + 0.01·seed on the first domain, 0.50 on the second; ce-only 0.45 everywhere; pre-trained 0.30.
        RoundState State(ExperimentJob job)
        {
            var metrics = new Dictionary<string, double>();
            for (int d = 0; d < plan.Domains.Count; d++)
                metrics[$"llm/acc/{plan.Domains[d]}"] = job.Method == Method.FedCoLLM ? (d == 0 ? 0.40 + 0.01 * job.Seed : 0.50) : 0.45;
            metrics["llm/acc/public"] = job.Method == Method.FedCoLLM ? 0.60 : 0.55;
            var adapter = new BlobRef(new string('a', 64), 1);
            return RoundState.Empty with
            {
                Phase = RoundPhase.Completed,
                History = [new CommittedRound(1, 1, [], [], adapter, adapter, metrics, DateTimeOffset.UnixEpoch)],
                Baseline = plan.Domains.Append("public").ToImmutableDictionary(d => $"llm/acc/{d}", _ => 0.30),
            };
        }
        var runs = plan.Jobs.Select(j => (j, State(j), (TimeSpan?)null)).ToList();

        var contrasts = ExperimentContrasts.Compute(plan, runs);

        // Only the LLM questions whose two methods ran (no SLM metrics were recorded, so no SLM row).
        Assert.Equal([(Method.FedCoLLM, Method.ZeroShot), (Method.FedCoLLM, Method.FedCoLLMCeOnly)],
            contrasts.Select(c => (c.A, c.B)));
        Assert.All(contrasts, c => Assert.Equal("llm", c.Model));
        var kd = contrasts.Single(c => c.B == Method.FedCoLLMCeOnly);
        // Seed s: mean(0.40 + 0.01 s, 0.50) − 0.45.
        Assert.Equal([0.005, 0.010], kd.PerSeed["average"].Select(x => Math.Round(x, 6)));
        Assert.Equal([0.05, 0.05], kd.PerSeed["public"].Select(x => Math.Round(x, 6)));
        var whole = contrasts.Single(c => c.B == Method.ZeroShot);
        Assert.Equal([0.155, 0.160], whole.PerSeed["average"].Select(x => Math.Round(x, 6)));

        var md = new StringBuilder();
        ExperimentContrasts.Markdown(md, contrasts);
        Assert.Contains("| LLM | SLM→LLM KD (λ·KL) on top of the public set's CE | FedCoLLM | FedCoLLMCeOnly | +0.8 ± 0.4 | +5.0 ± 0.0 | 2/2 |", md.ToString());
    }
}
