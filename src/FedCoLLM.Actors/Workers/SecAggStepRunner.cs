using FedCoLLM.Actors.Blobs;
using FedCoLLM.Actors.Rounds;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.SecureAggregation;

namespace FedCoLLM.Actors.Workers;

/// <summary>
/// Runs the secure-aggregation steps (<see cref="SecAggOperations"/>) for <see cref="LearningStepRunner"/>: reads the
/// input blobs, calls <see cref="SecAggSession"/> of the learning core, stores the output blobs. No cryptography here.
/// A client's round keys come from its node secret, a file under <paramref name="secretDirectory"/> that never leaves
/// the node (created on first use, owner-only).
/// </summary>
sealed class SecAggStepRunner(IBlobStore store, string secretDirectory)
{
    public StepResult Run(StepRequest request, JobSetup job, string? dataPath, IProgress<FedCoLLM.Learning.Training.TrainingProgress> training, CancellationToken cancellation)
    {
        var spec = request.SecAgg ?? throw new StepRefusedException($"{request}: {request.Operation} needs its secure-aggregation spec.");
        byte[] In(int i) => request.Inputs.Count > i
            ? store.Read(request.Inputs[i])
            : throw new StepRefusedException($"{request}: input {i} missing; {request.Operation} takes more inputs.");
        var reference = AdapterWeights.FromBytes(In(0), $"the round's SLM adapter {request.Inputs[0]}");
        var definition = request.Spec?.Sha256 ?? throw new StepRefusedException($"{request}: a secure-aggregation step names the job definition it obeys.");
        var session = new SecAggSession(definition, request.Round, spec.Attempt, spec.Enrolled, spec.Job.Settings, SecureFedAvg.VectorLength(reference));

        Dictionary<string, byte[]> Messages(IReadOnlyList<string> ids, int first) =>
            ids.Select((id, i) => (id, bytes: In(first + i))).ToDictionary(x => x.id, x => x.bytes, StringComparer.Ordinal);
        ClientSecrets Me()
        {
            var client = request.ClientId ?? throw new StepRefusedException($"{request}: a client step names its client.");
            return session.Secrets(client, NodeSecretFile.LoadOrCreate(Path.Combine(secretDirectory, client + ".key")));
        }

        switch (request.Operation)
        {
            case SecAggOperations.Advertise:
                return Result([session.AdvertiseKeys(Me())]);
            case SecAggOperations.Share:
                return Result([session.ShareKeys(Me(), In(1))]);
            case SecAggOperations.Mask:
                // The fine-tuning of train-slm, from the same adapter and seed; its adapter stays on this node.
                var update = job.For(request, ModelKind.Slm).TrainClient(In(0),
                    dataPath ?? throw new StepRefusedException($"{request}: the masking step trains, so it needs the client's data path."),
                    request.Seed, training, cancellation);
                var masked = session.MaskAdapter(Me(), In(1), In(2), reference, AdapterWeights.FromBytes(update.Adapter), update.SampleCount);
                return Result([masked], new Dictionary<string, double> { ["train_loss"] = update.Report.TailLoss });
            case SecAggOperations.Unmask:
                return Result([session.Unmask(Me(), In(1), In(2), In(3))]);
            case SecAggOperations.Keys:
                return Result([session.CollectKeys(Messages(spec.Senders, 1))]);
            case SecAggOperations.Route:
                var forwarded = session.RouteShares(In(1), Messages(spec.Senders, 2));
                return Result(spec.Senders.Select(id => forwarded[id]).ToArray());
            case SecAggOperations.Request:
                return Result([session.CollectMaskedInputs(In(1), Messages(spec.Senders, 2), Messages(spec.Responders, 2 + spec.Senders.Count))]);
            case SecAggOperations.FedAvg:
                var (weights, total, contributors) = session.Aggregate(reference, In(1), In(2),
                    Messages(spec.Senders, 3), Messages(spec.Responders, 3 + spec.Senders.Count));
                return Result([weights.ToBytes()], new Dictionary<string, double>
                {
                    ["secagg/contributors"] = contributors.Count,
                    ["secagg/total_samples"] = total,
                    ["secagg/fraction_bits"] = session.Codec.FractionBits,
                });
            default:
                throw new StepRefusedException($"{request}: \"{request.Operation}\" is not a secure-aggregation step.");
        }
    }

    StepResult Result(IReadOnlyList<byte[]> outputs, IReadOnlyDictionary<string, double>? metrics = null) =>
        new(outputs.Select(o => store.Put(o)).ToArray(), metrics ?? new Dictionary<string, double>());
}
