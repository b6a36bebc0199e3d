namespace FedCoLLM.Benchmarks.Tokenization;

/// <summary>
/// GPT-2's <c>bytes_to_unicode</c>: every byte gets a printable character, so byte-level BPE tokens are
/// ordinary strings (a space is "Ġ", a newline "Ċ"). Printable Latin-1 bytes map to themselves; the 68
/// others (controls, space, DEL, NBSP, soft hyphen, …) map to U+0100 onwards, in byte order.
/// </summary>
public static class ByteLevelAlphabet
{
    /// <summary>Bytes in GPT-2's order — also the ids of the 256 base tokens in vocab.json.</summary>
    public static IReadOnlyList<byte> BytesInTokenOrder { get; }

    private static readonly char[] CharOfByte = new char[256];

    static ByteLevelAlphabet()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;

        var order = new List<byte>(256);
        for (var b = 0; b < 256; b++)
        {
            if (Printable(b))
            {
                order.Add((byte)b);
                CharOfByte[b] = (char)b;
            }
        }

        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            if (!Printable(b))
            {
                order.Add((byte)b);
                CharOfByte[b] = (char)next++;
            }
        }

        BytesInTokenOrder = order;
    }

    public static char ToChar(byte value) => CharOfByte[value];
}
