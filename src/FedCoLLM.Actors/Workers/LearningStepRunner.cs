using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Actors.Workers;

/// <summary>A held-out test file the server scores both models on after each round (benchmark harness data,
/// not a client's private training data).</summary>
public sealed record EvaluationSet(string Name, string Path);

/// <summary>What the server-side steps read: the public (auxiliary) set and the evaluation sets.</summary>
public sealed record ServerData(string PublicSetPath, IReadOnlyList<EvaluationSet> EvaluationSets, int? MaxEvaluationItems = null)
{
    /// <summary>When set, evaluation also scores both models on the first this-many public questions (metric
    /// <c>…/acc/public</c>): the set the distillation trains on, so it shows how far the two models agree there.</summary>
    public int? PublicEvaluationItems { get; init; }
    /// <summary>The training set of the <see cref="RoundPhase.LlmFineTuning"/> phase (the Centralized reference's pooled data).</summary>
    public string? LlmTrainingSetPath { get; init; }
    /// <summary>Whether initialisation scores the pre-trained models (round 0, zero-shot); the same numbers for every job
    /// of one setup, so a harness running many jobs measures them once.</summary>
    public bool ScoreBaseline { get; init; } = true;
    /// <summary>Whether evaluation scores the LLM too; strategies that never train it (FedAvg, Standalone) leave it at zero-shot.</summary>
    public bool EvaluateLlm { get; init; } = true;
}

/// <summary>
/// The bridge from a <see cref="StepRequest"/> to <see cref="FederationSteps"/>: reads the input adapters and
/// teacher logits from the node's blob store, calls the learning core, stores the outputs. No math here.
/// </summary>
public sealed class LearningStepRunner(FederationSteps steps, IBlobStore store, ServerData? server) : IStepRunner
{
    public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation)
    {
        byte[] In(int i) => request.Inputs.Count > i
            ? store.Read(request.Inputs[i])
            : throw new ArgumentException($"{request}: input {i} missing; {request.Phase} takes more inputs.", nameof(request));
        var training = new Learning.Training.InlineProgress<TrainingProgress>(p => progress.Report(new StepProgress(p.Step, p.TotalSteps, p.Loss)));
        switch (request.Phase)
        {
            case RoundPhase.Initializing:
                var initialSlm = steps.InitialAdapter(ModelKind.Slm, request.Seed);
                var initialLlm = steps.InitialAdapter(ModelKind.Llm, request.Seed);
                return Result([initialSlm, initialLlm], Server.ScoreBaseline ? Evaluate(initialSlm, initialLlm, progress, cancellation) : null);
            case RoundPhase.ClientsTraining:
                var update = steps.TrainClient(In(0), dataPath ?? throw new ArgumentException($"{request}: a client step needs the client's data path.", nameof(dataPath)),
                    request.Seed, training, cancellation);
                return Result([update.Adapter], Losses("train", update.Report), update.SampleCount);
            case RoundPhase.Aggregating:
                var counts = request.SampleCounts ?? throw new ArgumentException($"{request}: aggregation needs SampleCounts.", nameof(request));
                return Result([steps.Aggregate(request.Inputs.Select((_, i) => (In(i), counts[i])).ToList())]);
            case RoundPhase.LlmTeacherLogits:
                return Result([steps.TeacherLogits(ModelKind.Llm, In(0), Server.PublicSetPath, cancellation)]);
            case RoundPhase.SlmTeacherLogits:
                return Result([steps.TeacherLogits(ModelKind.Slm, In(0), Server.PublicSetPath, cancellation)]);
            case RoundPhase.SlmDistillation:
                var slm = steps.Distill(ModelKind.Slm, In(0), In(1), Server.PublicSetPath, request.Seed, training, cancellation);
                return Result([slm.Adapter], Losses("slm_distill", slm.Report));
            case RoundPhase.LlmDistillation:
                var llm = steps.Distill(ModelKind.Llm, In(0), In(1), Server.PublicSetPath, request.Seed, training, cancellation);
                return Result([llm.Adapter], Losses("llm_distill", llm.Report));
            case RoundPhase.LlmFineTuning:
                var tuned = steps.TrainLlm(In(0), Server.LlmTrainingSetPath ?? throw new InvalidOperationException($"{request}: LlmFineTuning needs ServerData.LlmTrainingSetPath."),
                    request.Seed, training, cancellation);
                return Result([tuned.Adapter], Losses("llm_sft", tuned.Report));
            case RoundPhase.Evaluating:
                return Result([], Evaluate(In(0), In(1), progress, cancellation));
            default:
                throw new ArgumentException($"{request}: phase {request.Phase} has no step.", nameof(request));
        }
    }

    ServerData Server => server ?? throw new InvalidOperationException("This node has no server data (public set); server steps run on server-role nodes.");

    StepResult Result(IReadOnlyList<byte[]> outputs, IReadOnlyDictionary<string, double>? metrics = null, long samples = 0) =>
        new(outputs.Select(o => store.Put(o)).ToArray(), metrics ?? new Dictionary<string, double>(), samples);

    static Dictionary<string, double> Losses(string name, TrainingReport report) => new()
    {
        [$"{name}_loss"] = report.TailLoss,
        [$"{name}_first_loss"] = report.FirstLoss,
        [$"{name}_steps"] = report.Steps,
    };

    Dictionary<string, double> Evaluate(byte[] slm, byte[] llm, IProgress<StepProgress> progress, CancellationToken cancellation)
    {
        var metrics = new Dictionary<string, double>();
        var sets = Server.EvaluationSets.Select(e => (Set: e, Max: Server.MaxEvaluationItems)).ToList();
        if (Server.PublicEvaluationItems is int publicItems) sets.Add((new EvaluationSet("public", Server.PublicSetPath), publicItems));
        var models = Server.EvaluateLlm ? new[] { (ModelKind.Slm, slm), (ModelKind.Llm, llm) } : [(ModelKind.Slm, slm)];
        int done = 0;
        foreach (var (set, max) in sets)
        {
            foreach (var (kind, adapter) in models)
            {
                var r = steps.Evaluate(kind, adapter, set.Path, max, cancellation);
                var model = kind == ModelKind.Slm ? "slm" : "llm";
                metrics[$"{model}/acc/{set.Name}"] = r.Accuracy;
                metrics[$"{model}/acc_norm/{set.Name}"] = r.AccuracyNormalized;
                progress.Report(new StepProgress(++done, models.Length * sets.Count, r.Accuracy));
            }
        }
        return metrics;
    }
}
