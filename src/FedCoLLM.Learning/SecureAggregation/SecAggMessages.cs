namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>Step 0, client → server: the client's two X25519 public keys, c (encrypts shares) and s (pairwise masks).</summary>
public sealed record KeyAdvertisement(int Client, byte[] CipherPublicKey, byte[] MaskPublicKey);

/// <summary>Step 0 result, server → clients: the advertisements of U1, the clients that took part, in id order.</summary>
public sealed record KeyRoster(IReadOnlyList<KeyAdvertisement> Members)
{
    public IEnumerable<int> Ids => Members.Select(m => m.Client);
    public KeyAdvertisement Of(int client) => Members.FirstOrDefault(m => m.Client == client)
        ?? throw new SecureAggregationException(SecAggStep.None, $"client {client} is not in this round's key roster.");
    public bool Contains(int client) => Members.Any(m => m.Client == client);
}

/// <summary>Step 1: shares from one client to another, encrypted so that only the recipient can read them.</summary>
public sealed record EncryptedShare(int From, int To, byte[] Ciphertext);

/// <summary>Step 1, client → server: one encrypted share pair for every member of U1 (the sender included).</summary>
public sealed record ShareBundle(int From, IReadOnlyList<EncryptedShare> Shares);

/// <summary>Step 1 result: U2 (the clients whose bundles arrived) and the shares routed to each of them.</summary>
public sealed record ShareRouting(IReadOnlyList<int> Senders, IReadOnlyList<ShareBundle> Bundles)
{
    /// <summary>What the server forwards to <paramref name="recipient"/>: the share each member of U2 addressed to it.</summary>
    public IReadOnlyList<EncryptedShare> For(int recipient) =>
        Bundles.Select(b => b.Shares.First(s => s.To == recipient)).ToList();
}

/// <summary>Step 2, client → server: y_u = x_u + PRG(b_u) + Σ_v ±PRG(s_uv) mod 2^32.</summary>
public sealed record MaskedInput(int Client, uint[] Words);

/// <summary>Step 2 result, server → U3: who sent a masked input (U3) and who of U2 did not (their pairwise masks
/// must be removed).</summary>
public sealed record UnmaskRequest(IReadOnlyList<int> Survivors, IReadOnlyList<int> Dropped);

/// <summary>A decrypted share revealed in step 3: <paramref name="Owner"/>'s secret, evaluated at the revealer's x.</summary>
public sealed record RevealedShare(int Owner, SecretShare Share);

/// <summary>Step 3, client → server: shares of b_v for every survivor v and of s_v^SK for every dropped v.</summary>
public sealed record UnmaskResponse(int From, IReadOnlyList<RevealedShare> SelfMaskShares, IReadOnlyList<RevealedShare> MaskKeyShares);

/// <summary>The outcome: Σ_{u∈U3} x_u mod 2^32 and who it is over.</summary>
public sealed record SecAggSum(uint[] Words, IReadOnlyList<int> Contributors);
