using FedCoLLM.Learning.Tokenization;

namespace FedCoLLM.Learning.Data;

/// <summary>
/// The one prompt format shared by training, teacher passes and evaluation — if they differ, teacher rows no
/// longer line up with answer positions. Default is lm-eval-harness's ARC style: prompt
/// "Question: {question}\nAnswer:" and continuation " {choice text}" (the leading space belongs to the answer).
/// Prompt and answer are tokenized as one text and split afterwards (<see cref="TextTokenizer.EncodePair"/>),
/// so SentencePiece's dummy prefix does not add a "▁" where they meet.
/// </summary>
public sealed record QaPromptFormat(string PromptTemplate = "Question: {question}\nAnswer:", string AnswerTemplate = " {answer}")
{
    public static QaPromptFormat Default { get; } = new();

    /// <summary>Reads a benchmark's prompt.json: <c>{"prompt": "… {question} …", "answer": " {answer}"}</c>.</summary>
    public static QaPromptFormat Load(string path)
    {
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))?.AsObject()
                   ?? throw new InvalidDataException($"'{path}' is empty; it should hold {{\"prompt\": \"… {{question}} …\", \"answer\": \" {{answer}}\"}}.");
        string Field(string name, string placeholder)
        {
            var value = json[name]?.GetValue<string>()
                        ?? throw new InvalidDataException($"'{path}' has no \"{name}\" field; add one containing {placeholder}.");
            if (!value.Contains(placeholder, StringComparison.Ordinal))
                throw new InvalidDataException($"'{path}': \"{name}\" = \"{value}\" lacks the {placeholder} placeholder.");
            return value;
        }
        return new QaPromptFormat(Field("prompt", "{question}"), Field("answer", "{answer}"));
    }

    public string Prompt(MultipleChoiceItem item) => PromptTemplate.Replace("{question}", item.Question, StringComparison.Ordinal);

    public string Answer(MultipleChoiceItem item, int choiceIndex)
    {
        if ((uint)choiceIndex >= (uint)item.Choices.Count)
            throw new ArgumentOutOfRangeException(nameof(choiceIndex), choiceIndex, $"item {item.Id} has {item.Choices.Count} choices.");
        return AnswerTemplate.Replace("{answer}", item.Choices[choiceIndex].Text, StringComparison.Ordinal);
    }

    /// <summary>Prompt ⊕ one choice, tokenized jointly by <paramref name="tokenizer"/> (with its BOS, if it adds one).</summary>
    public TokenizedExample Tokenize(MultipleChoiceItem item, int choiceIndex, TextTokenizer tokenizer)
    {
        var example = tokenizer.EncodePair(Prompt(item), Answer(item, choiceIndex));
        if (example.AnswerIds.Length == 0)
            throw new ArgumentException($"item {item.Id} choice {choiceIndex} tokenizes to no answer tokens; there is nothing to learn or score.", nameof(item));
        return example;
    }

    /// <summary>The supervised example: prompt ⊕ the correct answer.</summary>
    public TokenizedExample TrainingExample(MultipleChoiceItem item, TextTokenizer tokenizer) => Tokenize(item, item.AnswerIndex, tokenizer);
}
