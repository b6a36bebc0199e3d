using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FedCoLLM.Benchmarks.Tokenization;

/// <summary>
/// A trained byte-level BPE vocabulary in GPT-2's form: tokens by id (256 byte tokens, then merge results,
/// then <c>&lt;|endoftext|&gt;</c>) and merges by rank. <see cref="Save"/> writes GPT-2's vocab.json and merges.txt.
/// </summary>
public sealed record BytePairEncoding(IReadOnlyList<string> Tokens, IReadOnlyList<(string Left, string Right)> Merges)
{
    public const string EndOfText = "<|endoftext|>";
    public const string VocabularyFileName = "vocab.json";
    public const string MergesFileName = "merges.txt";

    /// <summary>Writes <c>vocab.json</c> and <c>merges.txt</c> into <paramref name="directory"/>.</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        using (var vocabulary = File.Create(Path.Combine(directory, VocabularyFileName)))
        {
            WriteVocabulary(vocabulary);
        }

        using var merges = File.Create(Path.Combine(directory, MergesFileName));
        WriteMerges(merges);
    }

    /// <summary>vocab.json: one JSON object token → id, in id order, UTF-8 without BOM, "\n" newlines.</summary>
    public void WriteVocabulary(Stream stream)
    {
        var options = new JsonWriterOptions { Indented = true, NewLine = "\n", Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var writer = new Utf8JsonWriter(stream, options))
        {
            writer.WriteStartObject();
            for (var id = 0; id < Tokens.Count; id++)
            {
                writer.WriteNumber(Tokens[id], id);
            }

            writer.WriteEndObject();
        }

        stream.WriteByte((byte)'\n');
    }

    /// <summary>merges.txt: "#version: 0.2", then one "left right" pair per line by rank.</summary>
    public void WriteMerges(Stream stream)
    {
        var text = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in Merges)
        {
            text.Append(left).Append(' ').Append(right).Append('\n');
        }

        stream.Write(new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text.ToString()));
    }
}
