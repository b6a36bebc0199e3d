using FedCoLLM.Learning.Checkpoints;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests.Federation;

/// <summary>
/// <c>job.adapters.wire-dtype</c> in the learning core: with bfloat16 or float16 every SLM adapter a step writes (initial,
/// client update, aggregate, distilled) holds half the data bytes, the LLM's stays float32, the update screen and FedAvg
/// read the half-precision updates, and the steps stay bit-reproducible (a fresh instance gives the same bytes).
/// </summary>
public class AdapterWireDtypeTests(FederationData data) : IClassFixture<FederationData>
{
    [Theory]
    [InlineData(AdapterWireDtype.BFloat16, ScalarType.BFloat16)]
    [InlineData(AdapterWireDtype.Float16, ScalarType.Float16)]
    public void Half_precision_rounds_once_and_widens_back_exactly(AdapterWireDtype dtype, ScalarType type)
    {
        var weights = new AdapterWeights([new AdapterTensor("a.lora_A.weight", [2, 3], [1f, -0.1f, 1e-3f, 3.14159f, 0f, -2.5f])]);
        var half = weights.ToBytes(dtype);
        var header = SafeTensors.ReadHeader(half, "half");
        Assert.All(header.Entries, e => Assert.Equal(type, e.DType));
        Assert.Equal(6 * 2, header.Entries.Sum(e => e.End - e.Begin));
        var widened = AdapterWeights.FromBytes(half);
        using var expected = weights["a.lora_A.weight"].ToTensor().to(type).to(ScalarType.Float32);
        Assert.Equal(expected.data<float>().ToArray(), widened["a.lora_A.weight"].Values.ToArray());
        Assert.Equal(half, widened.ToBytes(dtype)); // widening and rounding back is exact: the exported file is the blob
        Assert.Equal(weights.ToBytes(), weights.ToBytes(AdapterWireDtype.Float32));
    }

    [Fact]
    public void A_bfloat16_federation_halves_every_SLM_adapter_and_gives_the_same_bytes_twice()
    {
        var f32 = Round(data.Setup());
        var bf16 = Round(data.Setup() with { SlmWireDtype = AdapterWireDtype.BFloat16 });
        var again = Round(data.Setup() with { SlmWireDtype = AdapterWireDtype.BFloat16 });

        foreach (var (name, bytes) in bf16)
        {
            Assert.Equal(bytes, again[name]); // bit-reproducible
            var header = SafeTensors.ReadHeader(bytes, name);
            var data32 = DataBytes(f32[name]);
            if (name.StartsWith("llm", StringComparison.Ordinal))
            {
                Assert.All(header.Entries, e => Assert.Equal(ScalarType.Float32, e.DType));
                continue;
            }
            Assert.All(header.Entries, e => Assert.Equal(ScalarType.BFloat16, e.DType));
            Assert.Equal(data32 / 2, DataBytes(bytes));
        }
        // The screen reads a bfloat16 update against the round's bfloat16 adapter, and refuses one of another dtype.
        Assert.True(UpdateScreen.Check(bf16["slm-initial"], bf16["slm-client"], 16, new UpdateLimits(10)).Accepted);
        var mismatch = UpdateScreen.Check(f32["slm-initial"], bf16["slm-client"], 16, new UpdateLimits(10));
        Assert.Equal(UpdateFault.DType, mismatch.Fault);
    }

    /// <summary>One FedCoLLM round's steps on the tiny slices: name → output bytes.</summary>
    Dictionary<string, byte[]> Round(FederationSetup setup)
    {
        using var steps = new FederationSteps(setup);
        var slm = steps.InitialAdapter(ModelKind.Slm, 1);
        var llm = steps.InitialAdapter(ModelKind.Llm, 1);
        var a = steps.TrainClient(slm, data.Train, seed: 3);
        var b = steps.TrainClient(slm, data.OtherTrain, seed: 4);
        var aggregate = steps.Aggregate([(a.Adapter, a.SampleCount), (b.Adapter, b.SampleCount)]);
        var teacher = steps.TeacherLogits(ModelKind.Llm, llm, data.Public);
        var distilled = steps.Distill(ModelKind.Slm, aggregate, teacher, data.Public, seed: 5).Adapter;
        var back = steps.Distill(ModelKind.Llm, llm, steps.TeacherLogits(ModelKind.Slm, distilled, data.Public), data.Public, seed: 6).Adapter;
        return new()
        {
            ["slm-initial"] = slm, ["llm-initial"] = llm, ["slm-client"] = a.Adapter, ["slm-aggregate"] = aggregate,
            ["slm-distilled"] = distilled, ["llm-distilled"] = back,
        };
    }

    static long DataBytes(byte[] safetensors) => SafeTensors.ReadHeader(safetensors, "adapter").Entries.Sum(e => e.End - e.Begin);
}
