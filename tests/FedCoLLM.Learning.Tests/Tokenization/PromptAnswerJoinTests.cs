using System.Text.Json.Nodes;
using FedCoLLM.Learning.Data;
using FedCoLLM.Learning.Tokenization;

namespace FedCoLLM.Learning.Tests.Tokenization;

/// <summary>
/// Prompt ⊕ answer ids against Python sentencepiece's encoding of the joined text (tests/fixtures/sentencepiece-join.json,
/// written by make_fixtures.py with the llama-slm tokenizer.model), the BOS policy, and GPT-2's unchanged ids.
/// </summary>
public class PromptAnswerJoinTests
{
    sealed record Case(string Prompt, string Answer, int[] Ids, int[] AnswerIds, int[] AnswerAloneIds);

    static readonly string Llama = Fixtures.Fixture("llama-slm");
    static readonly Case[] Cases = LoadCases();

    static Case[] LoadCases()
    {
        var json = JsonNode.Parse(File.ReadAllText(Fixtures.Fixture("sentencepiece-join.json")))!;
        int[] Ids(JsonNode node) => node.AsArray().Select(i => i!.GetValue<int>()).ToArray();
        return json["cases"]!.AsArray().Select(c => new Case(c!["prompt"]!.GetValue<string>(), c["answer"]!.GetValue<string>(),
            Ids(c["ids"]!), Ids(c["answer_ids"]!), Ids(c["answer_alone_ids"]!))).ToArray();
    }

    static int[] Joined(TokenizedExample e) => [.. e.PromptIds, .. e.AnswerIds];

    [Fact]
    public void With_add_bos_token_the_ids_are_BOS_then_Python_ids_of_the_joined_text()
    {
        var tokenizer = TokenizerFiles.Load(Llama);   // tokenizer_config.json: add_bos_token true
        Assert.Equal(1, tokenizer.BosId);
        foreach (var c in Cases)
        {
            var e = tokenizer.EncodePair(c.Prompt, c.Answer);
            Assert.Equal([1, .. c.Ids], Joined(e));
            Assert.Equal(c.AnswerIds, e.AnswerIds);
        }
    }

    [Fact]
    public void Without_add_bos_token_the_ids_are_Python_ids_of_the_joined_text()
    {
        using var dir = new TempDirectory();
        File.Copy(Path.Combine(Llama, TokenizerFiles.SentencePieceModel), Path.Combine(dir.Path, TokenizerFiles.SentencePieceModel));
        File.WriteAllText(Path.Combine(dir.Path, TokenizerFiles.TokenizerConfig), """{"add_bos_token": false}""");
        var tokenizer = TokenizerFiles.Load(dir.Path);
        Assert.Null(tokenizer.BosId);
        foreach (var c in Cases)
        {
            var e = tokenizer.EncodePair(c.Prompt, c.Answer);
            Assert.Equal(c.Ids, Joined(e));
            Assert.Equal(c.AnswerIds, e.AnswerIds);
        }
    }

    [Fact]
    public void Encoding_the_answer_on_its_own_gives_other_ids_as_in_Python()
    {
        // What the separate encoding used to train on: Python agrees that " Paris" alone starts with an extra "▁".
        var tokenizer = TokenizerFiles.Load(Llama);
        foreach (var c in Cases) Assert.Equal(c.AnswerAloneIds, tokenizer.Encode(c.Answer));
        Assert.Contains(Cases, c => !c.AnswerAloneIds.SequenceEqual(c.AnswerIds));
    }

    [Fact]
    public void SentencePiece_without_tokenizer_config_adds_BOS_as_LlamaTokenizer_does_by_default()
    {
        Assert.Equal(1, TokenizerFiles.Load(Fixtures.Tokenizer("sentencepiece")).BosId);
    }

    [Fact]
    public void A_config_bos_token_id_other_than_the_tokenizers_is_refused()
    {
        using var dir = new TempDirectory();
        File.Copy(Path.Combine(Llama, TokenizerFiles.SentencePieceModel), Path.Combine(dir.Path, TokenizerFiles.SentencePieceModel));
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), """{"model_type": "llama", "bos_token_id": 5}""");
        var error = Assert.Throws<InvalidDataException>(() => TokenizerFiles.Load(dir.Path));
        Assert.Contains("bos_token_id 5", error.Message);
    }

    [Fact]
    public void GPT2_ids_of_the_committed_WordNet_training_and_test_sets_are_the_separate_encodings_as_before()
    {
        // The built-in models were trained on prompt and answer encoded apart; the joint split must not move one id.
        // Checked: every training and public question with its gold answer, every test question with every choice.
        string root = Fixtures.RepositoryRoot(), data = Path.Combine(root, "data", "wordnet");
        var tokenizer = TokenizerFiles.Load(Path.Combine(root, "models", "wordnet-slm"));
        var format = QaPromptFormat.Load(Path.Combine(data, "prompt.json"));
        int pairs = 0;
        foreach (var file in Directory.EnumerateFiles(data, "*.jsonl", SearchOption.AllDirectories).Where(f => !f.EndsWith("validation.jsonl")))
            foreach (var item in MultipleChoiceJsonl.Load(file))
                foreach (int c in file.EndsWith("test.jsonl") ? Enumerable.Range(0, item.Choices.Count) : [item.AnswerIndex])
                {
                    pairs++;
                    var e = format.Tokenize(item, c, tokenizer);
                    if (!e.PromptIds.SequenceEqual(tokenizer.Encode(format.Prompt(item))) || !e.AnswerIds.SequenceEqual(tokenizer.Encode(format.Answer(item, c))))
                        Assert.Fail($"{file}: item {item.Id} choice {c} tokenizes differently when prompt and answer are joined.");
                }
        Assert.True(pairs > 15_000, $"only {pairs} prompt/answer pairs found under {data}");
    }
}
