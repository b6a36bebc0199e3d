using System.Text;
using FedCoLLM.Benchmarks.WordNet;

namespace FedCoLLM.Learning.Tests.Benchmarks;

public sealed class WordNetDataFileTests
{
    private const string Dog =
        "05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 002 @ 02083346 n 0000 #m 02083863 n 0000 | a member of the genus Canis; \"the dog barked all night\"";

    [Fact]
    public void Parser_reads_words_pointers_and_gloss_of_a_noun_line()
    {
        var synset = Assert.Single(WordNetDataFile.Parse(WordNetFixtures.FileName, WordNetFixtures.DataFile(Dog)));

        Assert.Equal(['n'], [synset.SynsetType]);
        Assert.Equal(["dog", "domestic_dog", "Canis_familiaris"], synset.Words);
        Assert.Equal(["dog", "domestic dog", "Canis familiaris"], synset.Lemmas);
        Assert.Equal(
            [new SynsetPointer("@", 2083346, 'n', 0, 0), new SynsetPointer("#m", 2083863, 'n', 0, 0)],
            synset.Pointers);
        Assert.Equal("a member of the genus Canis; \"the dog barked all night\"", synset.Gloss);
    }

    [Fact]
    public void Parser_skips_licence_header_lines_and_checks_offsets_against_byte_positions()
    {
        var bytes = WordNetFixtures.DataFile(Dog, "20 n 01 oak 0 000 | a tree of the genus Quercus");

        var synsets = WordNetDataFile.Parse(WordNetFixtures.FileName, bytes);

        Assert.Equal(2, synsets.Count);
        Assert.All(synsets, s => Assert.Equal(s.Offset.ToString("D8"), Encoding.ASCII.GetString(bytes, s.Offset, 8)));
    }

    [Theory]
    [InlineData("05", "noun.animal")]
    [InlineData("20", "noun.plant")]
    [InlineData("13", "noun.food")]
    [InlineData("08", "noun.body")]
    [InlineData("03", "noun.Tops")]
    public void Lex_filenum_names_the_lexicographer_domain(string lexFile, string domain)
    {
        var synset = Assert.Single(WordNetDataFile.Parse(WordNetFixtures.FileName, WordNetFixtures.DataFile($"{lexFile} n 01 thing 0 000 | a thing")));

        Assert.Equal(domain, synset.Domain);
    }

    [Fact]
    public void Gloss_splits_into_definition_and_quoted_examples()
    {
        var synset = WordNetFixtures.Noun(0, "noun.food", "a sweet; eaten after dinner; \"we had pie\"; \"pie again\"", "pie");

        Assert.Equal("a sweet; eaten after dinner", synset.Definition);
        Assert.Equal(["we had pie", "pie again"], synset.Examples);
    }

    [Theory]
    [InlineData("05 n 02 dog 0", "truncated line: missing word 2 of 2")]
    [InlineData("05 n 01 dog 0 001 @ 02083346", "truncated line: missing pos of pointer 1 of 1")]
    [InlineData("05 n 01 dog 0 000 a member", "expected '|' before the gloss")]
    [InlineData("05 n 0x dog 0 000 | a member", "bad w_cnt '0x'")]
    [InlineData("05 n 01 dog 0 00 | a member", "bad p_cnt '00'")]
    [InlineData("05 n 01 dog 0 002 @ 02083346 n 0000 | a member", "bad synset_offset 'a' in pointer 2 of 2")]
    [InlineData("99 n 01 dog 0 000 | a member", "bad lex_filenum '99'")]
    [InlineData("05 q 01 dog 0 000 | a member", "bad ss_type 'q'")]
    [InlineData("05 n 01 dog 0 001 @ 0208334x n 0000 | a member", "bad synset_offset '0208334x' in pointer 1 of 1")]
    public void Malformed_line_fails_naming_file_line_and_fault(string body, string problem)
    {
        var bytes = WordNetFixtures.DataFile("05 n 01 cat 0 000 | a feline", body);

        var error = Assert.Throws<WordNetFormatException>(() => WordNetDataFile.Parse(WordNetFixtures.FileName, bytes));

        Assert.Equal(WordNetFixtures.FileName, error.FileName);
        Assert.Equal(4, error.LineNumber); // two licence lines, the cat, then the malformed line
        Assert.StartsWith($"{WordNetFixtures.FileName} line 4: ", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Offset_that_is_not_the_byte_position_of_its_line_is_rejected()
    {
        var bytes = Encoding.ASCII.GetBytes("00000000 05 n 01 cat 0 000 | a feline\n00000001 05 n 01 dog 0 000 | a canine\n");

        var error = Assert.Throws<WordNetFormatException>(() => WordNetDataFile.Parse(WordNetFixtures.FileName, bytes));

        Assert.Equal(2, error.LineNumber);
        Assert.Contains("bad synset_offset 00000001: the line starts at byte 38", error.Message);
    }

    [Fact]
    public void Offset_that_is_not_eight_digits_is_rejected()
    {
        var error = Assert.Throws<WordNetFormatException>(
            () => WordNetDataFile.Parse(WordNetFixtures.FileName, Encoding.ASCII.GetBytes("0000 05 n 01 cat 0 000 | a feline\n")));

        Assert.Equal("data.test line 1: bad synset_offset '0000' (expected 8 decimal digits)", error.Message);
    }
}
