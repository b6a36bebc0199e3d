using System.Buffers.Binary;
using System.Text;

namespace FedCoLLM.Cli.Fuzz;

/// <summary>
/// Seeded hostile inputs for a remoting port: pure garbage, well-framed random payloads, and mutations of real frames
/// captured from an Akka.Remote association (<see cref="FrameCapture"/>): bit flips, truncation, lying length prefixes,
/// spliced and repeated frames, and other protocols' greetings (HTTP, a TLS ClientHello). The same seed and corpus give
/// the same sequence, so a crash found by a long run is replayed by its seed.
/// </summary>
public sealed class FrameMutator(int seed, IReadOnlyList<byte[]> frames, bool bigEndian)
{
    readonly Random random = new(seed);

    /// <summary>Each case's kind, in the order they are drawn (a report counts them).</summary>
    public static readonly string[] Kinds =
        ["garbage", "random-frame", "bit-flips", "truncated", "lying-length", "spliced", "repeated", "foreign-protocol", "huge-length"];

    static readonly byte[][] Foreign =
    [
        Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        // The first bytes of a TLS 1.2 ClientHello: a TLS client meeting a plaintext port (or the reverse).
        [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03],
        Encoding.ASCII.GetBytes("\0\0\0\0"),
        Encoding.ASCII.GetBytes("akka.tcp://fedcollm@127.0.0.1:1/user/x"),
    ];

    public (string Kind, byte[] Bytes) Next()
    {
        var kind = Kinds[random.Next(Kinds.Length)];
        if (frames.Count == 0 && kind is not ("garbage" or "random-frame" or "foreign-protocol" or "huge-length")) kind = "garbage";
        return (kind, kind switch
        {
            "garbage" => Bytes(random.Next(0, 4096)),
            "random-frame" => Framed(Bytes(random.Next(0, 2048))),
            "bit-flips" => BitFlips(Pick()),
            "truncated" => Pick() is var f && f.Length > 1 ? f[..random.Next(1, f.Length)] : f,
            "lying-length" => LyingLength(Pick()),
            "spliced" => Pick() is var head ? [.. head[..(head.Length - Math.Min(4, head.Length / 2))], .. Pick()] : [],
            "repeated" => Enumerable.Repeat(Pick(), random.Next(2, 20)).SelectMany(b => b).ToArray(),
            "foreign-protocol" => Foreign[random.Next(Foreign.Length)],
            "huge-length" => Length(random.Next(2) == 0 ? int.MaxValue : random.Next(1 << 24, int.MaxValue)).Concat(Bytes(random.Next(0, 64))).ToArray(),
            _ => throw new InvalidOperationException(kind),
        });
    }

    byte[] Pick() => frames.Count == 0 ? [] : frames[random.Next(frames.Count)];

    byte[] Bytes(int n)
    {
        var b = new byte[n];
        random.NextBytes(b);
        return b;
    }

    byte[] BitFlips(byte[] frame)
    {
        var copy = (byte[])frame.Clone();
        if (copy.Length == 0) return copy;
        for (int i = random.Next(1, 9); i > 0; i--) copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        return copy;
    }

    byte[] LyingLength(byte[] frame)
    {
        if (frame.Length < 4) return frame;
        int real = frame.Length - 4;
        int lie = random.Next(5) switch { 0 => 0, 1 => real + 1, 2 => Math.Max(0, real - 1), 3 => -random.Next(1, int.MaxValue), _ => real * 16 };
        return [.. Length(lie), .. frame[4..]];
    }

    byte[] Framed(byte[] payload) => [.. Length(payload.Length), .. payload];

    byte[] Length(int n)
    {
        var b = new byte[4];
        if (bigEndian) BinaryPrimitives.WriteInt32BigEndian(b, n); else BinaryPrimitives.WriteInt32LittleEndian(b, n);
        return b;
    }
}
