namespace FedCoLLM.Learning.SecureAggregation;

/// <summary>
/// The byte form of every protocol message: what travels as a blob between the nodes and what the benchmark counts.
/// Little-endian, length-prefixed; a reader that meets anything else says which message and field is wrong.
/// </summary>
public static class SecAggWire
{
    const int MaxItems = 1 << 20;

    public static byte[] Write(KeyRoster roster) => Build(w =>
    {
        w.Write(roster.Members.Count);
        foreach (var a in roster.Members) WriteAdvert(w, a);
    });

    public static KeyRoster ReadRoster(byte[] bytes) => Parse(bytes, "key roster", r =>
        new KeyRoster(ReadList(r, "key roster", () => ReadAdvert(r))));

    public static byte[] Write(KeyAdvertisement a) => Build(w => WriteAdvert(w, a));
    public static KeyAdvertisement ReadAdvertisement(byte[] bytes) => Parse(bytes, "key advertisement", ReadAdvert);

    public static byte[] Write(ShareBundle b) => Build(w => { w.Write(b.From); WriteShares(w, b.Shares); });
    public static ShareBundle ReadBundle(byte[] bytes) => Parse(bytes, "share bundle", r => new ShareBundle(r.ReadInt32(), ReadShares(r)));

    /// <summary>The shares the server forwards to one client.</summary>
    public static byte[] Write(IReadOnlyList<EncryptedShare> shares) => Build(w => WriteShares(w, shares));
    public static IReadOnlyList<EncryptedShare> ReadShares(byte[] bytes) => Parse(bytes, "forwarded shares", ReadShares);

    public static byte[] Write(MaskedInput y) => Build(w =>
    {
        w.Write(y.Client);
        w.Write(y.Words.Length);
        var bytes = new byte[y.Words.Length * 4];
        for (int i = 0; i < y.Words.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), y.Words[i]);
        w.Write(bytes);
    });

    public static MaskedInput ReadMaskedInput(byte[] bytes) => Parse(bytes, "masked input", r =>
    {
        int client = r.ReadInt32(), n = r.ReadInt32();
        if (n < 0 || (long)n * 4 != r.BaseStream.Length - r.BaseStream.Position)
            throw new InvalidDataException($"masked input: declares {n} words but carries {r.BaseStream.Length - r.BaseStream.Position} bytes.");
        var raw = r.ReadBytes(n * 4);
        var words = new uint[n];
        for (int i = 0; i < n; i++) words[i] = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(i * 4));
        return new MaskedInput(client, words);
    });

    public static byte[] Write(UnmaskRequest q) => Build(w => { WriteInts(w, q.Survivors); WriteInts(w, q.Dropped); });
    public static UnmaskRequest ReadUnmaskRequest(byte[] bytes) => Parse(bytes, "unmask request", r =>
        new UnmaskRequest(ReadList(r, "survivors", r.ReadInt32), ReadList(r, "dropped", r.ReadInt32)));

    public static byte[] Write(UnmaskResponse u) => Build(w =>
    {
        w.Write(u.From);
        WriteRevealed(w, u.SelfMaskShares);
        WriteRevealed(w, u.MaskKeyShares);
    });

    public static UnmaskResponse ReadUnmaskResponse(byte[] bytes) => Parse(bytes, "unmask response", r =>
    {
        int from = r.ReadInt32();
        return new UnmaskResponse(from, ReadRevealed(r, from), ReadRevealed(r, from));
    });

    static void WriteAdvert(BinaryWriter w, KeyAdvertisement a) { w.Write(a.Client); WriteBytes(w, a.CipherPublicKey); WriteBytes(w, a.MaskPublicKey); }
    static KeyAdvertisement ReadAdvert(BinaryReader r) => new(r.ReadInt32(), ReadBytes(r, "public key"), ReadBytes(r, "public key"));

    static void WriteShares(BinaryWriter w, IReadOnlyList<EncryptedShare> shares)
    {
        w.Write(shares.Count);
        foreach (var s in shares) { w.Write(s.From); w.Write(s.To); WriteBytes(w, s.Ciphertext); }
    }

    static IReadOnlyList<EncryptedShare> ReadShares(BinaryReader r) =>
        ReadList(r, "shares", () => new EncryptedShare(r.ReadInt32(), r.ReadInt32(), ReadBytes(r, "ciphertext")));

    static void WriteRevealed(BinaryWriter w, IReadOnlyList<RevealedShare> shares)
    {
        w.Write(shares.Count);
        foreach (var s in shares)
        {
            w.Write(s.Owner);
            foreach (var y in s.Share.Y) w.Write(y);
        }
    }

    static IReadOnlyList<RevealedShare> ReadRevealed(BinaryReader r, int from) => ReadList(r, "revealed shares", () =>
    {
        int owner = r.ReadInt32();
        var y = new ulong[SecretShare.Chunks];
        for (int c = 0; c < y.Length; c++) y[c] = r.ReadUInt64();
        return new RevealedShare(owner, new SecretShare(from, y));
    });

    static void WriteInts(BinaryWriter w, IReadOnlyList<int> xs) { w.Write(xs.Count); foreach (var x in xs) w.Write(x); }
    static void WriteBytes(BinaryWriter w, byte[] b) { w.Write(b.Length); w.Write(b); }

    static byte[] ReadBytes(BinaryReader r, string what)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > r.BaseStream.Length - r.BaseStream.Position)
            throw new InvalidDataException($"{what}: declares {n} bytes, more than the message holds.");
        return r.ReadBytes(n);
    }

    static IReadOnlyList<T> ReadList<T>(BinaryReader r, string what, Func<T> item)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > MaxItems) throw new InvalidDataException($"{what}: declares {n} items.");
        var list = new List<T>(n);
        for (int i = 0; i < n; i++) list.Add(item());
        return list;
    }

    static byte[] Build(Action<BinaryWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms)) write(w);
        return ms.ToArray();
    }

    static T Parse<T>(byte[] bytes, string what, Func<BinaryReader, T> read)
    {
        using var r = new BinaryReader(new MemoryStream(bytes, writable: false));
        T value;
        try { value = read(r); }
        catch (EndOfStreamException) { throw new InvalidDataException($"Secure aggregation {what}: the blob ends early ({bytes.Length} bytes); it is truncated or not a {what}."); }
        if (r.BaseStream.Position != bytes.Length)
            throw new InvalidDataException($"Secure aggregation {what}: {bytes.Length - r.BaseStream.Position} unread bytes after the message; it is not a {what}.");
        return value;
    }
}
