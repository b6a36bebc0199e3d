using System.Text.Json.Nodes;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Evaluation;
using FedCoLLM.Learning.Federation;
using FedCoLLM.Learning.Lora;
using FedCoLLM.Learning.Models;
using FedCoLLM.Learning.Tokenization;
using static TorchSharp.torch;

namespace FedCoLLM.Learning.Tests;

/// <summary>
/// The Hugging Face-layout pairs under tests/fixtures — written by make_fixtures.py, not by our own saver — load, share
/// a tokenizer, run a forward pass, and score the ARC-style files there, for both model families.
/// </summary>
public class BringYourOwnModelTests
{
    static readonly string[] ArcFiles = ["clients/acme/train.jsonl", "clients/globex/train.jsonl", "public.jsonl", "test.jsonl"];
    static readonly string[] TokenizerFileNames =
        [TokenizerFiles.Gpt2Vocabulary, TokenizerFiles.Gpt2Merges, TokenizerFiles.SentencePieceModel, TokenizerFiles.TokenizerConfig];

    static string Slm(string family) => Fixtures.Fixture($"{family}-slm");
    static string Llm(string family) => Fixtures.Fixture($"{family}-llm");
    static string Arc(string file) => Path.Combine(Fixtures.Fixture("arc-style"), file);

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void Both_models_of_a_pair_load_and_the_LLM_is_the_larger(string family)
    {
        using var slm = PretrainedModels.Load(Slm(family), Fixtures.Cpu);
        using var llm = PretrainedModels.Load(Llm(family), Fixtures.Cpu);
        Assert.Equal(family, slm.Config.ModelType);
        Assert.Equal(family, llm.Config.ModelType);
        Assert.Equal(slm.VocabSize, llm.VocabSize);
        Assert.True(llm.parameters().Sum(p => p.numel()) > slm.parameters().Sum(p => p.numel()));
    }

    [Theory]
    [InlineData("llama", 1)]
    [InlineData("gpt2", null)]
    public void The_SLM_and_the_LLM_share_one_tokenizer_and_its_BOS_policy(string family, int? bos)
    {
        foreach (var file in TokenizerFileNames)
        {
            string a = Path.Combine(Slm(family), file), b = Path.Combine(Llm(family), file);
            Assert.Equal(File.Exists(a), File.Exists(b));
            if (File.Exists(a)) Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        }
        TextTokenizer slm = TokenizerFiles.Load(Slm(family)), llm = TokenizerFiles.Load(Llm(family));
        Assert.Equal(bos, slm.BosId);
        Assert.Equal(bos, llm.BosId);
        Assert.True(slm.VocabSize <= PretrainedModels.ReadConfig(Slm(family)).VocabSize);
        var item = MultipleChoiceJsonl.Load(Arc("test.jsonl"))[0];
        var (x, y) = (QaPromptFormat.Default.TrainingExample(item, slm), QaPromptFormat.Default.TrainingExample(item, llm));
        Assert.Equal(x.PromptIds, y.PromptIds);
        Assert.Equal(x.AnswerIds, y.AnswerIds);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void A_forward_pass_over_an_ARC_style_question_gives_finite_logits(string family)
    {
        var item = MultipleChoiceJsonl.Load(Arc("test.jsonl"))[0];
        foreach (var directory in new[] { Slm(family), Llm(family) })
        {
            using var model = PretrainedModels.Load(directory, Fixtures.Cpu);
            var example = QaPromptFormat.Default.TrainingExample(item, TokenizerFiles.Load(directory));
            long[] ids = [.. example.PromptIds.Select(i => (long)i), .. example.AnswerIds.Select(i => (long)i)];
            using var input = tensor(ids).unsqueeze(0);
            using var logits = Fixtures.Logits(model, input, ones_like(input));
            Assert.Equal([1L, ids.Length, model.VocabSize], logits.shape);
            Assert.True(isfinite(logits).all().item<bool>());
        }
    }

    [Fact]
    public void The_ARC_style_files_load_in_the_AI2_schema_with_letter_and_number_labels()
    {
        foreach (var file in ArcFiles)
        {
            var items = MultipleChoiceJsonl.Load(Arc(file));
            Assert.Equal(24, items.Count);
            Assert.Contains(items, i => i.Choices[0].Label == "A");
            Assert.Contains(items, i => i.Choices[0].Label == "1");
            // The parsed answer is the choice whose label is the line's answerKey, numeric keys included.
            var keys = File.ReadLines(Arc(file)).Select(l => JsonNode.Parse(l)!["answerKey"]!.GetValue<string>()).ToList();
            Assert.Equal(keys, items.Select(i => i.Answer.Label));
        }
    }

    [Theory]
    [InlineData("llama", "q_proj", "v_proj")]
    [InlineData("gpt2", "c_attn", "c_proj")]
    public void FederationSteps_scores_the_ARC_style_test_set_as_the_evaluator_scores_the_base_model(string family, params string[] targets)
    {
        var lora = new LoraConfig(rank: 4, alpha: 8, dropout: 0.05, targets);
        var setup = FederationSetup.Default(Slm(family), Llm(family), QaPromptFormat.Default) with
        {
            SlmLora = lora,
            LlmLora = lora,
            Compute = new ComputeOptions(Threads: 1),
        };
        using var steps = new FederationSteps(setup);
        var items = MultipleChoiceJsonl.Load(Arc("test.jsonl"));
        foreach (var (kind, directory) in new[] { (ModelKind.Slm, Slm(family)), (ModelKind.Llm, Llm(family)) })
        {
            var result = steps.Evaluate(kind, steps.InitialAdapter(kind, seed: 1), Arc("test.jsonl"));
            Assert.Equal(24, result.Total);
            // A fresh adapter has B = 0, so the federation's score is the base model's.
            using var model = PretrainedModels.Load(directory, Fixtures.Cpu);
            var questions = MultipleChoiceEvaluator.Prepare(items, QaPromptFormat.Default, TokenizerFiles.Load(directory));
            Assert.Equal(MultipleChoiceEvaluator.Evaluate(model, questions, setup.EvalBatchSize, setup.MaxLength, Fixtures.Cpu), result);
        }
    }
}
