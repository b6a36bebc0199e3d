using static TorchSharp.torch;

namespace FedCoLLM.Learning;

/// <summary>Where and how tensors are computed. Results are bit-reproducible for a fixed
/// (Device, Threads, Seed) on the CPU; CUDA is supported but not bit-reproducible across kernels.</summary>
public sealed record ComputeOptions(string Device = "cpu", int Threads = 2, long Seed = 42)
{
    public Device TorchDevice => Device switch
    {
        "cpu" => CPU,
        "cuda" when cuda.is_available() => CUDA,
        "cuda" => throw new InvalidOperationException("Device = \"cuda\" but no CUDA device is visible to libtorch; use Device = \"cpu\" or install the libtorch-cuda package."),
        _ => throw new ArgumentException($"Device = \"{Device}\" is not supported; use \"cpu\" or \"cuda\".", nameof(Device)),
    };

    /// <summary>Pins the intra-op thread count and reseeds every generator libtorch uses.</summary>
    public void Apply(long? seed = null)
    {
        if (Threads < 1) throw new ArgumentException($"Threads = {Threads}; it must be at least 1.", nameof(Threads));
        set_num_threads(Threads);
        manual_seed(seed ?? Seed);
    }
}
