using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Workers;
using FedCoLLM.Learning.Federation;

namespace FedCoLLM.Actors.Jobs;

/// <summary>
/// A node's setups of the jobs it works for, built from the job definition each step names (<see cref="StepRequest.Spec"/>,
/// already fetched into the node's store) and never from the node's own command line. Kept for the few most recent
/// definitions, so jobs that take turns on this node do not reload their models every step.
/// </summary>
public sealed class DefinitionSetups(IBlobStore store, int capacity = 4) : IJobSetups, IDisposable
{
    readonly LinkedList<(string Hash, JobSetup Setup)> recent = new();

    public JobSetup For(StepRequest request)
    {
        var spec = request.Spec ?? throw new StepRefusedException($"{request}: the step names no job definition; every step must carry its job's spec.");
        lock (recent)
        {
            for (var node = recent.First; node is not null; node = node.Next)
                if (node.Value.Hash == spec.Sha256)
                {
                    recent.Remove(node);
                    recent.AddFirst(node);
                    return node.Value.Setup;
                }
            var setup = Build(request, spec);
            recent.AddFirst((spec.Sha256, setup));
            while (recent.Count > capacity)
            {
                recent.Last!.Value.Setup.Dispose();
                recent.RemoveLast();
            }
            return setup;
        }
    }

    JobSetup Build(StepRequest request, BlobRef spec)
    {
        if (!store.Contains(spec)) throw new StepRefusedException($"{request}: the job definition {spec} is not in this node's store.");
        var definition = JobDefinition.FromCanonicalBytes(store.Read(spec));
        var evaluation = definition.Evaluation;
        var server = new ServerData(definition.PublicSetPath, evaluation.Sets.Select(e => new EvaluationSet(e.Name, e.Path)).ToArray(), evaluation.MaxItems)
        {
            PublicEvaluationItems = evaluation.PublicItems,
            LlmTrainingSetPath = definition.ServerTrainingSetPath,
            ScoreBaseline = evaluation.ScoreBaseline,
            EvaluateLlm = evaluation.EvaluateLlm,
        };
        return new JobSetup(new FederationSteps(definition.ToSetup()), server, definition.VerifyModelFiles, definition.VerifyServerFiles);
    }

    public void Dispose()
    {
        lock (recent)
        {
            foreach (var (_, setup) in recent) setup.Dispose();
            recent.Clear();
        }
    }
}
