namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// What every party of one secure-aggregation round agrees on. Clients are numbered 1…K (the number is also their
/// Shamir x-coordinate). Up to <see cref="MaxDropouts"/> = t of them may vanish anywhere in the protocol; secrets are
/// shared with threshold m = K − t. m must exceed K/2: then no set of shares the server can legitimately collect
/// reveals both a client's self-mask and its pairwise-mask key (Bonawitz et al. 2017, §4). <see cref="Context"/>
/// binds every derived key and ciphertext to one job, round and attempt, so nothing can be replayed across them.
/// </summary>
public sealed record SecAggParameters
{
    public int ClientCount { get; }
    public int MaxDropouts { get; }
    public int VectorLength { get; }
    public byte[] Context { get; }
    public int Threshold => ClientCount - MaxDropouts;

    public SecAggParameters(int clientCount, int maxDropouts, int vectorLength, byte[] context)
    {
        if (clientCount < 2)
            throw new ArgumentOutOfRangeException(nameof(clientCount), clientCount, "Secure aggregation needs at least 2 clients: the sum of one client is that client's update.");
        if (maxDropouts < 0 || 2 * maxDropouts >= clientCount)
            throw new ArgumentOutOfRangeException(nameof(maxDropouts), maxDropouts,
                $"secure-aggregation-dropouts must lie in [0, {(clientCount - 1) / 2}] for K = {clientCount} clients: the threshold K − t must exceed K/2.");
        if (vectorLength < 1) throw new ArgumentOutOfRangeException(nameof(vectorLength), vectorLength, "The vector holds at least one word.");
        ArgumentNullException.ThrowIfNull(context);
        ClientCount = clientCount; MaxDropouts = maxDropouts; VectorLength = vectorLength; Context = context;
    }

    public void CheckClient(int id, string what)
    {
        if (id < 1 || id > ClientCount)
            throw new SecureAggregationException(SecAggStep.None, $"{what} names client {id}, but this round's clients are 1…{ClientCount}.");
    }
}

/// <summary>The four steps of the protocol (Bonawitz et al. 2017, rounds 0, 1, 2 and 4; the consistency check of
/// round 3 defends against a server that lies about who survived and is not implemented: the server is trusted to
/// follow the protocol, honest-but-curious).</summary>
public enum SecAggStep
{
    None = -1,
    AdvertiseKeys = 0,
    ShareKeys = 1,
    MaskedInput = 2,
    Unmasking = 3,
}

/// <summary>A round that cannot complete: too many dropouts, or a message that breaks the protocol. Nothing the
/// round received is changed by the failure.</summary>
public sealed class SecureAggregationException(SecAggStep step, string reason) : Exception(
    step == SecAggStep.None ? $"Secure aggregation: {reason}" : $"Secure aggregation failed at step '{StepName(step)}': {reason}")
{
    public SecAggStep Step { get; } = step;
    public string Reason { get; } = reason;

    public static string StepName(SecAggStep step) => step switch
    {
        SecAggStep.AdvertiseKeys => "advertise-keys",
        SecAggStep.ShareKeys => "share-keys",
        SecAggStep.MaskedInput => "masked-input",
        SecAggStep.Unmasking => "unmasking",
        _ => "none",
    };

    internal static SecureAggregationException TooFew(SecAggParameters p, SecAggStep step, int got, string what) => new(step,
        $"only {got} of {p.ClientCount} clients {what}, but the secrets are shared with threshold {p.Threshold} " +
        $"(secure-aggregation-dropouts = {p.MaxDropouts} tolerates {p.MaxDropouts} dropout(s)); {p.ClientCount - got} dropped. " +
        "Nothing was aggregated; retry the round with more clients online or raise secure-aggregation-dropouts (below K/2).");
}
