using System.Security.Cryptography;
using System.Text;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;

namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>The job-file settings of secure aggregation: t, the clip and the per-client sample cap (docs/jobs.md).</summary>
public sealed record SecAggSettings(int MaxDropouts, double Clip = 0.5, long MaxSamplesPerClient = 100_000);

/// <summary>
/// One round attempt of secure aggregation as a federation runs it, in bytes in and bytes out: what the actors
/// move as blobs. Clients are named by their job ids; client number k (the Shamir x-coordinate) is 1 + the id's
/// position in the enrolled list in ordinal order, which every node knows from the job. The context binds every key
/// and ciphertext to the job definition, round and attempt, so a retried attempt draws fresh keys and masks and
/// nothing from another attempt can be replayed into it. Each method checks that a message comes from the client it
/// claims to, so one client cannot speak for another.
/// </summary>
public sealed class SecAggSession
{
    readonly string[] enrolled;

    public SecAggParameters Parameters { get; }
    public FixedPoint Codec { get; }

    public SecAggSession(string jobDefinitionHash, int round, int attempt, IReadOnlyList<string> enrolled, SecAggSettings settings, int vectorLength)
    {
        this.enrolled = enrolled.Order(StringComparer.Ordinal).ToArray();
        var context = Encoding.UTF8.GetBytes($"fedcollm-secagg/v1/job={jobDefinitionHash}/round={round}/attempt={attempt}");
        Parameters = new SecAggParameters(this.enrolled.Length, settings.MaxDropouts, vectorLength, context);
        Codec = new FixedPoint(settings.Clip, settings.MaxSamplesPerClient, this.enrolled.Length);
    }

    public int IndexOf(string clientId)
    {
        int i = Array.IndexOf(enrolled, clientId);
        if (i < 0) throw new SecureAggregationException(SecAggStep.None, $"client \"{clientId}\" is not enrolled in the job ({string.Join(", ", enrolled)}).");
        return i + 1;
    }

    public string IdOf(int index) => enrolled[index - 1];

    /// <summary>The client's secrets for this attempt: HKDF of its node's long-term secret (never sent anywhere) over
    /// the context and its id, so a restarted client re-derives the same keys and repeats its messages byte for byte.</summary>
    public ClientSecrets Secrets(string clientId, ReadOnlySpan<byte> nodeSecret)
    {
        var seed = KeyAgreement.Expand(SHA256.HashData(nodeSecret), "client-round-seed", [.. Parameters.Context, .. Encoding.UTF8.GetBytes("/" + clientId)]);
        return new ClientSecrets(IndexOf(clientId), seed, Parameters.Context);
    }

    // ---- clients ---------------------------------------------------------------------------------

    public byte[] AdvertiseKeys(ClientSecrets me) => SecAggWire.Write(SecAggClient.AdvertiseKeys(Parameters, me));

    public byte[] ShareKeys(ClientSecrets me, byte[] roster) => SecAggWire.Write(SecAggClient.ShareKeys(Parameters, me, SecAggWire.ReadRoster(roster)));

    /// <summary>Encodes n_k·(φ_k − φ_ref) and masks it.</summary>
    public byte[] MaskAdapter(ClientSecrets me, byte[] roster, byte[] forwardedShares, AdapterWeights reference, AdapterWeights trained, long sampleCount)
    {
        var input = SecureFedAvg.Encode(Codec, reference, new ClientAdapter(trained, sampleCount));
        return SecAggWire.Write(SecAggClient.MaskInput(Parameters, me, SecAggWire.ReadRoster(roster), SecAggWire.ReadShares(forwardedShares), input));
    }

    public byte[] Unmask(ClientSecrets me, byte[] roster, byte[] forwardedShares, byte[] request) =>
        SecAggWire.Write(SecAggClient.Unmask(Parameters, me, SecAggWire.ReadRoster(roster), SecAggWire.ReadShares(forwardedShares), SecAggWire.ReadUnmaskRequest(request)));

    // ---- server ----------------------------------------------------------------------------------

    /// <summary>Step 0 closes: the roster every member of U1 receives.</summary>
    public byte[] CollectKeys(IReadOnlyDictionary<string, byte[]> adverts) =>
        SecAggWire.Write(SecAggServer.CollectKeys(Parameters, Read(adverts, SecAggWire.ReadAdvertisement, a => a.Client, SecAggStep.AdvertiseKeys)));

    /// <summary>Step 1 closes: for each member of U2, the shares addressed to it.</summary>
    public IReadOnlyDictionary<string, byte[]> RouteShares(byte[] roster, IReadOnlyDictionary<string, byte[]> bundles)
    {
        var routing = Routing(roster, bundles);
        return routing.Senders.ToDictionary(IdOf, v => SecAggWire.Write(routing.For(v)), StringComparer.Ordinal);
    }

    /// <summary>Step 2 closes: the unmasking request every member of U3 receives.</summary>
    public byte[] CollectMaskedInputs(byte[] roster, IReadOnlyDictionary<string, byte[]> bundles, IReadOnlyDictionary<string, byte[]> maskedInputs) =>
        SecAggWire.Write(SecAggServer.CollectMaskedInputs(Parameters, Routing(roster, bundles), Read(maskedInputs, SecAggWire.ReadMaskedInput, y => y.Client, SecAggStep.MaskedInput)));

    /// <summary>Step 3 closes (on the aggregator): the new adapter φ_ref + Σ n_k·Δ_k / Σn, and Σn.</summary>
    public (AdapterWeights Weights, long TotalSamples, IReadOnlyList<string> Contributors) Aggregate(AdapterWeights reference, byte[] roster, byte[] request,
        IReadOnlyDictionary<string, byte[]> maskedInputs, IReadOnlyDictionary<string, byte[]> responses)
    {
        var sum = SecAggServer.Unmask(Parameters, SecAggWire.ReadRoster(roster), SecAggWire.ReadUnmaskRequest(request),
            Read(maskedInputs, SecAggWire.ReadMaskedInput, y => y.Client, SecAggStep.MaskedInput),
            Read(responses, SecAggWire.ReadUnmaskResponse, r => r.From, SecAggStep.Unmasking));
        var (weights, total) = SecureFedAvg.Decode(Codec, reference, sum.Words);
        return (weights, total, sum.Contributors.Select(IdOf).ToArray());
    }

    ShareRouting Routing(byte[] roster, IReadOnlyDictionary<string, byte[]> bundles) =>
        SecAggServer.RouteShares(Parameters, SecAggWire.ReadRoster(roster), Read(bundles, SecAggWire.ReadBundle, b => b.From, SecAggStep.ShareKeys));

    /// <summary>Parses each client's message in ordinal id order and checks it speaks for that client.</summary>
    List<T> Read<T>(IReadOnlyDictionary<string, byte[]> messages, Func<byte[], T> parse, Func<T, int> client, SecAggStep step)
    {
        var result = new List<T>(messages.Count);
        foreach (var (id, bytes) in messages.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            T message;
            try { message = parse(bytes); }
            catch (InvalidDataException e) { throw new SecureAggregationException(step, $"client \"{id}\" sent a malformed message: {e.Message}"); }
            if (client(message) != IndexOf(id))
                throw new SecureAggregationException(step, $"client \"{id}\" (number {IndexOf(id)}) sent a message that claims to be from client number {client(message)}; refused.");
            result.Add(message);
        }
        return result;
    }
}

/// <summary>A client node's long-term secure-aggregation secret: 32 random bytes in a file only its owner can read,
/// created on first use. Round keys are derived from it (<see cref="SecAggSession.Secrets"/>), so it must survive
/// restarts; losing it only means the client cannot resume an attempt it was in the middle of.</summary>
public static class NodeSecretFile
{
    public static byte[] LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length != 32) throw new InvalidDataException($"{path}: a secure-aggregation node secret is 32 bytes, this file has {bytes.Length}; delete it to create a new one.");
            return bytes;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var secret = RandomNumberGenerator.GetBytes(32);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var f = new FileStream(path, options)) f.Write(secret);
        return secret;
    }
}
