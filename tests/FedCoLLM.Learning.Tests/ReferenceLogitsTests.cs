using FedCoLLM.Learning.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests;

/// <summary>Logits agree with the independent PyTorch implementation in tests/reference/make_goldens.py.</summary>
public class ReferenceLogitsTests
{
    const double Tolerance = 1e-4;

    [Fact] public void Gpt2_logits_match_pytorch_reference() => AssertMatchesGolden("gpt2-tiny");
    [Fact] public void Llama_logits_match_pytorch_reference() => AssertMatchesGolden("llama-tiny");
    [Fact] public void Llama_with_tied_head_and_attention_bias_matches_pytorch_reference() => AssertMatchesGolden("llama-tiny-tied-bias");

    static void AssertMatchesGolden(string name)
    {
        using var model = PretrainedModels.Load(Fixtures.Reference(name), Fixtures.Cpu);
        var golden = Fixtures.Golden(name);
        using var logits = Fixtures.Logits(model, golden["input_ids"], golden["attention_mask"]);
        Assert.Equal(golden["logits"].shape, logits.shape);
        // Only real positions are specified; logits at padding positions are free.
        var real = golden["attention_mask"].to(ScalarType.Bool).unsqueeze(-1);
        double maxDiff = (logits - golden["logits"]).abs().masked_fill(real.logical_not(), 0).max().item<float>();
        Assert.True(maxDiff <= Tolerance, $"{name}: max |logits − reference| = {maxDiff:G3} > {Tolerance}");
        // Guard against a degenerate fixture in which every model would pass.
        Assert.True(golden["logits"].std().item<float>() > 0.1f);
    }

    [Theory]
    [InlineData("gpt2-tiny")]
    [InlineData("llama-tiny")]
    public void Right_padding_does_not_change_logits_at_real_positions(string name)
    {
        using var model = PretrainedModels.Load(Fixtures.Reference(name), Fixtures.Cpu);
        var golden = Fixtures.Golden(name);
        var ids = golden["input_ids"];
        var mask = golden["attention_mask"];
        long realLength = mask[1].sum().item<long>();

        using var padded = Fixtures.Logits(model, ids, mask);
        var unpaddedIds = ids[1..2, ..(int)realLength];
        using var unpadded = Fixtures.Logits(model, unpaddedIds, ones_like(unpaddedIds));

        var paddedRow = padded[1..2, ..(int)realLength];
        Assert.True(paddedRow.allclose(unpadded, rtol: 0, atol: 1e-5), $"max diff {(paddedRow - unpadded).abs().max().item<float>()}");
    }

    [Fact]
    public void Forward_disposes_its_intermediate_tensors()
    {
        using var model = PretrainedModels.Load(Fixtures.Reference("llama-tiny"), Fixtures.Cpu);
        var golden = Fixtures.Golden("llama-tiny");
        Fixtures.Logits(model, golden["input_ids"], golden["attention_mask"]).Dispose(); // warm-up
        using var scope = NewDisposeScope();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Fixtures.Logits(model, golden["input_ids"], golden["attention_mask"]).Dispose();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
