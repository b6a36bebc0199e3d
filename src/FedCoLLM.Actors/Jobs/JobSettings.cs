using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Actors.Jobs;

/// <summary><c>job.lora</c>: one LoRA config per model.</summary>
public sealed record JobLora(LoraConfig Slm, LoraConfig Llm)
{
    public LoraConfig Of(ModelKind kind) => kind == ModelKind.Slm ? Slm : Llm;
}

/// <summary><c>job.compute</c>. Every node computes alike so that steps re-run after a crash give the same bytes;
/// float32 is the only dtype the learning core computes in.</summary>
public sealed record JobCompute(string Device, int Threads, string Dtype);

/// <summary><c>job.updates</c>: how far a client update may lie from the round's adapter, as a multiple of that adapter's
/// L2 norm (Learning/Federation/UpdateScreen). Malformed, mis-shaped, non-finite and oversized updates are refused whatever
/// this says.</summary>
public sealed record JobUpdates(double MaxNormRatio)
{
    public static readonly JobUpdates Default = new(Rounds.JobSpec.DefaultMaxUpdateNormRatio);
}
