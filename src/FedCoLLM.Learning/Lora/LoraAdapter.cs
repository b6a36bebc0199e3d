using FedCoLLM.Learning.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Lora;

/// <summary>Parameter counts as PEFT's <c>print_trainable_parameters</c> reports them
/// (the total includes the LoRA matrices).</summary>
public readonly record struct ParameterCount(long Trainable, long Total)
{
    public double TrainableFraction => Total == 0 ? 0 : (double)Trainable / Total;
    public override string ToString() => $"trainable params: {Trainable:N0} || all params: {Total:N0} || trainable%: {100 * TrainableFraction:0.####}";
}

/// <summary>
/// A LoRA adapter attached to a model: the config, the adapted Projections in module order, and
/// the PEFT names of their A and B matrices (<c>base_model.model.&lt;path&gt;.lora_A.weight</c>).
/// Works on any module tree whose linear maps are <see cref="Projection"/>s.
/// </summary>
public sealed class LoraAdapter
{
    /// <summary>PEFT's PeftModel → LoraModel wrapping adds this prefix to every key.</summary>
    public const string PeftKeyPrefix = "base_model.model.";

    public LoraConfig Config { get; }
    public IReadOnlyList<(string Path, Projection Layer)> Layers { get; }

    /// <summary>True when a targeted layer stores W as [in, out] (GPT-2's Conv1D): PEFT's
    /// <c>fan_in_fan_out</c>. PEFT forces it per layer, so it is a property of the model.</summary>
    public bool FanInFanOut => Layers.Any(l => l.Layer.WeightIsInputMajor);

    readonly nn.Module model;

    LoraAdapter(nn.Module model, LoraConfig config, IReadOnlyList<(string, Projection)> layers)
    {
        this.model = model;
        Config = config;
        Layers = layers;
    }

    /// <summary>Adds a LoRA branch to every Projection whose path matches
    /// <see cref="LoraConfig.TargetModules"/>, drawing each A in module order from a generator
    /// seeded with <paramref name="seed"/> (B = 0, so outputs are unchanged), and freezes every other
    /// parameter of <paramref name="model"/> (PEFT's bias = "none").</summary>
    public static LoraAdapter Apply(nn.Module model, LoraConfig config, long seed)
    {
        config.Validate();
        var all = ProjectionsOf(model);
        var targets = all.Where(p => config.Matches(p.Path)).ToList();
        if (targets.Count == 0)
        {
            var sample = all.Take(8).Select(p => p.Path).ToList();
            throw new ArgumentException(all.Count == 0
                ? $"LoraConfig.TargetModules [{string.Join(", ", config.TargetModules)}] match no module: the model has no Projection layers."
                : $"LoraConfig.TargetModules [{string.Join(", ", config.TargetModules)}] match none of the model's {all.Count} projections, e.g. "
                  + string.Join(", ", sample) + (all.Count > sample.Count ? ", …" : "")
                  + ". Use module names or dotted suffixes of these paths (e.g. \"" + sample[0].Split('.')[^1] + "\").",
                nameof(config));
        }
        var already = targets.FirstOrDefault(p => p.Layer.HasLora);
        if (already.Layer is not null)
            throw new InvalidOperationException($"Module '{already.Path}' already carries a LoRA branch; apply LoRA once per model.");

        using var generator = new Generator(unchecked((ulong)seed));
        foreach (var (_, layer) in targets)
            layer.AddLora(config.Rank, config.Alpha, config.Dropout, generator);
        var adapter = new LoraAdapter(model, config, targets);
        adapter.FreezeBase();
        return adapter;
    }

    /// <summary>Every Projection of a module tree with its dotted path, in module order.</summary>
    public static IReadOnlyList<(string Path, Projection Layer)> ProjectionsOf(nn.Module model) =>
        model is CausalLanguageModel lm
            ? lm.Projections().ToList()
            : model.named_modules().Where(m => m.module is Projection).Select(m => (m.name, (Projection)m.module)).ToList();

    void FreezeBase()
    {
        foreach (var p in model.parameters()) p.requires_grad = false;
        foreach (var (_, p) in NamedParameters()) p.requires_grad = true;
    }

    public static string KeyA(string path) => PeftKeyPrefix + path + ".lora_A.weight";
    public static string KeyB(string path) => PeftKeyPrefix + path + ".lora_B.weight";

    /// <summary>The LoRA matrices with their PEFT keys, in module order, A before B.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters()
    {
        foreach (var (path, layer) in Layers)
        {
            yield return (KeyA(path), layer.LoraA!.weight!);
            yield return (KeyB(path), layer.LoraB!.weight!);
        }
    }

    /// <summary>What an optimizer should update: the A and B matrices only.</summary>
    public IReadOnlyList<Parameter> TrainableParameters() => NamedParameters().Select(p => p.Parameter).ToList();

    /// <summary>The expected shape of every key: A [r, in], B [out, r] (also for Conv1D layers).</summary>
    public IReadOnlyDictionary<string, long[]> ExpectedShapes()
    {
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (path, layer) in Layers)
        {
            shapes[KeyA(path)] = [Config.Rank, layer.InFeatures];
            shapes[KeyB(path)] = [layer.OutFeatures, Config.Rank];
        }
        return shapes;
    }

    public ParameterCount CountParameters()
    {
        long trainable = 0, total = 0;
        foreach (var p in model.parameters())
        {
            total += p.numel();
            if (p.requires_grad) trainable += p.numel();
        }
        return new ParameterCount(trainable, total);
    }

    /// <summary>Folds every branch into its base weight (inference); <see cref="UnmergeAll"/> undoes it.</summary>
    public void MergeAll() { foreach (var (_, l) in Layers) l.Merge(); }
    public void UnmergeAll() { foreach (var (_, l) in Layers) l.Unmerge(); }
    public bool IsMerged => Layers.Any(l => l.Layer.IsMerged);

    /// <summary>A snapshot of A and B as plain float32 data.</summary>
    public AdapterWeights Export() =>
        new(NamedParameters().Select(p => AdapterTensor.FromTensor(p.Name, p.Parameter)));

    /// <summary>Overwrites A and B with <paramref name="weights"/> after checking that its keys are
    /// exactly this adapter's keys and every shape matches. Nothing is written if a check fails.</summary>
    public void Load(AdapterWeights weights, string source = "adapter")
    {
        if (IsMerged)
            throw new InvalidOperationException($"Cannot load {source} into a merged model: the merged base weights would keep the old update. Call UnmergeAll() first.");
        CheckCompatible(weights, source);
        using var _ = no_grad();
        foreach (var (name, p) in NamedParameters())
        {
            using var t = weights[name].ToTensor();
            p.copy_(t);
        }
    }

    /// <summary>Throws <see cref="InvalidDataException"/> naming the first missing, unexpected or
    /// mis-shaped key.</summary>
    public void CheckCompatible(AdapterWeights weights, string source = "adapter")
    {
        var expected = ExpectedShapes();
        foreach (var (name, shape) in expected.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (!weights.Contains(name))
                throw new InvalidDataException(
                    $"{source} lacks key '{name}' (expected shape {AdapterTensor.ShapeText(shape)}). It was saved for other target_modules "
                    + $"or another model; apply LoRA with the adapter's own target_modules or re-export it for [{string.Join(", ", Config.TargetModules)}].");
            var actual = weights[name].Shape;
            if (!actual.SequenceEqual(shape))
            {
                bool isA = name.EndsWith(".lora_A.weight", StringComparison.Ordinal);
                long fileRank = actual.Length == 2 ? (isA ? actual[0] : actual[1]) : -1;
                var hint = fileRank > 0 && fileRank != Config.Rank
                    ? $"it was trained with r = {fileRank}, not r = {Config.Rank}; apply LoRA with Rank = {fileRank}"
                    : "it was trained for a model with other layer sizes; load it into the model it was trained for";
                throw new InvalidDataException(
                    $"{source} key '{name}' has shape {AdapterTensor.ShapeText(actual)} but this model expects {AdapterTensor.ShapeText(shape)}: {hint}.");
            }
        }
        var extra = weights.Names.FirstOrDefault(n => !expected.ContainsKey(n));
        if (extra is not null)
            throw new InvalidDataException(
                $"{source} has key '{extra}' but this model has no such LoRA matrix (targets [{string.Join(", ", Config.TargetModules)}]). "
                + "Apply LoRA with the adapter's target_modules, or load it into the model it was trained for.");
    }
}
