namespace FedCoLLM.Learning.Lora;

/// <summary>
/// LoRA hyper-parameters (Hu et al. 2021), named after PEFT's <c>LoraConfig</c> fields
/// (<c>r</c>, <c>lora_alpha</c>, <c>lora_dropout</c>, <c>target_modules</c>). The update is
/// ΔW = (Alpha / Rank)·B·A. Whether a layer stores W as [in, out] (PEFT's <c>fan_in_fan_out</c>,
/// GPT-2's Conv1D) is a property of the layer, not of this record.
/// </summary>
public sealed record LoraConfig
{
    /// <summary>PEFT's <c>r</c>: the rank of A [r, in] and B [out, r].</summary>
    public int Rank { get; init; }

    /// <summary>PEFT's <c>lora_alpha</c>; the branch is scaled by Alpha / Rank.</summary>
    public double Alpha { get; init; }

    /// <summary>PEFT's <c>lora_dropout</c>, applied to the branch input while training.</summary>
    public double Dropout { get; init; }

    /// <summary>PEFT's <c>target_modules</c>: a module is adapted when its dotted path equals an
    /// entry or ends with "." + entry. Kept distinct and in ordinal order, because PEFT holds it as a
    /// set: order carries no meaning, and a canonical order makes equal configs serialize equally.</summary>
    public IReadOnlyList<string> TargetModules
    {
        get;
        init => field = (value ?? []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
    } = [];

    public LoraConfig(int rank, double alpha, double dropout, IReadOnlyList<string> targetModules)
    {
        Rank = rank;
        Alpha = alpha;
        Dropout = dropout;
        TargetModules = targetModules;
    }

    /// <summary>The modules PEFT adapts by default for a Hugging Face <c>model_type</c>
    /// (PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING, attention only).</summary>
    public static IReadOnlyList<string> DefaultTargets(string modelType) => modelType switch
    {
        "gpt2" => ["c_attn"],
        "llama" => ["q_proj", "k_proj", "v_proj", "o_proj"],
        _ => throw new ArgumentException(
            $"model_type \"{modelType}\" has no default LoRA target_modules; supported: \"gpt2\", \"llama\". Pass TargetModules explicitly.",
            nameof(modelType)),
    };

    /// <summary>A config adapting <see cref="DefaultTargets"/> of the model family.</summary>
    public static LoraConfig ForModelType(string modelType, int rank = 8, double alpha = 16, double dropout = 0.05) =>
        new(rank, alpha, dropout, DefaultTargets(modelType));

    public double Scaling => Alpha / Rank;

    /// <summary>PEFT's key match for a list of targets: exact name or a ".target" suffix.</summary>
    public bool Matches(string modulePath) =>
        TargetModules.Any(t => modulePath == t || modulePath.EndsWith("." + t, StringComparison.Ordinal));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid field.</summary>
    public LoraConfig Validate()
    {
        if (Rank < 1)
            throw new ArgumentException($"LoraConfig.Rank (r) = {Rank}; it must be at least 1.", nameof(Rank));
        if (!(Alpha > 0) || double.IsInfinity(Alpha))
            throw new ArgumentException($"LoraConfig.Alpha (lora_alpha) = {Alpha}; it must be a finite number > 0.", nameof(Alpha));
        if (!(Dropout >= 0 && Dropout < 1))
            throw new ArgumentException($"LoraConfig.Dropout (lora_dropout) = {Dropout}; it must be in [0, 1).", nameof(Dropout));
        if (TargetModules.Count == 0)
            throw new ArgumentException("LoraConfig.TargetModules (target_modules) is empty; name at least one module, e.g. \"c_attn\" for GPT-2 or \"q_proj\" for LLaMA.", nameof(TargetModules));
        foreach (var t in TargetModules)
            if (string.IsNullOrWhiteSpace(t) || t.StartsWith('.') || t.EndsWith('.'))
                throw new ArgumentException($"LoraConfig.TargetModules (target_modules) contains \"{t}\"; entries must be module names such as \"q_proj\" or dotted suffixes such as \"attn.c_attn\".", nameof(TargetModules));
        return this;
    }

    // Records compare lists by reference; a config is a value, so compare the targets' contents.
    public bool Equals(LoraConfig? other) =>
        other is not null && Rank == other.Rank && Alpha.Equals(other.Alpha) && Dropout.Equals(other.Dropout)
        && TargetModules.SequenceEqual(other.TargetModules, StringComparer.Ordinal);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Rank); h.Add(Alpha); h.Add(Dropout);
        foreach (var t in TargetModules) h.Add(t, StringComparer.Ordinal);
        return h.ToHashCode();
    }

    public override string ToString() =>
        $"LoraConfig {{ Rank = {Rank}, Alpha = {Alpha}, Dropout = {Dropout}, TargetModules = [{string.Join(", ", TargetModules)}] }}";
}
