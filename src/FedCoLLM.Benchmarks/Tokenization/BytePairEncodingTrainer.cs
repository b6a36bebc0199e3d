using System.Text;
using System.Text.RegularExpressions;

namespace FedCoLLM.Benchmarks.Tokenization;

/// <summary>
/// Learns a GPT-2-style byte-level BPE. Text is cut into pre-tokens by GPT-2's regex, each pre-token is a
/// sequence of byte tokens, and the most frequent adjacent pair is merged until the vocabulary is full.
/// Deterministic: equal counts are broken by the ordinal order of (left, right) token strings.
/// </summary>
/// <remarks>
/// Fast on ~10 MB: pre-tokens are counted once, merges run on the table of distinct pre-tokens, pair counts
/// are updated incrementally for the words that contain the merged pair, and the best pair comes from a
/// max-heap with lazy deletion (a popped entry whose count is stale is skipped).
/// </remarks>
public static partial class BytePairEncodingTrainer
{
    public const int DefaultVocabularySize = 4096;

    /// <summary>GPT-2's pre-tokenisation pattern (contractions, letter runs, digit runs, symbol runs, whitespace).</summary>
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    public static partial Regex PreTokenizer();

    /// <summary>
    /// Trains on <paramref name="text"/> until the vocabulary holds <paramref name="vocabularySize"/> tokens
    /// (256 bytes + merges + <c>&lt;|endoftext|&gt;</c>), or until no adjacent pair is left to merge.
    /// </summary>
    public static BytePairEncoding Train(string text, int vocabularySize = DefaultVocabularySize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 257);
        return Train(CountPreTokens(text), vocabularySize);
    }

    /// <summary>Pre-token → occurrences, using GPT-2's pattern.</summary>
    public static Dictionary<string, long> CountPreTokens(string text)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var match in PreTokenizer().EnumerateMatches(text))
        {
            var piece = text.AsSpan(match.Index, match.Length);
            lookup[piece] = lookup.TryGetValue(piece, out var count) ? count + 1 : 1;
        }

        return counts;
    }

    /// <summary>Trains on pre-token counts (from <see cref="CountPreTokens"/>, possibly filtered: a pre-token left
    /// out takes no part in any merge, so its bytes stay separate tokens when text is encoded).</summary>
    public static BytePairEncoding Train(Dictionary<string, long> preTokens, int vocabularySize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 257);
        var tokens = new List<string>(vocabularySize);
        var idOfToken = new Dictionary<string, int>(StringComparer.Ordinal);
        var idOfByte = new int[256];
        foreach (var b in ByteLevelAlphabet.BytesInTokenOrder)
        {
            idOfByte[b] = tokens.Count;
            idOfToken.Add(ByteLevelAlphabet.ToChar(b).ToString(), tokens.Count);
            tokens.Add(ByteLevelAlphabet.ToChar(b).ToString());
        }

        // Distinct pre-tokens in ordinal order, so that word indices (and everything derived) are reproducible.
        var words = preTokens.Keys.Order(StringComparer.Ordinal).ToArray();
        var symbols = new int[words.Length][];
        var frequency = new long[words.Length];
        for (var w = 0; w < words.Length; w++)
        {
            symbols[w] = Encoding.UTF8.GetBytes(words[w]).Select(b => idOfByte[b]).ToArray();
            frequency[w] = preTokens[words[w]];
        }

        var pairCount = new Dictionary<long, long>();
        var wordsWithPair = new Dictionary<long, List<int>>();
        for (var w = 0; w < symbols.Length; w++)
        {
            var s = symbols[w];
            for (var i = 0; i + 1 < s.Length; i++)
            {
                var pair = Pair(s[i], s[i + 1]);
                pairCount[pair] = pairCount.GetValueOrDefault(pair) + frequency[w];
                IndexWord(wordsWithPair, pair, w);
            }
        }

        var heap = new PriorityQueue<long, (long Count, int Left, int Right)>(new BestPairFirst(tokens));
        foreach (var (pair, count) in pairCount)
        {
            heap.Enqueue(pair, (count, Left(pair), Right(pair)));
        }

        var merges = new List<(string, string)>();
        var lastVisit = new int[symbols.Length];
        Array.Fill(lastVisit, -1);
        while (tokens.Count < vocabularySize - 1 && heap.TryDequeue(out var best, out var entry))
        {
            if (pairCount.GetValueOrDefault(best) != entry.Count)
            {
                continue; // stale heap entry
            }

            var (left, right) = (Left(best), Right(best));
            var merged = tokens[left] + tokens[right];
            if (!idOfToken.TryGetValue(merged, out var mergedId))
            {
                // Two different pairs can spell the same string ("a"+"bc", "ab"+"c"); they share one id, as in HF tokenizers.
                mergedId = tokens.Count;
                tokens.Add(merged);
                idOfToken.Add(merged, mergedId);
            }

            merges.Add((tokens[left], tokens[right]));
            var delta = new Dictionary<long, long>();
            foreach (var w in wordsWithPair[best])
            {
                if (lastVisit[w] == merges.Count)
                {
                    continue; // the index lists a word once per occurrence of the pair
                }

                lastVisit[w] = merges.Count;
                var replaced = MergeInWord(symbols[w], left, right, mergedId);
                if (replaced is null)
                {
                    continue; // stale index entry: an earlier merge consumed the pair in this word
                }

                AddPairs(delta, symbols[w], -frequency[w]);
                AddPairs(delta, replaced, frequency[w]);
                symbols[w] = replaced;
                for (var i = 0; i + 1 < replaced.Length; i++)
                {
                    if (replaced[i] == mergedId || replaced[i + 1] == mergedId)
                    {
                        IndexWord(wordsWithPair, Pair(replaced[i], replaced[i + 1]), w);
                    }
                }
            }

            wordsWithPair.Remove(best);
            foreach (var (pair, change) in delta)
            {
                if (change == 0)
                {
                    continue;
                }

                var count = pairCount.GetValueOrDefault(pair) + change;
                if (count > 0)
                {
                    pairCount[pair] = count;
                    heap.Enqueue(pair, (count, Left(pair), Right(pair)));
                }
                else
                {
                    pairCount.Remove(pair);
                }
            }
        }

        tokens.Add(BytePairEncoding.EndOfText);
        return new BytePairEncoding(tokens, merges);
    }

    private static int[]? MergeInWord(int[] word, int left, int right, int merged)
    {
        List<int>? result = null;
        for (var i = 0; i < word.Length; i++)
        {
            if (i + 1 < word.Length && word[i] == left && word[i + 1] == right)
            {
                result ??= new List<int>(word.AsSpan(0, i).ToArray());
                result.Add(merged);
                i++;
            }
            else
            {
                result?.Add(word[i]);
            }
        }

        return result?.ToArray();
    }

    private static void AddPairs(Dictionary<long, long> delta, int[] word, long frequency)
    {
        for (var i = 0; i + 1 < word.Length; i++)
        {
            var pair = Pair(word[i], word[i + 1]);
            delta[pair] = delta.GetValueOrDefault(pair) + frequency;
        }
    }

    private static void IndexWord(Dictionary<long, List<int>> index, long pair, int word)
    {
        if (!index.TryGetValue(pair, out var list))
        {
            index[pair] = list = [];
        }

        list.Add(word);
    }

    private static long Pair(int left, int right) => ((long)left << 32) | (uint)right;

    private static int Left(long pair) => (int)(pair >> 32);

    private static int Right(long pair) => (int)(pair & 0xFFFF_FFFF);

    /// <summary>Higher count first; equal counts by ordinal order of the left, then the right token string.</summary>
    private sealed class BestPairFirst(List<string> tokens) : IComparer<(long Count, int Left, int Right)>
    {
        public int Compare((long Count, int Left, int Right) x, (long Count, int Left, int Right) y)
        {
            if (x.Count != y.Count)
            {
                return y.Count.CompareTo(x.Count);
            }

            var byLeft = string.CompareOrdinal(tokens[x.Left], tokens[y.Left]);
            return byLeft != 0 ? byLeft : string.CompareOrdinal(tokens[x.Right], tokens[y.Right]);
        }
    }
}
