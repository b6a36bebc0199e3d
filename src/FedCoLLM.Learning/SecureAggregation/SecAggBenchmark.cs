using System.Collections.Immutable;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// Measures what secure aggregation costs next to plain FedAvg for one round: bytes each client sends and receives
/// beyond the plaintext adapter upload and aggregate download, and compute time. All K clients and the server run in
/// this process, one after another (<see cref="InProcessRound"/>), so the wall time is the sum of every party's work;
/// the critical path of a real round, whose clients work in parallel, is the mean client time plus the server time,
/// reported next to it. Network transfer is not timed.
/// </summary>
public static class SecAggBenchmark
{
    public sealed record Settings(int Clients, int MaxDropouts, int DropAtMaskedInput, int AdapterParameters, int Reps, double Clip = 0.5, long MaxSamples = 100_000);

    public sealed record Row(
        int Clients, int MaxDropouts, int Threshold, int Dropped, int AdapterParameters, int FractionBits, double MeanErrorBound,
        long PlainUploadBytesPerClient, long PlainDownloadBytesPerClient,
        double SecAggUploadBytesPerClient, double SecAggDownloadBytesPerClient,
        double ExtraUploadBytesPerClient, double ExtraDownloadBytesPerClient,
        double PlainRoundSeconds, double SecAggRoundSecondsSequential, double SecAggClientSecondsMean, double SecAggServerSeconds,
        double SecAggCriticalPathSeconds, IReadOnlyList<double> ClientSecondsPerStep, IReadOnlyList<double> ServerSecondsPerStep,
        double MaxAbsDifferenceFromPlainFedAvg);

    public static Row Measure(Settings s)
    {
        var reference = Adapter(s.AdapterParameters, new Random(1), 0.5f);
        var clients = Enumerable.Range(1, s.Clients)
            .Select(k => new ClientAdapter(Perturb(reference, new Random(100 + k), 0.02f), 200 + 13 * k)).ToArray();
        var codec = new FixedPoint(s.Clip, s.MaxSamples, s.Clients);
        long adapterBytes = reference.ToBytes().LongLength;
        var dropped = Enumerable.Range(0, s.DropAtMaskedInput).Select(i => 1 + i * s.Clients / Math.Max(1, s.DropAtMaskedInput)).ToHashSet();
        var plan = dropped.ToDictionary(d => d, _ => SecAggStep.MaskedInput);
        var survivors = clients.Where((_, i) => !dropped.Contains(i + 1)).ToList();

        var plainSeconds = new List<double>();
        var seqSeconds = new List<double>();
        var clientMean = new List<double>();
        var serverSeconds = new List<double>();
        InProcessRound.Result? last = null;
        AdapterWeights? secure = null, plain = null;
        for (int rep = 0; rep < s.Reps; rep++)
        {
            var sw = Stopwatch.StartNew();
            plain = FedAvg.Aggregate(survivors);
            plainSeconds.Add(sw.Elapsed.TotalSeconds);

            var context = Encoding.UTF8.GetBytes($"bench;K={s.Clients};rep={rep}");
            var p = new SecAggParameters(s.Clients, s.MaxDropouts, SecureFedAvg.VectorLength(reference), context);
            sw.Restart();
            var encodeWatch = Stopwatch.StartNew();
            var inputs = clients.Select(c => SecureFedAvg.Encode(codec, reference, c)).ToArray();
            double encodeSeconds = encodeWatch.Elapsed.TotalSeconds;
            var secrets = Enumerable.Range(1, s.Clients).Select(k => new ClientSecrets(k, SHA256.HashData(Encoding.UTF8.GetBytes($"bench-{rep}-{k}")), context)).ToArray();
            last = InProcessRound.Run(p, secrets, inputs, plan);
            var decodeWatch = Stopwatch.StartNew();
            secure = SecureFedAvg.Decode(codec, reference, last.Sum.Words).Weights;
            double decodeSeconds = decodeWatch.Elapsed.TotalSeconds;
            seqSeconds.Add(sw.Elapsed.TotalSeconds);
            clientMean.Add((last.ClientSecondsPerStep.Sum() + encodeSeconds) / s.Clients);
            serverSeconds.Add(last.ServerSecondsPerStep.Sum() + decodeSeconds);
        }

        double maxDiff = 0;
        foreach (var name in plain!.Names)
        {
            var a = plain[name].Values; var b = secure![name].Values;
            for (int i = 0; i < a.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(a[i] - b[i]));
        }
        var survivorIds = Enumerable.Range(1, s.Clients).Where(k => !dropped.Contains(k)).ToList();
        double up = survivorIds.Average(k => (double)last!.UploadBytes[k]);
        double down = survivorIds.Average(k => (double)last!.DownloadBytes[k]) + adapterBytes;
        long total = survivors.Sum(c => c.SampleCount);
        return new Row(s.Clients, s.MaxDropouts, s.Clients - s.MaxDropouts, dropped.Count, s.AdapterParameters, codec.FractionBits,
            codec.MeanErrorBound(survivors.Count, total),
            adapterBytes + 8, adapterBytes, up, down, up - (adapterBytes + 8), down - adapterBytes,
            Median(plainSeconds), Median(seqSeconds), Median(clientMean), Median(serverSeconds),
            Median(clientMean) + Median(serverSeconds),
            last!.ClientSecondsPerStep.Select(x => x / s.Clients).ToList(), last.ServerSecondsPerStep, maxDiff);
    }

    static double Median(List<double> xs)
    {
        var sorted = xs.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>A GPT-2-block-shaped adapter: pairs of A [r, 256] and B [768, r] at r = 8 until the parameter count is reached.</summary>
    static AdapterWeights Adapter(int parameters, Random rng, float scale)
    {
        const int r = 8, d = 256, dOut = 768;
        var tensors = new List<AdapterTensor>();
        for (int layer = 0, left = parameters; left > 0; layer++)
        {
            int aCols = Math.Min(d, Math.Max(1, left / r));
            tensors.Add(Make($"base_model.model.transformer.h.{layer}.attn.c_attn.lora_A.weight", r, aCols));
            left -= r * aCols;
            if (left <= 0) break;
            int bRows = Math.Min(dOut, Math.Max(1, left / r));
            tensors.Add(Make($"base_model.model.transformer.h.{layer}.attn.c_attn.lora_B.weight", bRows, r));
            left -= bRows * r;
        }
        return new AdapterWeights(tensors);

        AdapterTensor Make(string name, int rows, int cols) => new(name, [rows, cols],
            ImmutableArray.CreateRange(Enumerable.Range(0, rows * cols).Select(_ => scale * (float)(rng.NextDouble() * 2 - 1))));
    }

    static AdapterWeights Perturb(AdapterWeights a, Random rng, float step) => new(a.Tensors.Select(t => new AdapterTensor(t.Name, t.Shape,
        ImmutableArray.CreateRange(t.Values.Select(v => v + step * (float)(rng.NextDouble() * 2 - 1))))));
}
