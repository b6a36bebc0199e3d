using System.Collections.Immutable;
using FedCoLLM.Learning.Checkpoints;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Tests.Shared;

namespace FedCoLLM.Learning.Tests.Federation;

public class UpdateScreenTests
{
    static readonly UpdateLimits Limits = new(10);

    /// <summary>A PEFT-shaped adapter: lora_A random, lora_B zero (as at round 1).</summary>
    static byte[] Reference()
    {
        var rng = new Random(3);
        AdapterTensor Random(string name, long rows, long cols) =>
            new(name, [rows, cols], [.. Enumerable.Range(0, (int)(rows * cols)).Select(_ => (float)(rng.NextDouble() - 0.5))]);
        return new AdapterWeights(
        [
            Random("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight", 4, 32),
            new AdapterTensor("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight", [96, 4], ImmutableArray.Create(new float[96 * 4])),
            Random("base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight", 4, 32),
        ]).ToBytes();
    }

    [Fact]
    public void An_honest_update_is_accepted_with_its_distance_from_the_round()
    {
        var reference = Reference();
        var weights = AdapterWeights.FromBytes(reference);
        var honest = new AdapterWeights(weights.Tensors.Select(t => new AdapterTensor(t.Name, t.Shape, [.. t.Values.Select(v => v + 0.01f)]))).ToBytes();

        var verdict = UpdateScreen.Check(reference, honest, 100, Limits);

        Assert.True(verdict.Accepted, verdict.Reason);
        Assert.Equal(0.01 * Math.Sqrt(weights.ParameterCount), verdict.DeltaNorm, 3);
        Assert.True(verdict.ReferenceNorm > 1);
    }

    public static TheoryData<string> Faults => [.. HostileUpdates.Faults];

    [Theory]
    [MemberData(nameof(Faults))]
    public void Each_kind_of_bad_update_is_refused_for_its_own_reason(string fault)
    {
        var reference = Reference();
        var update = HostileUpdates.Make(fault, reference);

        var verdict = UpdateScreen.Check(reference, update, HostileUpdates.SampleCount(fault), Limits);

        Assert.False(verdict.Accepted);
        Assert.Equal(fault, verdict.Fault);
        Assert.False(string.IsNullOrWhiteSpace(verdict.Reason));
    }

    [Fact]
    public void Size_and_sample_count_are_refused_before_any_byte_is_read()
    {
        Assert.Equal(UpdateFault.Oversized, UpdateScreen.CheckDeclared(1_000_000 + UpdateLimits.HeaderSlack + 1, 1_000_000, 10).Fault);
        Assert.Equal(UpdateFault.SampleCount, UpdateScreen.CheckDeclared(1_000, 1_000, long.MaxValue).Fault);
        Assert.True(UpdateScreen.CheckDeclared(1_000, 1_000, 10).Accepted);
    }

    [Fact]
    public void The_norm_bound_is_the_job_s_ratio_of_the_round_adapter_norm()
    {
        var reference = Reference();
        var weights = AdapterWeights.FromBytes(reference);
        var doubled = new AdapterWeights(weights.Tensors.Select(t => new AdapterTensor(t.Name, t.Shape, [.. t.Values.Select(v => v * 3)]))).ToBytes();

        Assert.True(UpdateScreen.Check(reference, doubled, 1, new UpdateLimits(2.5)).Accepted); // ‖3φ − φ‖ = 2‖φ‖
        var refused = UpdateScreen.Check(reference, doubled, 1, new UpdateLimits(1.5));
        Assert.Equal(UpdateFault.Norm, refused.Fault);
        Assert.Contains("max-norm-ratio", refused.Reason);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 1, 2, 3 })]
    [InlineData(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, (byte)'n', (byte)'u', (byte)'l', (byte)'l', 32, 32, 32, 32 })]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f })]
    public void Garbage_bytes_are_malformed_not_a_crash(byte[] garbage) =>
        Assert.Equal(UpdateFault.Malformed, UpdateScreen.Check(Reference(), garbage, 1, Limits).Fault);

    [Fact]
    public void Hostile_headers_are_refused_as_malformed()
    {
        foreach (var json in new[]
                 {
                     """{"k":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,0]}}""",
                     """{"k":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}""",
                     """{"k":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}""",
                     """{"k":{"shape":[1],"data_offsets":[0,4]}}""",
                     """{"k":null}""",
                     """{"__metadata__":{"format":{"x":1}}}""",
                     """[1,2,3]""",
                 })
        {
            var header = System.Text.Encoding.UTF8.GetBytes(json);
            var bytes = BitConverter.GetBytes((ulong)header.Length).Concat(header).Concat(new byte[16]).ToArray();
            var verdict = UpdateScreen.Check(Reference(), bytes, 1, Limits);
            Assert.True(verdict.Fault == UpdateFault.Malformed, $"{json}: {verdict.Fault} {verdict.Reason}");
        }
    }

    [Fact]
    public void A_truncated_safetensors_file_is_refused_naming_the_file()
    {
        var dir = Directory.CreateTempSubdirectory("fedcollm-truncated-");
        try
        {
            var path = Path.Combine(dir.FullName, "adapter_model.safetensors");
            var bytes = Reference();
            File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
            var ex = Assert.Throws<InvalidDataException>(() => SafeTensors.Load(path));
            Assert.Contains(path, ex.Message);
            Assert.Contains("truncated", ex.Message);
            File.WriteAllBytes(path, bytes[..5]);
            ex = Assert.Throws<InvalidDataException>(() => SafeTensors.ReadHeader(path));
            Assert.Contains(path, ex.Message);
        }
        finally { dir.Delete(recursive: true); }
    }
}
