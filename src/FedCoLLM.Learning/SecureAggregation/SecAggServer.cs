namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// The server's side of the protocol, one pure function per step over the messages that step received (in any
/// order: each sorts by client id). The server relays encrypted shares it cannot read, and from the masked inputs and
/// the revealed shares it can compute only Σ x_u over the survivors. Every step checks that at least m = K − t
/// clients remain and otherwise throws <see cref="SecureAggregationException"/>, leaving its inputs untouched.
/// </summary>
public static class SecAggServer
{
    /// <summary>Step 0: U1 = the clients that advertised keys.</summary>
    public static KeyRoster CollectKeys(SecAggParameters p, IReadOnlyList<KeyAdvertisement> adverts)
    {
        var members = new SortedDictionary<int, KeyAdvertisement>();
        foreach (var a in adverts)
        {
            p.CheckClient(a.Client, "a key advertisement");
            if (a.CipherPublicKey.Length != 32 || a.MaskPublicKey.Length != 32)
                throw new SecureAggregationException(SecAggStep.AdvertiseKeys, $"client {a.Client} advertised keys of {a.CipherPublicKey.Length} and {a.MaskPublicKey.Length} bytes; X25519 public keys are 32 bytes.");
            if (!members.TryAdd(a.Client, a))
                throw new SecureAggregationException(SecAggStep.AdvertiseKeys, $"client {a.Client} advertised keys twice.");
        }
        var keys = members.Values.SelectMany(a => new[] { Convert.ToHexString(a.CipherPublicKey), Convert.ToHexString(a.MaskPublicKey) }).ToList();
        if (keys.Distinct().Count() != keys.Count)
            throw new SecureAggregationException(SecAggStep.AdvertiseKeys, "two advertised public keys are equal; every client must draw fresh keys each round.");
        if (members.Count < p.Threshold)
            throw SecureAggregationException.TooFew(p, SecAggStep.AdvertiseKeys, members.Count, "advertised keys");
        return new KeyRoster(members.Values.ToList());
    }

    /// <summary>Step 1: U2 = the members of U1 whose share bundles arrived; each must address exactly U1.</summary>
    public static ShareRouting RouteShares(SecAggParameters p, KeyRoster roster, IReadOnlyList<ShareBundle> bundles)
    {
        var u1 = roster.Ids.ToHashSet();
        var byClient = new SortedDictionary<int, ShareBundle>();
        foreach (var b in bundles)
        {
            if (!u1.Contains(b.From))
                throw new SecureAggregationException(SecAggStep.ShareKeys, $"client {b.From} sent shares but did not advertise keys in step 0.");
            if (b.Shares.Any(s => s.From != b.From) || !b.Shares.Select(s => s.To).ToHashSet().SetEquals(u1) || b.Shares.Count != u1.Count)
                throw new SecureAggregationException(SecAggStep.ShareKeys, $"client {b.From}'s bundle must hold one share from it for each of the {u1.Count} clients in the roster.");
            if (!byClient.TryAdd(b.From, b))
                throw new SecureAggregationException(SecAggStep.ShareKeys, $"client {b.From} sent two share bundles.");
        }
        if (byClient.Count < p.Threshold)
            throw SecureAggregationException.TooFew(p, SecAggStep.ShareKeys, byClient.Count, "shared their keys");
        return new ShareRouting(byClient.Keys.ToList(), byClient.Values.ToList());
    }

    /// <summary>Step 2: U3 = the members of U2 whose masked inputs arrived; the rest of U2 are the dropouts whose
    /// pairwise masks must be cancelled.</summary>
    public static UnmaskRequest CollectMaskedInputs(SecAggParameters p, ShareRouting routing, IReadOnlyList<MaskedInput> inputs)
    {
        var u2 = routing.Senders.ToHashSet();
        var survivors = new SortedSet<int>();
        foreach (var y in inputs)
        {
            if (!u2.Contains(y.Client))
                throw new SecureAggregationException(SecAggStep.MaskedInput, $"client {y.Client} sent a masked input but its shares were not part of step 1.");
            if (y.Words.Length != p.VectorLength)
                throw new SecureAggregationException(SecAggStep.MaskedInput, $"client {y.Client}'s masked input has {y.Words.Length} words; the round's vector has {p.VectorLength}.");
            if (!survivors.Add(y.Client))
                throw new SecureAggregationException(SecAggStep.MaskedInput, $"client {y.Client} sent two masked inputs.");
        }
        if (survivors.Count < p.Threshold)
            throw SecureAggregationException.TooFew(p, SecAggStep.MaskedInput, survivors.Count, "sent masked inputs");
        return new UnmaskRequest(survivors.ToList(), routing.Senders.Where(v => !survivors.Contains(v)).ToList());
    }

    /// <summary>Step 3: reconstruct each survivor's self-mask seed and each dropout's mask key from the responses of
    /// at least m survivors, and remove every mask: Σ_{u∈U3} y_u − PRG(b_u) − Σ_{v dropped} ±PRG(s_uv).</summary>
    public static SecAggSum Unmask(SecAggParameters p, KeyRoster roster, UnmaskRequest request, IReadOnlyList<MaskedInput> inputs, IReadOnlyList<UnmaskResponse> responses)
    {
        var survivors = request.Survivors.ToHashSet();
        var responders = new SortedDictionary<int, UnmaskResponse>();
        foreach (var r in responses)
        {
            if (!survivors.Contains(r.From))
                throw new SecureAggregationException(SecAggStep.Unmasking, $"client {r.From} sent shares in step 3 but is not among the survivors of step 2.");
            if (!responders.TryAdd(r.From, r))
                throw new SecureAggregationException(SecAggStep.Unmasking, $"client {r.From} answered the unmasking request twice.");
            if (!r.SelfMaskShares.Select(s => s.Owner).ToHashSet().SetEquals(survivors) || r.SelfMaskShares.Count != survivors.Count
                || !r.MaskKeyShares.Select(s => s.Owner).ToHashSet().SetEquals(request.Dropped) || r.MaskKeyShares.Count != request.Dropped.Count
                || r.SelfMaskShares.Concat(r.MaskKeyShares).Any(s => s.Share.X != r.From || s.Share.Y.Length != SecretShare.Chunks || s.Share.Y.Any(y => y >= PrimeField.P)))
                throw new SecureAggregationException(SecAggStep.Unmasking, $"client {r.From}'s response must hold its own share of b for each survivor and of s^SK for each dropout.");
        }
        if (responders.Count < p.Threshold)
            throw SecureAggregationException.TooFew(p, SecAggStep.Unmasking, responders.Count, "answered the unmasking request");

        var sum = new uint[p.VectorLength];
        foreach (var y in inputs.Where(y => survivors.Contains(y.Client)).OrderBy(y => y.Client))
            for (int i = 0; i < sum.Length; i++) sum[i] += y.Words[i];

        foreach (int u in request.Survivors)
        {
            var b = ShamirSharing.Reconstruct(responders.Values.Select(r => r.SelfMaskShares.First(s => s.Owner == u).Share).ToList(), p.Threshold);
            Keystream.AddWords(b, sum, -1);
        }
        foreach (int v in request.Dropped)
        {
            var sk = ShamirSharing.Reconstruct(responders.Values.Select(r => r.MaskKeyShares.First(s => s.Owner == v).Share).ToList(), p.Threshold);
            if (!KeyAgreement.PublicKeyOf(sk).AsSpan().SequenceEqual(roster.Of(v).MaskPublicKey))
                throw new SecureAggregationException(SecAggStep.Unmasking, $"the shares of dropped client {v}'s mask key do not reconstruct the key it advertised: a share was altered.");
            // y_u holds sign(u, v)·PRG(s_uv) for u ∈ U3; the server now knows s_v^SK, so it takes the mask back out.
            foreach (int u in request.Survivors)
            {
                var seed = SecAggClient.PairwiseSeed(p, sk, roster.Of(u).MaskPublicKey, v, u);
                Keystream.AddWords(seed, sum, u < v ? -1 : +1);
            }
        }
        return new SecAggSum(sum, request.Survivors.ToList());
    }
}
