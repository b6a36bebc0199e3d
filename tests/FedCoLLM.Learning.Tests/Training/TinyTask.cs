using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;

namespace FedCoLLM.Learning.Tests.Training;

/// <summary>The committed tiny GPT-2 with LoRA and a small, learnable prompt → answer task over its vocabulary.</summary>
static class TinyTask
{
    public static (CausalLanguageModel Model, LoraAdapter Adapter) ModelWithLora(string name = "gpt2-tiny", double dropout = 0.1, long seed = 7)
    {
        var model = PretrainedModels.Load(Fixtures.Reference(name), Fixtures.Cpu);
        var adapter = LoraAdapter.Apply(model, LoraConfig.ForModelType(model.Config.ModelType, rank: 4, alpha: 8, dropout: dropout), seed);
        return (model, adapter);
    }

    /// <summary>Answer = the prompt's first token repeated: learnable, with prompts of varied lengths.</summary>
    public static List<TokenizedExample> Examples(int count, int seed = 1, int vocab = 90)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var prompt = Enumerable.Range(0, random.Next(3, 9)).Select(_ => random.Next(1, vocab)).ToArray();
            return new TokenizedExample(prompt, [prompt[0], prompt[0]]);
        }).ToList();
    }
}
