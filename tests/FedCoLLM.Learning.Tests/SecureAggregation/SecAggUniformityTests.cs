using FedCoLLM.Learning.SecureAggregation;
using static FedCoLLM.Learning.Tests.SecureAggregation.SecAggTestData;

namespace FedCoLLM.Learning.Tests.SecureAggregation;

/// <summary>
/// What the server and aggregator receive from each client must look like uniform noise in Z_{2^32}, whatever the
/// input. The inputs here are the worst case for leakage — all zeros, or one constant — and the tests run a
/// chi-square test on the top byte (256 bins) and a Kolmogorov–Smirnov test on w / 2^32, both at α = 0.001. The
/// seeds are fixed, so the outcome is deterministic; the same statistics reject the unmasked encodings, which shows
/// the tests can fail.
/// </summary>
public class SecAggUniformityTests
{
    const int Words = 1 << 16;
    const double ChiSquareCritical255 = 330.52; // χ²(255) upper 0.001 quantile
    static readonly double KsCritical = 1.9495 / Math.Sqrt(Words); // Kolmogorov upper 0.001 quantile / √n

    static (double Chi, double Ks) Statistics(uint[] w)
    {
        var bins = new long[256];
        foreach (var x in w) bins[x >> 24]++;
        double expected = w.Length / 256.0;
        double chi = bins.Sum(b => (b - expected) * (b - expected) / expected);
        var u = w.Select(x => x / 4294967296.0).OrderBy(x => x).ToArray();
        double d = 0;
        for (int i = 0; i < u.Length; i++)
            d = Math.Max(d, Math.Max((i + 1.0) / u.Length - u[i], u[i] - (double)i / u.Length));
        return (chi, d);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(0x12345u)]
    public void Masked_inputs_the_aggregator_receives_are_indistinguishable_from_uniform(uint constant)
    {
        var context = Context();
        var p = new SecAggParameters(4, 1, Words, context);
        var clients = Clients(4, context);
        var inputs = Enumerable.Range(0, 4).Select(_ => Enumerable.Repeat(constant, Words).ToArray()).ToArray();
        // One client drops after sharing so the captured inputs include pairwise masks with a dropout.
        var result = InProcessRound.Run(p, clients, inputs, new Dictionary<int, SecAggStep> { [3] = SecAggStep.MaskedInput });
        Assert.Equal(3, result.ServerSawMaskedInputs.Count);
        foreach (var y in result.ServerSawMaskedInputs)
        {
            var (chi, ks) = Statistics(y.Words);
            Assert.True(chi < ChiSquareCritical255, $"client {y.Client}: χ² = {chi:F1} ≥ {ChiSquareCritical255}");
            Assert.True(ks < KsCritical, $"client {y.Client}: KS D = {ks:F5} ≥ {KsCritical:F5}");
        }
        Assert.Equal(Enumerable.Repeat(unchecked(constant * 3), Words), result.Sum.Words);
    }

    [Fact]
    public void The_same_statistics_reject_unmasked_encodings()
    {
        var reference = Reference(rank: 64);
        var codec = new FixedPoint(0.5, 10_000, 4);
        var words = SecureFedAvg.Encode(codec, reference, new(Trained(reference, 1), 500));
        var (chi, ks) = Statistics(words);
        Assert.True(chi > ChiSquareCritical255 && ks > 1.9495 / Math.Sqrt(words.Length), $"χ² = {chi}, KS = {ks}");
    }
}
