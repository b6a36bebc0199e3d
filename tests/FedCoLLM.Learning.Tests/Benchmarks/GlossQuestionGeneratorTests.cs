using System.Text.Json;
using FedCoLLM.Benchmarks.MultipleChoice;
using FedCoLLM.Benchmarks.WordNet;

namespace FedCoLLM.Learning.Tests.Benchmarks;

public sealed class GlossQuestionGeneratorTests
{
    private static readonly Synset Dog = WordNetFixtures.Noun(100, "noun.animal", "a domesticated carnivore; \"the dog barked\"", "dog", "domestic_dog", "Canis_familiaris");

    // Same domain: a second "dog" sense (must never be a distractor text), and plenty of other animals.
    private static readonly Synset[] Animals =
    [
        Dog,
        WordNetFixtures.Noun(200, "noun.animal", "a dull unattractive unpleasant girl or woman", "dog", "frump"),
        WordNetFixtures.Noun(300, "noun.animal", "feline mammal usually having thick soft fur", "cat", "true_cat"),
        WordNetFixtures.Noun(400, "noun.animal", "a large wild pig", "boar"),
        WordNetFixtures.Noun(500, "noun.animal", "a large feline of forested areas", "tiger"),
        WordNetFixtures.Noun(600, "noun.animal", "any of several rodents", "rat"),
        WordNetFixtures.Noun(700, "noun.animal", "small rodent", "mouse"),
    ];

    private static readonly Synset[] Plants =
    [
        WordNetFixtures.Noun(800, "noun.plant", "a tree of the genus Quercus", "oak"),
        WordNetFixtures.Noun(900, "noun.plant", "a showy flower", "rose"),
    ];

    private static readonly GlossQuestionGenerator Generator = new(Animals.Concat(Plants));

    [Fact]
    public void Question_stem_is_the_definition_and_the_answer_is_the_head_lemma()
    {
        var question = Generator.Generate(Dog, seed: 1);

        Assert.Equal("a domesticated carnivore", question.Stem);
        Assert.Equal("dog", question.AnswerText);
        Assert.Equal("wn-noun.animal-00000100", question.Id);
    }

    [Fact]
    public void Question_has_four_distinct_choices_labelled_A_to_D()
    {
        foreach (var seed in Enumerable.Range(0, 50))
        {
            var question = Generator.Generate(Dog, seed);

            Assert.Equal(["A", "B", "C", "D"], question.Choices.Select(c => c.Label));
            Assert.Equal(4, question.Choices.Select(c => c.Text).Distinct(StringComparer.OrdinalIgnoreCase).Count());
        }
    }

    [Fact]
    public void Distractors_are_head_lemmas_of_other_synsets_in_the_same_domain_never_a_lemma_of_the_answer()
    {
        var otherAnimals = Animals.Where(s => s.Offset != Dog.Offset).Select(s => s.HeadLemma).ToHashSet();
        foreach (var seed in Enumerable.Range(0, 50))
        {
            var question = Generator.Generate(Dog, seed);
            var distractors = question.Choices.Where(c => c.Label != question.AnswerKey).Select(c => c.Text).ToArray();

            Assert.Equal(3, distractors.Length);
            Assert.All(distractors, text => Assert.Contains(text, otherAnimals));
            Assert.All(distractors, text => Assert.DoesNotContain(text, Dog.Lemmas, StringComparer.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public void Answer_position_is_spread_over_all_four_labels()
    {
        var keys = Enumerable.Range(0, 200).Select(seed => Generator.Generate(Dog, seed).AnswerKey).ToHashSet();

        Assert.Equal(["A", "B", "C", "D"], keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Same_seed_gives_the_same_question()
    {
        Assert.Equal(Ai2JsonlWriter.ToJson(Generator.Generate(Dog, 7)), Ai2JsonlWriter.ToJson(new GlossQuestionGenerator(Animals).Generate(Dog, 7)));
    }

    [Theory]
    [InlineData("an Apple Pie served with cream", "apple_pie", false)]
    [InlineData("a Pie of any kind", "pie", false)]
    [InlineData("dish baked in pastry", "pie", true)]
    [InlineData("a piece of pieces", "pie", true)]
    public void Synset_whose_definition_contains_its_own_lemma_is_not_askable(string definition, string word, bool askable)
    {
        var synset = WordNetFixtures.Noun(1, "noun.food", definition, word);

        Assert.Equal(askable, new GlossQuestionGenerator([synset]).IsAskable(synset));
    }

    [Fact]
    public void Synset_whose_definition_another_synset_shares_is_not_askable()
    {
        var protist = WordNetFixtures.Noun(1, "noun.animal", "a genus of protoctist", "Paramecium");
        var other = WordNetFixtures.Noun(2, "noun.animal", "A genus of protoctist", "Tetrahymena");

        Assert.False(new GlossQuestionGenerator([protist, other]).IsAskable(protist));
        Assert.True(new GlossQuestionGenerator([protist]).IsAskable(protist));
    }

    [Fact]
    public void Question_is_written_in_the_AI2_jsonl_schema()
    {
        var question = Generator.Generate(Dog, seed: 3);
        using var stream = new MemoryStream();

        Ai2JsonlWriter.Write(stream, [question, question]);

        var lines = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("", lines[2]);
        using var json = JsonDocument.Parse(lines[0]);
        var root = json.RootElement;
        Assert.Equal(["id", "question", "answerKey"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(question.Id, root.GetProperty("id").GetString());
        Assert.Equal("a domesticated carnivore", root.GetProperty("question").GetProperty("stem").GetString());
        var choices = root.GetProperty("question").GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal(question.Choices.Select(c => c.Label), choices.Select(c => c.GetProperty("label").GetString()));
        Assert.Equal(question.Choices.Select(c => c.Text), choices.Select(c => c.GetProperty("text").GetString()));
        Assert.Equal(question.AnswerKey, root.GetProperty("answerKey").GetString());
    }
}
