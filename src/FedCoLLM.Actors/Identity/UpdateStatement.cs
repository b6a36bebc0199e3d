using System.Buffers.Binary;
using System.Text;
using FedCoLLM.Actors.Blobs;

namespace FedCoLLM.Actors.Identity;

/// <summary>
/// What a client signs when it submits an update: job, round, attempt, client id, the adapter's content address and
/// n_k. The bytes are fixed here, independent of any serializer: a domain-separation tag (so a signature over an update
/// can never be taken for a signature over anything else these keys might sign), then each field in order, strings as
/// a 4-byte big-endian length and their UTF-8 bytes, integers as big-endian fixed width, the adapter as its 32-byte
/// SHA-256 and its 8-byte size. The server checks it before it accepts an update; <c>fedcollm audit</c> checks it again
/// from the journal.
/// </summary>
public sealed record UpdateStatement(string JobId, int Round, int Attempt, string ClientId, BlobRef Adapter, long SampleCount)
{
    /// <summary>Version 1 of the statement; a change of layout gets a new tag, never a new meaning of this one.</summary>
    public static readonly byte[] Domain = Encoding.ASCII.GetBytes("fedcollm/client-update/v1\0");

    public byte[] Bytes()
    {
        using var buffer = new MemoryStream();
        buffer.Write(Domain);
        String(buffer, JobId);
        Int(buffer, Round);
        Int(buffer, Attempt);
        String(buffer, ClientId);
        buffer.Write(Convert.FromHexString(Adapter.Sha256));
        Long(buffer, Adapter.Size);
        Long(buffer, SampleCount);
        return buffer.ToArray();
    }

    /// <summary>Whether <paramref name="signature"/> (base64, as journaled) is this statement signed by <paramref name="publicKey"/>
    /// (<see cref="ClientPublicKey"/> text).</summary>
    public bool IsSignedBy(string publicKey, string? signature)
    {
        if (signature is null) return false;
        byte[] raw;
        try { raw = Convert.FromBase64String(signature); }
        catch (FormatException) { return false; }
        return raw.Length == ClientPublicKey.Algorithm.SignatureSize
               && ClientPublicKey.Algorithm.Verify(ClientPublicKey.Parse(publicKey), Bytes(), raw);
    }

    public override string ToString() => $"job {JobId} round {Round} attempt {Attempt} client {ClientId} adapter {Adapter} n_k {SampleCount}";

    static void String(Stream s, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Int(s, bytes.Length);
        s.Write(bytes);
    }

    static void Int(Stream s, int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, value);
        s.Write(b);
    }

    static void Long(Stream s, long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(b, value);
        s.Write(b);
    }
}
