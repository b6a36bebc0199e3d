using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Tokenization;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Benchmarking;

/// <summary>
/// A Hugging Face model directory (config.json, model.safetensors, vocab.json, merges.txt) of a
/// <see cref="BenchModelShape"/> with seeded random weights (GPT-2's pre-training initialisation), built once and
/// cached: <c>&lt;cache&gt;/&lt;shape&gt;-seed&lt;seed&gt;</c>. The directory appears by an atomic rename only when
/// complete, so an interrupted build is redone rather than read half-written.
/// </summary>
public static class RandomModelDirectory
{
    public static string Ensure(string cacheRoot, BenchModelShape shape, long seed)
    {
        var directory = Path.Combine(Path.GetFullPath(cacheRoot), $"{shape.Name}-seed{seed}");
        if (Directory.Exists(directory)) return directory;
        var building = directory + ".building-" + Environment.ProcessId;
        if (Directory.Exists(building)) Directory.Delete(building, recursive: true);
        Directory.CreateDirectory(building);
        manual_seed(seed);
        using (var model = new Gpt2Model(shape.Config))
        {
            model.InitializeForPretraining();
            PretrainedModels.Save(model, building);
        }
        Gpt2Vocabulary.WriteHuggingFaceFiles(building);
        try { Directory.Move(building, directory); }
        catch (IOException) when (Directory.Exists(directory)) { Directory.Delete(building, recursive: true); } // another process won the race
        return directory;
    }
}
