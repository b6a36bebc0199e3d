using FedCoLLM.Learning.Data;

namespace FedCoLLM.Learning.Pretraining;

/// <summary>
/// Causal-LM pre-training data: every line tokenized and followed by EOS, all of it concatenated and cut into
/// sequences of one length, so batches need no padding. A sequence is expressed as a TokenizedExample whose
/// "prompt" is its first token and whose "answer" is the rest: the shared training loop then predicts every
/// token but the first.
/// </summary>
public static class CorpusPacking
{
    public static List<TokenizedExample> Pack(IEnumerable<string> lines, Func<string, int[]> encode, int eosId, int sequenceLength)
    {
        if (sequenceLength < 2) throw new ArgumentOutOfRangeException(nameof(sequenceLength), sequenceLength, "must be at least 2.");
        var stream = new List<int>();
        foreach (var line in lines)
        {
            if (line.Length == 0) continue;
            stream.AddRange(encode(line));
            stream.Add(eosId);
        }
        var result = new List<TokenizedExample>(stream.Count / sequenceLength);
        for (int start = 0; start + sequenceLength <= stream.Count; start += sequenceLength)
        {
            var ids = stream.GetRange(start, sequenceLength).ToArray();
            result.Add(new TokenizedExample(ids[..1], ids[1..]));
        }
        return result;
    }
}
