using FedCoLLM.Benchmarks.WordNet;

namespace FedCoLLM.Learning.Tests.Benchmarks;

public sealed class PretrainingCorpusTests
{
    [Fact]
    public void Corpus_states_definition_other_names_and_hypernyms_as_sentences()
    {
        var canine = WordNetFixtures.Noun(10, "noun.animal", "any of various fissiped mammals", "canine", "canid");
        var dog = WordNetFixtures.Noun(20, "noun.animal", "a member of the genus Canis; \"the dog barked\"", "dog", "domestic_dog") with
        {
            Pointers = [new SynsetPointer(SynsetPointer.Hypernym, 10, 'n', 0, 0)],
        };
        var paris = WordNetFixtures.Noun(30, "noun.location", "the capital and largest city of France", "Paris", "City_of_Light") with
        {
            Pointers = [new SynsetPointer(SynsetPointer.InstanceHypernym, 40, 'n', 0, 0)],
        };
        var capital = WordNetFixtures.Noun(40, "noun.location", "the capital city of a nation", "national_capital");

        var sentences = PretrainingCorpus.Sentences([paris, dog, capital, canine]).ToArray();

        Assert.Equal(
            [
                "A canine is any of various fissiped mammals.",
                "The name for any of various fissiped mammals is canine.",
                "A canine is also called canid.",
                "A dog is a member of the genus Canis.",
                "The name for a member of the genus Canis is dog.",
                "A dog is also called domestic dog.",
                "A dog is a kind of canine.",
                "Paris is the capital and largest city of France.",
                "The name for the capital and largest city of France is Paris.",
                "Paris is also called City of Light.",
                "Paris is a national capital.",
                "A national capital is the capital city of a nation.",
                "The name for the capital city of a nation is national capital.",
            ],
            sentences);
    }

    [Fact]
    public void Hypernym_already_named_in_the_definition_is_not_repeated()
    {
        var flash = WordNetFixtures.Noun(10, "noun.phenomenon", "a sudden intense burst of radiant energy", "flash");
        var flicker = WordNetFixtures.Noun(20, "noun.phenomenon", "a momentary flash of light", "flicker") with
        {
            Pointers = [new SynsetPointer(SynsetPointer.Hypernym, 10, 'n', 0, 0)],
        };

        Assert.DoesNotContain("A flicker is a kind of flash.", PretrainingCorpus.Sentences([flash, flicker]));
    }

    [Theory]
    [InlineData("elephant", true, "An elephant")]
    [InlineData("dog", false, "a dog")]
    [InlineData("Canis", true, "Canis")]
    public void Article_follows_the_first_letter_and_names_take_none(string lemma, bool sentenceStart, string expected)
    {
        Assert.Equal(expected, PretrainingCorpus.WithArticle(lemma, sentenceStart));
    }
}
