using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.SecureAggregation;
using static FedCoLLM.Learning.Tests.SecureAggregation.SecAggTestData;

namespace FedCoLLM.Learning.Tests.SecureAggregation;

public class SecAggProtocolTests
{
    const double Clip = 0.5;
    const long MaxSamples = 10_000;

    sealed record Setup(SecAggParameters P, FixedPoint Codec, AdapterWeights Reference, ClientAdapter[] Adapters, ClientSecrets[] Clients, uint[][] Inputs);

    static Setup Make(int k, int t, int attempt = 1)
    {
        var reference = Reference();
        var adapters = TrainedClients(reference, k);
        var codec = new FixedPoint(Clip, MaxSamples, k);
        var p = new SecAggParameters(k, t, SecureFedAvg.VectorLength(reference), Context(attempt));
        return new Setup(p, codec, reference, adapters, Clients(k, p.Context), adapters.Select(a => SecureFedAvg.Encode(codec, reference, a)).ToArray());
    }

    /// <summary>The unmasked sum must be exactly the mod-2^32 sum of the contributors' encodings, and its decoding
    /// must be FedAvg of the contributors' adapters within the stated quantization bound.</summary>
    static void AssertAggregate(Setup s, SecAggSum sum, IReadOnlyCollection<int> expectedContributors)
    {
        Assert.Equal(expectedContributors.OrderBy(x => x), sum.Contributors);
        var exact = new uint[s.P.VectorLength];
        foreach (int u in expectedContributors)
            for (int i = 0; i < exact.Length; i++) exact[i] += s.Inputs[u - 1][i];
        Assert.Equal(exact, sum.Words);

        var (weights, total) = SecureFedAvg.Decode(s.Codec, s.Reference, sum.Words);
        var included = expectedContributors.Select(u => s.Adapters[u - 1]).ToList();
        Assert.Equal(included.Sum(a => a.SampleCount), total);
        var plain = FedAvg.Aggregate(included);
        double bound = s.Codec.MeanErrorBound(included.Count, total);
        foreach (var name in plain.Names)
        {
            var a = plain[name].Values; var b = weights[name].Values;
            for (int i = 0; i < a.Length; i++)
            {
                // The bound plus one float32 rounding of each result (|φ| ≤ 2, ulp ≤ 2^-22).
                Assert.True(Math.Abs(a[i] - b[i]) <= bound + 2 * Math.ScaleB(1.0, -22),
                    $"{name}[{i}]: secure {b[i]} vs plaintext {a[i]}, bound {bound}");
            }
        }
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(16, 3)]
    public void Without_dropouts_the_unmasked_sum_is_plaintext_FedAvg_within_the_quantization_bound(int k, int t)
    {
        var s = Make(k, t);
        var result = InProcessRound.Run(s.P, s.Clients, s.Inputs);
        AssertAggregate(s, result.Sum, Enumerable.Range(1, k).ToList());
        Assert.True(s.Codec.MeanErrorBound(k, s.Adapters.Sum(a => a.SampleCount)) < 1e-6);
    }

    public static TheoryData<int, int, int, SecAggStep> DropoutCases()
    {
        var data = new TheoryData<int, int, int, SecAggStep>();
        foreach (SecAggStep step in new[] { SecAggStep.AdvertiseKeys, SecAggStep.ShareKeys, SecAggStep.MaskedInput, SecAggStep.Unmasking })
        {
            data.Add(4, 1, 1, step);
            data.Add(16, 3, 3, step);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(DropoutCases))]
    public void Dropouts_up_to_t_at_any_step_still_give_the_correct_aggregate(int k, int t, int drops, SecAggStep step)
    {
        var s = Make(k, t);
        // Spread the dropouts over the id range so low, middle and high ids (both mask signs) are exercised.
        var dropped = Enumerable.Range(0, drops).Select(i => 1 + (i * 5 + 2) % k).Distinct().ToList();
        Assert.Equal(drops, dropped.Count);
        var result = InProcessRound.Run(s.P, s.Clients, s.Inputs, dropped.ToDictionary(d => d, _ => step));
        // A client that drops only in the unmasking step has its masked input in the sum: the others' shares unmask it.
        var contributors = Enumerable.Range(1, k).Where(u => step == SecAggStep.Unmasking || !dropped.Contains(u)).ToList();
        AssertAggregate(s, result.Sum, contributors);
    }

    [Fact]
    public void Dropouts_spread_over_all_steps_up_to_t_still_give_the_correct_aggregate()
    {
        var s = Make(16, 3);
        var plan = new Dictionary<int, SecAggStep> { [2] = SecAggStep.ShareKeys, [9] = SecAggStep.MaskedInput, [16] = SecAggStep.Unmasking };
        var result = InProcessRound.Run(s.P, s.Clients, s.Inputs, plan);
        AssertAggregate(s, result.Sum, Enumerable.Range(1, 16).Where(u => u is not 2 and not 9).ToList());
    }

    [Theory]
    [InlineData(SecAggStep.AdvertiseKeys, "advertised keys")]
    [InlineData(SecAggStep.ShareKeys, "shared their keys")]
    [InlineData(SecAggStep.MaskedInput, "sent masked inputs")]
    [InlineData(SecAggStep.Unmasking, "answered the unmasking request")]
    public void More_than_t_dropouts_fail_the_round_with_a_clear_reason_and_lose_nothing(SecAggStep step, string what)
    {
        var s = Make(4, 1);
        var before = s.Inputs.Select(x => x.ToArray()).ToArray();
        var plan = new Dictionary<int, SecAggStep> { [1] = step, [3] = step };
        var e = Assert.Throws<SecureAggregationException>(() => InProcessRound.Run(s.P, s.Clients, s.Inputs, plan));
        Assert.Equal(step, e.Step);
        Assert.Contains($"only 2 of 4 clients {what}", e.Message);
        Assert.Contains("threshold 3", e.Message);
        Assert.Contains("secure-aggregation-dropouts = 1", e.Message);
        // Nothing was consumed: the inputs are intact, and the next attempt (fresh context, fresh keys) with all
        // clients online aggregates them.
        Assert.Equal(before, s.Inputs);
        var retry = Make(4, 1, attempt: 2);
        AssertAggregate(retry, InProcessRound.Run(retry.P, retry.Clients, retry.Inputs).Sum, [1, 2, 3, 4]);
    }

    [Fact]
    public void Mixed_dropouts_above_t_fail_at_the_step_where_the_survivors_fall_below_the_threshold()
    {
        var s = Make(16, 3);
        var plan = new Dictionary<int, SecAggStep> { [1] = SecAggStep.AdvertiseKeys, [5] = SecAggStep.ShareKeys, [7] = SecAggStep.ShareKeys, [12] = SecAggStep.MaskedInput };
        var e = Assert.Throws<SecureAggregationException>(() => InProcessRound.Run(s.P, s.Clients, s.Inputs, plan));
        Assert.Equal(SecAggStep.MaskedInput, e.Step);
        Assert.Contains("only 12 of 16", e.Message);
    }

    [Fact]
    public void Every_step_is_a_pure_function_so_a_resumed_round_is_bit_identical()
    {
        var s = Make(4, 1);
        var plan = new Dictionary<int, SecAggStep> { [2] = SecAggStep.MaskedInput };
        var first = InProcessRound.Run(s.P, s.Clients, s.Inputs, plan);
        // A "restarted" process: secrets re-derived from the journaled seeds, every message recomputed.
        var again = Make(4, 1);
        var second = InProcessRound.Run(again.P, again.Clients, again.Inputs, plan);
        Assert.Equal(first.Sum.Words, second.Sum.Words);
        Assert.Equal(first.ServerSawMaskedInputs.Select(SecAggWire.Write), second.ServerSawMaskedInputs.Select(SecAggWire.Write));
        Assert.Equal(first.UploadBytes, second.UploadBytes);
    }

    [Fact]
    public void Another_context_gives_other_masks_so_nothing_replays_across_rounds_or_attempts()
    {
        var a = Make(4, 1, attempt: 1);
        var b = Make(4, 1, attempt: 2);
        var ya = InProcessRound.Run(a.P, a.Clients, a.Inputs).ServerSawMaskedInputs[0].Words;
        var yb = InProcessRound.Run(b.P, b.Clients, b.Inputs).ServerSawMaskedInputs[0].Words;
        Assert.NotEqual(ya, yb);
    }

    [Fact]
    public void A_client_refuses_to_reveal_both_masks_of_one_client()
    {
        var s = Make(4, 1);
        var adverts = s.Clients.Select(c => SecAggClient.AdvertiseKeys(s.P, c)).ToList();
        var roster = SecAggServer.CollectKeys(s.P, adverts);
        var routing = SecAggServer.RouteShares(s.P, roster, s.Clients.Select(c => SecAggClient.ShareKeys(s.P, c, roster)).ToList());
        var greedy = new UnmaskRequest([1, 2, 3, 4], [2]);
        var e = Assert.Throws<SecureAggregationException>(() => SecAggClient.Unmask(s.P, s.Clients[0], roster, routing.For(1), greedy));
        Assert.Contains("both masks of client 2", e.Message);
    }

    [Fact]
    public void An_altered_share_ciphertext_is_detected()
    {
        var s = Make(4, 1);
        var roster = SecAggServer.CollectKeys(s.P, s.Clients.Select(c => SecAggClient.AdvertiseKeys(s.P, c)).ToList());
        var routing = SecAggServer.RouteShares(s.P, roster, s.Clients.Select(c => SecAggClient.ShareKeys(s.P, c, roster)).ToList());
        var forMe = routing.For(1).ToList();
        var ct = forMe[2].Ciphertext.ToArray();
        ct[5] ^= 1;
        forMe[2] = forMe[2] with { Ciphertext = ct };
        var e = Assert.Throws<SecureAggregationException>(() => SecAggClient.Unmask(s.P, s.Clients[0], roster, forMe, new UnmaskRequest([1, 2, 3, 4], [])));
        Assert.Contains("does not decrypt", e.Message);
    }

    [Fact]
    public void The_threshold_must_exceed_half_the_clients()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SecAggParameters(4, 2, 10, Context()));
        Assert.Contains("secure-aggregation-dropouts", e.Message);
    }
}
