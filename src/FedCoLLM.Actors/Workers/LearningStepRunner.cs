using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Actors.Strategies;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Training;

namespace FedCoLLM.Actors.Workers;

/// <summary>
/// The bridge from a <see cref="StepRequest"/> to <see cref="FederationSteps"/>: finds the job's setup, reads the input
/// adapters and teacher logits from the node's blob store, calls the learning core for the request's operation
/// (<see cref="Operations"/>), stores the outputs. No math here.
/// </summary>
/// <param name="secretDirectory">Where a client node keeps its secure-aggregation secret; by default the folder
/// <c>secagg-keys</c> beside the blob store's folder (never inside it: blobs are served to peers).</param>
/// <param name="checkpoints">Where training steps checkpoint, so a re-dispatched step resumes (<see cref="StepCheckpoints"/>);
/// null: they run from their first step every time.</param>
public sealed class LearningStepRunner(IJobSetups setups, IBlobStore store, string? secretDirectory = null, StepCheckpoints? checkpoints = null) : IStepRunner
{
    readonly SecAggStepRunner secAgg = new(store, secretDirectory ?? DefaultSecretDirectory(store));

    public static string DefaultSecretDirectory(IBlobStore store) => store is DirectoryBlobStore directory
        ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(directory.Root).TrimEnd(Path.DirectorySeparatorChar)) ?? ".", "secagg-keys")
        : Path.Combine(Environment.CurrentDirectory, "secagg-keys");

    public StepResult Run(StepRequest request, string? dataPath, IProgress<StepProgress> progress, CancellationToken cancellation)
    {
        byte[] In(int i) => request.Inputs.Count > i
            ? store.Read(request.Inputs[i])
            : throw new ArgumentException($"{request}: input {i} missing; {request.Operation} takes more inputs.", nameof(request));
        var training = new InlineProgress<TrainingProgress>(p => progress.Report(new StepProgress(p.Step, p.TotalSteps, p.Loss)));
        var job = setups.For(request);
        if (request.SecAgg is not null) return secAgg.Run(request, job, dataPath, training, cancellation);
        switch (request.Operation)
        {
            case RoundState.InitializeOperation:
                var steps = job.For(request, ModelKind.Slm, ModelKind.Llm);
                var initialSlm = steps.InitialAdapter(ModelKind.Slm, request.Seed);
                var initialLlm = steps.InitialAdapter(ModelKind.Llm, request.Seed);
                return Result([initialSlm, initialLlm], job.Server(request).ScoreBaseline ? Evaluate(job, request, initialSlm, initialLlm, progress, cancellation) : null);
            case Operations.TrainSlm:
                var clientData = dataPath ?? throw new ArgumentException($"{request}: a client step needs the client's data path.", nameof(dataPath));
                return Checkpointed(request, checkpoint =>
                {
                    var update = job.For(request, ModelKind.Slm).TrainClient(In(0), clientData, request.Seed, training, cancellation, checkpoint);
                    return Result([update.Adapter], Losses("train", update.Report), update.SampleCount);
                });
            case Operations.FedAvg:
                var counts = request.SampleCounts ?? throw new ArgumentException($"{request}: aggregation needs SampleCounts.", nameof(request));
                return Result([job.Steps.Aggregate(request.Inputs.Select((_, i) => (In(i), counts[i])).ToList())]);
            case Operations.LlmTeacherLogits:
                var llmTeacher = job.For(request, ModelKind.Llm).TeacherLogitsWithMass(ModelKind.Llm, In(0), job.Server(request).PublicSetPath, cancellation);
                return Result([llmTeacher.Logits], TeacherMass(LlmToSlmTeacherMass, llmTeacher));
            case Operations.SlmTeacherLogits:
                var slmTeacher = job.For(request, ModelKind.Slm).TeacherLogitsWithMass(ModelKind.Slm, In(0), job.Server(request).PublicSetPath, cancellation);
                return Result([slmTeacher.Logits], TeacherMass(SlmToLlmTeacherMass, slmTeacher));
            case Operations.DistillSlm:
                return Checkpointed(request, checkpoint =>
                {
                    var slm = job.For(request, ModelKind.Slm).Distill(ModelKind.Slm, In(0), In(1), job.Server(request).PublicSetPath, request.Seed, training, cancellation, checkpoint);
                    return Result([slm.Adapter], Losses("slm_distill", slm.Report));
                });
            case Operations.DistillLlm:
                return Checkpointed(request, checkpoint =>
                {
                    var llm = job.For(request, ModelKind.Llm).Distill(ModelKind.Llm, In(0), In(1), job.Server(request).PublicSetPath, request.Seed, training, cancellation, checkpoint);
                    return Result([llm.Adapter], Losses("llm_distill", llm.Report));
                });
            case Operations.FineTuneLlm:
                var trainingSet = job.Server(request).LlmTrainingSetPath
                    ?? throw new StepRefusedException($"{request}: {Operations.FineTuneLlm} needs the job's data.server-training-set.");
                return Checkpointed(request, checkpoint =>
                {
                    var tuned = job.For(request, ModelKind.Llm).TrainLlm(In(0), trainingSet, request.Seed, training, cancellation, checkpoint);
                    return Result([tuned.Adapter], Losses("llm_sft", tuned.Report));
                });
            case Operations.FineTuneLlmOnPublic:
                return Checkpointed(request, checkpoint =>
                {
                    var onPublic = job.For(request, ModelKind.Llm).TrainLlmOnPublic(In(0), job.Server(request).PublicSetPath, request.Seed, training, cancellation, checkpoint);
                    return Result([onPublic.Adapter], Losses("llm_public_sft", onPublic.Report));
                });
            case Operations.Evaluate:
                return Result([], Evaluate(job, request, In(0), In(1), progress, cancellation));
            default:
                throw new StepRefusedException($"{request}: operation \"{request.Operation}\" is unknown to this node; known: {string.Join(", ", Operations.Signatures.Keys)}.");
        }
    }

    /// <summary>A training step, with its checkpoint when this node keeps them; the checkpoint goes once the outputs are stored.</summary>
    StepResult Checkpointed(StepRequest request, Func<StepCheckpoint?, StepResult> step) =>
        checkpoints is null ? step(null) : checkpoints.Run(request, step);

    StepResult Result(IReadOnlyList<byte[]> outputs, IReadOnlyDictionary<string, double>? metrics = null, long samples = 0) =>
        new(outputs.Select(o => store.Put(o)).ToArray(), metrics ?? new Dictionary<string, double>(), samples);

    /// <summary>Round metric: the LLM teacher's mean probability mass outside its top-k at the job's temperature, over the
    /// public set's answer positions, in the LLM → SLM distillation (<c>Learning/Losses/TeacherMass.cs</c>).</summary>
    public const string LlmToSlmTeacherMass = "llm_to_slm_teacher_mass_outside_topk";
    /// <summary>The same for the SLM teacher of the SLM → LLM distillation.</summary>
    public const string SlmToLlmTeacherMass = "slm_to_llm_teacher_mass_outside_topk";

    static Dictionary<string, double> TeacherMass(string name, TeacherLogitsResult teacher) => new() { [name] = teacher.MassOutsideTopK };

    static Dictionary<string, double> Losses(string name, TrainingReport report) => new()
    {
        [$"{name}_loss"] = report.TailLoss,
        [$"{name}_first_loss"] = report.FirstLoss,
        [$"{name}_steps"] = report.Steps,
    };

    static Dictionary<string, double> Evaluate(JobSetup job, StepRequest request, byte[] slm, byte[] llm, IProgress<StepProgress> progress, CancellationToken cancellation)
    {
        var server = job.Server(request);
        var metrics = new Dictionary<string, double>();
        var sets = server.EvaluationSets.Select(e => (Set: e, Max: server.MaxEvaluationItems)).ToList();
        if (server.PublicEvaluationItems is int publicItems) sets.Add((new EvaluationSet("public", server.PublicSetPath), publicItems));
        var models = server.EvaluateLlm ? new[] { (ModelKind.Slm, slm), (ModelKind.Llm, llm) } : [(ModelKind.Slm, slm)];
        var steps = job.For(request, models.Select(m => m.Item1).ToArray());
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
