using static TorchSharp.torch;

namespace FedCoLLM.Learning.Lora;

/// <summary>
/// The dtype client updates and the broadcast SLM adapter are stored and sent in (the job file's
/// <c>job.adapters.wire-dtype</c>). Training always runs in float32: a step widens its input adapter to float32, trains,
/// and rounds only the adapter it writes (round to nearest even, libtorch's conversion, so the same float32 weights
/// always give the same bytes). Half precision halves the bytes of every adapter that crosses the network.
/// </summary>
public enum AdapterWireDtype
{
    Float32,
    BFloat16,
    Float16,
}

public static class AdapterWireDtypes
{
    /// <summary>The job-file spellings, in the enum's order.</summary>
    public static readonly string[] Names = ["float32", "bfloat16", "float16"];

    public static string Name(this AdapterWireDtype dtype) => Names[(int)dtype];

    public static AdapterWireDtype Parse(string name) => Array.IndexOf(Names, name) is var i and >= 0 ? (AdapterWireDtype)i
        : throw new ArgumentException($"Adapter wire dtype \"{name}\" is not one of {string.Join(", ", Names)}.", nameof(name));

    public static ScalarType ScalarType(this AdapterWireDtype dtype) => dtype switch
    {
        AdapterWireDtype.Float32 => TorchSharp.torch.ScalarType.Float32,
        AdapterWireDtype.BFloat16 => TorchSharp.torch.ScalarType.BFloat16,
        AdapterWireDtype.Float16 => TorchSharp.torch.ScalarType.Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown adapter wire dtype."),
    };
}
