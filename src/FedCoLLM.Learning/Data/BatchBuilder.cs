using static TorchSharp.torch;

namespace FedCoLLM.Learning.Data;

/// <summary>
/// Builds right-padded <see cref="Batch"/>es: input ids (pad = <see cref="PadId"/>), attention mask (1 on tokens),
/// labels (answer token ids; -100 on prompt and padding). With <see cref="MaxLength"/>, an over-long example loses
/// prompt tokens from the LEFT; the answer is never cut (the loss and the teacher rows live there).
/// </summary>
public sealed record BatchBuilder(int PadId, int? MaxLength = null)
{
    /// <summary>The example as it will sit in a batch: prompt cut from the left to fit <see cref="MaxLength"/>.</summary>
    public TokenizedExample Fit(TokenizedExample example, int exampleIndex = -1)
    {
        if (MaxLength is not int max || example.Length <= max) return example;
        // At least one prompt token must stay: the last prompt position is what predicts the first answer token.
        if (example.AnswerIds.Length >= max)
            throw new ArgumentException(
                $"Example {exampleIndex}: its answer alone has {example.AnswerIds.Length} tokens, but MaxLength = {max} must leave room for at least one prompt token; raise MaxLength or drop the example.",
                nameof(example));
        int keep = max - example.AnswerIds.Length;
        return example with { PromptIds = example.PromptIds[^keep..] };
    }

    /// <summary>Lengths after <see cref="Fit"/>, e.g. for <see cref="BatchPlan.LengthBucketed"/>.</summary>
    public int[] FittedLengths(IReadOnlyList<TokenizedExample> examples) =>
        examples.Select((e, i) => Fit(e, i).Length).ToArray();

    /// <summary>One batch of <paramref name="examples"/>[indices], rows in the order of <paramref name="indices"/>.</summary>
    public Batch Build(IReadOnlyList<TokenizedExample> examples, IReadOnlyList<int> indices)
    {
        if (indices.Count == 0) throw new ArgumentException("A batch needs at least one example.", nameof(indices));
        var rows = indices.Select(i => Fit(examples[i], i)).ToArray();
        int b = rows.Length, t = rows.Max(r => r.Length);
        if (t == 0) throw new ArgumentException($"Examples [{string.Join(", ", indices)}] are all empty.", nameof(indices));

        var ids = new long[b * t];
        var mask = new long[b * t];
        var labels = new long[b * t];
        Array.Fill(ids, PadId);
        Array.Fill(labels, Batch.IgnoreIndex);
        for (int r = 0; r < b; r++)
        {
            int o = r * t, p = rows[r].PromptIds.Length;
            for (int j = 0; j < p; j++) { ids[o + j] = rows[r].PromptIds[j]; mask[o + j] = 1; }
            for (int j = 0; j < rows[r].AnswerIds.Length; j++)
            {
                ids[o + p + j] = rows[r].AnswerIds[j];
                mask[o + p + j] = 1;
                labels[o + p + j] = rows[r].AnswerIds[j];
            }
        }
        return new Batch(tensor(ids, [b, t]), tensor(mask, [b, t]), tensor(labels, [b, t]), indices.ToArray());
    }

    /// <summary>Batches in the given plan's order (lazily; dispose each batch after use).</summary>
    public IEnumerable<Batch> Batches(IReadOnlyList<TokenizedExample> examples, IEnumerable<int[]> plan)
    {
        foreach (var indices in plan) yield return Build(examples, indices);
    }
}
